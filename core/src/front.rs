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
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// The whole front end on any text: no panic, bounded output, same answer every time,
        /// and only phonemes, stress marks, spaces and prosody punctuation come out.
        #[test]
        fn any_text_gives_bounded_ipa(text in any::<String>()) {
            check(&text)?;
        }

        #[test]
        fn messy_text_gives_bounded_ipa(text in r#"[a-zA-Z0-9 .,;:!?$€£%&@#/+='"()–—…\u{a0}\u{1F600}-]{0,300}"#) {
            check(&text)?;
        }
    }

    fn check(text: &str) -> Result<(), TestCaseError> {
        let ipa = ENGLISH.ipa(text);
        prop_assert!(ipa.len() <= 64 * text.len() + 64, "{} bytes from {} bytes", ipa.len(), text.len());
        prop_assert_eq!(&ipa, &ENGLISH.ipa(text));
        prop_assert!(!ipa.chars().any(|c| c.is_ascii_digit() || c.is_control()), "{ipa:?}");
        Ok(())
    }

    #[test]
    fn numbers_and_abbreviations_reach_the_phonemes_as_words() {
        let ipa = ENGLISH.ipa("Dr. Smith paid $3.");
        assert!(ipa.contains("dˈɑːktɚ"), "{ipa}");
        assert!(ipa.contains("θɹˈiː dˈɑːlɚz"), "{ipa}");
        assert!(ipa.ends_with('.'), "{ipa}");
    }
}
