//! The text front end: written text → spoken-form words (normalize) → IPA (G2P). Streaming
//! callers time the two stages apart, so they are kept as two functions.

use alloc::string::String;

use crate::normalize::{English, Normalizer};

/// A language's front end.
#[derive(Debug, Clone, Copy)]
pub struct FrontEnd {
    /// Written text to spoken-form words, appended to the buffer.
    pub normalize: fn(&str, &mut String),
    /// Spoken-form words to IPA in the convention the voice was trained on.
    pub phonemize: fn(&str) -> String,
}

fn english_normalize(text: &str, out: &mut String) {
    English.normalize_into(text, out)
}

/// English (US): Parla's own normalizer, CMUdict lexicon, morphology and letter-to-sound rules.
pub const ENGLISH: FrontEnd = FrontEnd { normalize: english_normalize, phonemize: crate::g2p::english_ipa };

impl FrontEnd {
    /// The spoken form of `text`.
    pub fn normalized(&self, text: &str) -> String {
        let mut out = String::new();
        (self.normalize)(text, &mut out);
        out
    }

    /// Both stages at once.
    pub fn ipa(&self, text: &str) -> String {
        (self.phonemize)(&self.normalized(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_abbreviations_reach_the_phonemes_as_words() {
        let ipa = ENGLISH.ipa("Dr. Smith paid $3.");
        assert!(ipa.contains("dˈɑːktɚ"), "{ipa}");
        assert!(ipa.contains("θɹˈiː dˈɑːlɚz"), "{ipa}");
        assert!(ipa.ends_with('.'), "{ipa}");
    }
}
