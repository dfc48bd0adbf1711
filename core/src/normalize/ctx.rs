//! Where a reader stands: the chunks of the text, which one is being read, and what the
//! text is like (shouting). Readers look at neighbours through it and say how much they took.

use super::tokens::Chunk;

/// A reader's view of the text.
pub(crate) struct Ctx<'t, 'a> {
    /// All chunks of the text.
    pub chunks: &'t [Chunk<'a>],
    /// The chunk being read.
    pub i: usize,
    /// Most words are in capitals.
    pub shouting: bool,
}

/// What a reader consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Took {
    /// Chunks read, from the current one (at least one).
    pub chunks: usize,
    /// The last chunk's trailing period was part of what was read (an abbreviation's).
    pub period: bool,
}

impl Took {
    /// `n` chunks, periods left alone.
    pub(crate) fn chunks(n: usize) -> Self {
        Took {
            chunks: n,
            period: false,
        }
    }
}

impl<'a> Ctx<'_, 'a> {
    /// The chunk being read.
    pub(crate) fn cur(&self) -> Chunk<'a> {
        self.chunks[self.i]
    }

    /// The chunk `k` after the current one.
    pub(crate) fn ahead(&self, k: usize) -> Option<Chunk<'a>> {
        self.chunks.get(self.i + k).copied()
    }

    /// The chunk before, any punctuation between.
    pub(crate) fn behind(&self, k: usize) -> Option<Chunk<'a>> {
        self.i.checked_sub(k).map(|j| self.chunks[j])
    }

    /// The next chunk, if no punctuation stands between.
    pub(crate) fn next(&self) -> Option<Chunk<'a>> {
        self.ahead(1)
            .filter(|n| self.cur().trail.is_empty() && n.lead.is_empty())
    }

    /// The previous chunk, if no punctuation stands between.
    pub(crate) fn prev(&self) -> Option<Chunk<'a>> {
        self.behind(1)
            .filter(|p| p.trail.is_empty() && self.cur().lead.is_empty())
    }

    /// Whether the period of an abbreviation `k` chunks ahead also ends the sentence: the
    /// text ends there, or a word that usually opens a sentence follows ("Acme Inc. The").
    pub(crate) fn period_ends_sentence(&self, k: usize) -> bool {
        match self.ahead(k + 1) {
            None => true,
            Some(n) => OPENERS.contains(&n.core),
        }
    }
}

/// Words that usually open a sentence.
const OPENERS: &[&str] = &[
    "The", "A", "An", "I", "We", "You", "He", "She", "It", "They", "This", "That", "These",
    "Those", "There", "Then", "But", "And", "So", "Or", "In", "On", "At", "For", "If", "When",
    "What", "Why", "How", "Who", "Where", "My", "Our", "Its", "His", "Her", "Their", "Now", "Yes",
    "No", "After", "Before", "As", "Some", "All", "Many", "Most", "Today",
];

/// Begins with a capital letter.
pub(crate) fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

/// A capitalised word with some lowercase ("Henry", not "HENRY" or "henry").
pub(crate) fn capitalised(s: &str) -> bool {
    starts_upper(s)
        && s.chars().skip(1).any(char::is_lowercase)
        && s.chars().all(char::is_alphabetic)
}
