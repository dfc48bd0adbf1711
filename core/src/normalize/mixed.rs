//! The reader of last resort: a chunk taken piece by piece. Runs of letters are words (or
//! spelled), runs of digits numbers ("COVID-19" → COVID nineteen, "mp3" → M P three, "A4" → A
//! four, "2+2=4" → two plus two equals four, "1920x1080" → … by …), symbols are said
//! ("AT&T" → A T and T), separators ("-", "/", "_") fall silent, marks inside ("a,b") stay.

use super::acronyms;
use super::numbers::{self, ordinal};
use super::out::Out;
use super::symbols;
use unicode_normalization::char::is_combining_mark;

/// A letter, or a mark that rides on one.
fn lettery(c: char) -> bool {
    c.is_alphabetic() || is_combining_mark(c)
}

/// Bytes of the word at the start of `s`: letters, with apostrophes between letters.
fn word_len(s: &str) -> usize {
    let mut end = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let inner_apostrophe =
            c == '\'' && end > 0 && it.peek().is_some_and(|&(_, n)| n.is_alphabetic());
        if !(lettery(c) || inner_apostrophe) {
            break;
        }
        end = i + c.len_utf8();
    }
    end
}

/// Reads `s` piece by piece.
pub(crate) fn read(s: &str, shouting: bool, out: &mut Out) {
    let mut rest = s;
    let mut prev: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        let next = rest[c.len_utf8()..].chars().next();
        let digit_next = next.is_some_and(|n| n.is_ascii_digit());
        let alnum_prev = prev.is_some_and(char::is_alphanumeric);
        if c.is_ascii_digit() || (c == '.' && digit_next && !alnum_prev) {
            let (num, n) = numbers::parse(rest).unwrap_or((
                numbers::Num {
                    int: "",
                    frac: None,
                },
                1,
            ));
            rest = &rest[n..];
            let suffix = rest
                .get(..2)
                .filter(|x| matches!(*x, "st" | "nd" | "rd" | "th"));
            let ends = rest
                .get(2..3)
                .is_none_or(|x| !x.starts_with(|c: char| c.is_alphabetic()));
            match (suffix, num.whole()) {
                (Some(_), Some(v)) if ends => {
                    ordinal(v, out);
                    rest = &rest[2..];
                }
                _ => num.read(out),
            }
            prev = Some('0');
            continue;
        }
        if lettery(c) {
            let n = word_len(rest).max(c.len_utf8());
            let w = &rest[..n];
            rest = &rest[n..];
            if w == "x"
                && prev.is_some_and(|p| p.is_ascii_digit())
                && rest.starts_with(|c: char| c.is_ascii_digit())
            {
                out.word("by");
            } else {
                acronyms::word(w, shouting, out);
            }
            prev = Some('a');
            continue;
        }
        if c == '-' && prev.is_none() && digit_next {
            out.word("minus");
        } else if c == '.' && prev.is_some_and(|p| p.is_ascii_digit()) && digit_next {
            // "2.0.1": a version reads point by point.
            out.word("point");
        } else if c == '.' && alnum_prev && next.is_some_and(char::is_alphanumeric) {
            out.word("dot");
        } else if let Some(w) = symbols::name(c, next) {
            out.words(w);
        } else if matches!(c, ',' | ';' | ':' | '!' | '?') {
            out.mark(c);
        }
        rest = &rest[c.len_utf8()..];
        prev = Some(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::out::render;
    use alloc::string::String;

    fn say(s: &str) -> String {
        render(|o| read(s, false, o))
    }

    #[test]
    fn numbers_glued_to_words() {
        assert_eq!(say("COVID-19"), "COVID nineteen");
        assert_eq!(say("mp3"), "M P three");
        assert_eq!(say("A4"), "A four");
        assert_eq!(say("B2B"), "B two B");
        assert_eq!(say("x86"), "x eighty six");
        assert_eq!(
            say("1920x1080"),
            "one thousand nine hundred twenty by one thousand eighty"
        );
        assert_eq!(say("4th-grade"), "fourth grade");
    }

    #[test]
    fn symbols_and_separators() {
        assert_eq!(say("AT&T"), "A T and T");
        assert_eq!(say("2+2=4"), "two plus two equals four");
        assert_eq!(say("and/or"), "and or");
        assert_eq!(say("well-known"), "well known");
        assert_eq!(say("#1"), "number one");
        assert_eq!(say("#rustlang"), "hashtag rustlang");
        assert_eq!(say("C++"), "C plus plus");
        assert_eq!(say("Node.js"), "Node dot J S");
        assert_eq!(say("a,b"), "a, b");
        assert_eq!(say("-x"), "x");
    }
}
