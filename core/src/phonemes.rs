//! IPA phonemes to the ids a Piper voice was trained on.
//!
//! Piper's rule: the BOS ids and the PAD ids, then every code point of the NFD-normalised
//! phoneme string followed by the PAD ids, then the EOS ids (`^ _ h _ ə _ … $`, as
//! piper-phonemize's `phoneme_ids_espeak` made the training data and piper-tts does). Code points the voice does not know are skipped
//! and reported back, never a panic.

use alloc::vec::Vec;
use core::ops::Range;
use unicode_normalization::UnicodeNormalization;

use crate::config::{VoiceConfig, BOS, EOS, PAD};
use crate::Error;

/// The most phoneme ids one utterance may have. The encoder's attention is quadratic in this
/// length; longer text must be segmented first.
pub const MAX_IDS: usize = 4096;

/// Phoneme ids for one utterance, with what had to be skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhonemeIds {
    /// The ids, BOS and EOS included.
    pub ids: Vec<i64>,
    /// Code points that are not in the voice's map, in order of appearance (a warning for the
    /// caller to show, not an error).
    pub skipped: Vec<char>,
    /// For each word (a run of phonemes between spaces and punctuation), the range of its ids.
    pub words: Vec<Range<usize>>,
}

impl PhonemeIds {
    /// Maps an IPA string to ids as Piper does.
    pub fn from_ipa(config: &VoiceConfig, ipa: &str) -> Result<PhonemeIds, Error> {
        let map = &config.phoneme_id_map;
        // from_json guarantees BOS, EOS and PAD are present.
        let ids_of = |c: char| map.get(&c).map(Vec::as_slice).unwrap_or(&[]);
        let mut ids = Vec::with_capacity(2 * ipa.len() + 2);
        let mut skipped = Vec::new();
        let mut spoken = 0usize;
        let mut words: Vec<Range<usize>> = Vec::new();
        let mut in_word = false;
        ids.extend_from_slice(ids_of(BOS));
        // The voice was trained with a PAD after BOS too: without it every utterance starts
        // on a sequence it never saw (and its durations drift from piper-tts's).
        ids.extend_from_slice(ids_of(PAD));
        for c in ipa.nfd() {
            match map.get(&c) {
                Some(p) => {
                    let at = ids.len();
                    ids.extend_from_slice(p);
                    ids.extend_from_slice(ids_of(PAD));
                    let is_word = !(c.is_whitespace() || c.is_ascii_punctuation() || "¡¿—–…«»“”".contains(c));
                    match (is_word, in_word, words.last_mut()) {
                        (true, true, Some(w)) => w.end = ids.len(),
                        (true, _, _) => words.push(at..ids.len()),
                        _ => {}
                    }
                    in_word = is_word;
                    if is_word {
                        spoken += 1;
                    }
                }
                None => skipped.push(c),
            }
            if ids.len() > MAX_IDS {
                return Err(Error::TooLong { what: "phoneme ids", len: ids.len(), max: MAX_IDS });
            }
        }
        ids.extend_from_slice(ids_of(EOS));
        if spoken == 0 {
            return Err(Error::Empty);
        }
        Ok(PhonemeIds { ids, skipped, words })
    }

    /// Checks ids that came from elsewhere (an API caller) against the voice.
    pub fn from_ids(config: &VoiceConfig, ids: Vec<i64>) -> Result<PhonemeIds, Error> {
        let max = config.max_phoneme_id();
        if ids.is_empty() {
            return Err(Error::Empty);
        }
        if ids.len() > MAX_IDS {
            return Err(Error::TooLong { what: "phoneme ids", len: ids.len(), max: MAX_IDS });
        }
        if ids.iter().any(|&id| id < 0 || id > max) {
            return Err(Error::ConfigInvalid("phoneme id outside the voice's map"));
        }
        let words = alloc::vec![1.min(ids.len())..ids.len().saturating_sub(1).max(1)];
        Ok(PhonemeIds { ids, skipped: Vec::new(), words })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn config() -> VoiceConfig {
        let json = r#"{"audio":{"sample_rate":22050},"phoneme_id_map":{
            "_":[0],"^":[1],"$":[2]," ":[3],"h":[20],"ə":[59],"l":[24],"o":[27],"ʊ":[100],
            "ˈ":[120],"e":[18],",":[8],".":[10],"\u0303":[140]}}"#;
        VoiceConfig::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn ids_follow_piper_layout() {
        let p = PhonemeIds::from_ipa(&config(), "həˈloʊ").unwrap();
        assert_eq!(p.ids, vec![1, 0, 20, 0, 59, 0, 120, 0, 24, 0, 27, 0, 100, 0, 2]);
        assert!(p.skipped.is_empty());
    }

    #[test]
    fn words_are_id_ranges_between_spaces_and_punctuation() {
        let p = PhonemeIds::from_ipa(&config(), "hə lo, ˈhe.").unwrap();
        // ^ _ h _ ə _ ␠ _ l _ o _ , _ ␠ _ ˈ _ h _ e _ . _ $
        assert_eq!(p.words, vec![2..6, 8..12, 16..22]);
    }

    #[test]
    fn input_is_nfd_normalised() {
        // U+1EBD (ẽ) decomposes to e + combining tilde, both known to the voice.
        let p = PhonemeIds::from_ipa(&config(), "\u{1EBD}").unwrap();
        assert_eq!(p.ids, vec![1, 0, 18, 0, 140, 0, 2]);
    }

    #[test]
    fn unknown_phonemes_are_skipped_and_reported() {
        let p = PhonemeIds::from_ipa(&config(), "hǂo").unwrap();
        assert_eq!(p.ids, vec![1, 0, 20, 0, 27, 0, 2]);
        assert_eq!(p.skipped, vec!['ǂ']);
    }

    #[test]
    fn nothing_speakable_is_an_error() {
        assert!(matches!(PhonemeIds::from_ipa(&config(), ""), Err(Error::Empty)));
        assert!(matches!(PhonemeIds::from_ipa(&config(), "   ǂǂ"), Err(Error::Empty)));
    }

    #[test]
    fn overlong_input_is_an_error() {
        let long: alloc::string::String = core::iter::repeat_n('h', MAX_IDS).collect();
        assert!(matches!(PhonemeIds::from_ipa(&config(), &long), Err(Error::TooLong { .. })));
    }

    #[test]
    fn raw_ids_are_checked() {
        let c = config();
        assert!(PhonemeIds::from_ids(&c, vec![1, 20, 2]).is_ok());
        assert!(PhonemeIds::from_ids(&c, vec![1, 999, 2]).is_err());
        assert!(PhonemeIds::from_ids(&c, vec![-1]).is_err());
        assert!(PhonemeIds::from_ids(&c, vec![]).is_err());
    }
}
