//! The output buffer: words separated by single spaces, prosody punctuation (`, . ! ? ; :`)
//! attached to the word before it, never two marks in a row and never a mark first.

use alloc::string::String;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Last {
    Nothing,
    Word,
    Mark(char),
}

/// How strongly a mark cuts: when two meet, the stronger one stays.
fn strength(c: char) -> u8 {
    match c {
        '.' | '!' | '?' => 3,
        ';' | ':' => 2,
        _ => 1,
    }
}

/// Appends words and marks to a caller's string.
pub(crate) struct Out<'a> {
    buf: &'a mut String,
    last: Last,
}

impl<'a> Out<'a> {
    /// Writes after whatever `buf` already holds (a space goes between).
    pub(crate) fn new(buf: &'a mut String) -> Self {
        Out {
            buf,
            last: Last::Nothing,
        }
    }

    /// One word: letters and apostrophes only (callers make sure of it).
    pub(crate) fn word(&mut self, w: &str) {
        if w.is_empty() {
            return;
        }
        if !self.buf.is_empty() && !self.buf.ends_with(' ') {
            self.buf.push(' ');
        }
        self.buf.push_str(w);
        self.last = Last::Word;
    }

    /// Several words written as one string with single spaces ("miles per hour").
    pub(crate) fn words(&mut self, ws: &str) {
        ws.split(' ').for_each(|w| self.word(w));
    }

    /// Glues `s` to the last word ("C D" + "'s"); nothing if the last thing was not a word.
    pub(crate) fn suffix(&mut self, s: &str) {
        if self.last == Last::Word {
            self.buf.push_str(s);
        }
    }

    /// A prosody mark after the last word. Dropped at the start; of two marks in a row the
    /// stronger stays.
    pub(crate) fn mark(&mut self, c: char) {
        match self.last {
            Last::Nothing => {}
            Last::Word => {
                self.buf.push(c);
                self.last = Last::Mark(c);
            }
            Last::Mark(p) => {
                if strength(c) > strength(p) {
                    self.buf.pop();
                    self.buf.push(c);
                    self.last = Last::Mark(c);
                }
            }
        }
    }

    /// A short pause: a comma.
    pub(crate) fn pause(&mut self) {
        self.mark(',');
    }

    /// Whether the next word would begin a sentence.
    pub(crate) fn sentence_start(&self) -> bool {
        matches!(self.last, Last::Nothing | Last::Mark('.' | '!' | '?'))
    }

    /// Punctuation that stood before a word: opening brackets become a pause, stray marks
    /// keep their meaning (a run of dots is an ellipsis, a pause); quotes vanish.
    pub(crate) fn lead(&mut self, s: &str) {
        if s.contains("..") {
            self.pause();
        }
        for c in s.chars() {
            match c {
                '(' | '[' | '{' | '<' => self.pause(),
                ',' | ';' | ':' | '!' | '?' => self.mark(c),
                '.' if !s.contains("..") => self.mark('.'),
                _ => {}
            }
        }
    }

    /// Punctuation after a word: marks stay, closing brackets become a pause, an ellipsis is a
    /// pause (a full stop at the very end), quotes vanish. With `eat_period` the first `.`
    /// belonged to an abbreviation and is not spoken.
    pub(crate) fn trail(&mut self, s: &str, at_end: bool, eat_period: bool) {
        let s = match (eat_period, s.strip_prefix('.')) {
            (true, Some(rest)) => rest,
            _ => s,
        };
        let ellipsis = s.contains("..");
        for c in s.chars() {
            match c {
                ')' | ']' | '}' | '>' => self.pause(),
                ',' | ';' | ':' | '!' | '?' => self.mark(c),
                '.' if ellipsis => self.mark(if at_end { '.' } else { ',' }),
                '.' => self.mark('.'),
                _ => {}
            }
        }
    }
}

/// What `f` writes, as a string (for tests).
#[cfg(test)]
pub(crate) fn render(f: impl FnOnce(&mut Out)) -> String {
    let mut s = String::new();
    f(&mut Out::new(&mut s));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    use render as run;

    #[test]
    fn words_get_single_spaces_and_marks_attach() {
        assert_eq!(
            run(|o| {
                o.word("Hello");
                o.mark(',');
                o.words("big world");
                o.mark('.')
            }),
            "Hello, big world."
        );
    }

    #[test]
    fn marks_never_lead_or_double() {
        assert_eq!(
            run(|o| {
                o.mark('.');
                o.word("a");
                o.pause();
                o.mark('.');
                o.mark(',')
            }),
            "a."
        );
    }

    #[test]
    fn suffix_glues_to_a_word_only() {
        assert_eq!(
            run(|o| {
                o.suffix("'s");
                o.word("D");
                o.suffix("'s")
            }),
            "D's"
        );
    }

    #[test]
    fn brackets_pause_quotes_vanish_ellipsis_pauses() {
        assert_eq!(
            run(|o| {
                o.word("a");
                o.lead("(\"");
                o.word("b");
                o.trail("\")...", false, false);
                o.word("c");
                o.trail("...", true, false)
            }),
            "a, b, c."
        );
    }

    #[test]
    fn an_abbreviation_eats_its_period() {
        assert_eq!(
            run(|o| {
                o.word("doctor");
                o.trail(".", false, true);
                o.word("Who");
                o.trail(".", true, false)
            }),
            "doctor Who."
        );
    }

    #[test]
    fn appends_after_existing_text() {
        let mut s = String::from("Hi.");
        Out::new(&mut s).word("there");
        assert_eq!(s, "Hi. there");
    }
}
