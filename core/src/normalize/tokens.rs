//! Cuts cleaned text into chunks at spaces, and each chunk into the punctuation before it
//! (`lead`), what is read (`core`) and the punctuation after it (`trail`): `("$12.50),` is
//! `("` + `$12.50` + `),`.

use alloc::vec::Vec;

/// One space-free piece of text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Chunk<'a> {
    /// Opening brackets, quotes and stray marks before the core.
    pub lead: &'a str,
    /// What is read.
    pub core: &'a str,
    /// Closing brackets, quotes and marks after the core (`.` included: abbreviations look
    /// at it).
    pub trail: &'a str,
}

const OPEN: &[char] = &[
    '(', '[', '{', '<', '"', '\'', '*', '_', '¿', '¡', ',', ';', ':', '!', '?', '|', '.',
];
const CLOSE: &[char] = &[
    ')', ']', '}', '>', '"', '\'', '*', '_', ',', ';', ':', '!', '?', '.', '|',
];

impl<'a> Chunk<'a> {
    /// Splits one space-free piece.
    pub(crate) fn new(s: &'a str) -> Self {
        let b = s.as_bytes();
        // A leading '.' or '\'' before a digit belongs to the number (".5", "'90s").
        let keeps = |i: usize| b.get(i + 1).is_some_and(u8::is_ascii_digit);
        let mut a = 0;
        for (i, c) in s.char_indices() {
            if !OPEN.contains(&c) || (matches!(c, '.' | '\'') && keeps(i)) {
                break;
            }
            a = i + c.len_utf8();
        }
        let mut z = s.len();
        for (i, c) in s[a..].char_indices().rev() {
            if !CLOSE.contains(&c) {
                break;
            }
            z = a + i;
        }
        Chunk {
            lead: &s[..a],
            core: &s[a..z],
            trail: &s[z..],
        }
    }

    /// The trail starts with a period (an abbreviation's, or a sentence's end).
    pub(crate) fn dotted(&self) -> bool {
        self.trail.starts_with('.')
    }
}

/// Chunks of `text` (already cleaned: single spaces).
pub(crate) fn chunks(text: &str) -> Vec<Chunk<'_>> {
    text.split(' ')
        .filter(|s| !s.is_empty())
        .map(Chunk::new)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> (&str, &str, &str) {
        let c = Chunk::new(s);
        (c.lead, c.core, c.trail)
    }

    #[test]
    fn punctuation_is_peeled_off_both_ends() {
        assert_eq!(parts("(\"$12.50),"), ("(\"", "$12.50", "),"));
        assert_eq!(parts("Dr."), ("", "Dr", "."));
        assert_eq!(parts("U.S.A."), ("", "U.S.A", "."));
        assert_eq!(parts("don't"), ("", "don't", ""));
        assert_eq!(parts("...and"), ("...", "and", ""));
    }

    #[test]
    fn numbers_keep_their_leading_point_or_apostrophe() {
        assert_eq!(parts(".5"), ("", ".5", ""));
        assert_eq!(parts("'90s."), ("", "'90s", "."));
        assert_eq!(parts("-5"), ("", "-5", ""));
    }

    #[test]
    fn punctuation_only_chunks_have_no_core() {
        assert_eq!(parts("?!"), ("?!", "", ""));
        assert_eq!(parts("--"), ("", "--", ""));
        assert_eq!(chunks(" a  b ").len(), 2);
    }
}
