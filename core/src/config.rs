//! Piper voice configuration (`<voice>.onnx.json`).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;

use crate::Error;

/// Beginning-of-utterance phoneme.
pub const BOS: char = '^';
/// End-of-utterance phoneme.
pub const EOS: char = '$';
/// Padding placed after every phoneme.
pub const PAD: char = '_';

/// The parts of a Piper voice config that synthesis needs.
#[derive(Debug, Clone)]
pub struct VoiceConfig {
    /// Output sample rate in Hz.
    pub sample_rate: u32,
    /// Default synthesis scales from the config's `inference` section.
    pub scales: Scales,
    /// How many speakers a multi-speaker voice has (1 for single-speaker voices).
    pub num_speakers: u32,
    /// Speaker names to ids, for multi-speaker voices.
    pub speaker_id_map: BTreeMap<String, u32>,
    /// Each phoneme (one Unicode scalar) to its ids.
    pub phoneme_id_map: BTreeMap<char, Vec<i64>>,
    /// The espeak voice the phonemes were made with (e.g. `en-us`), if given.
    pub espeak_voice: Option<String>,
}

/// The three VITS synthesis scales.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scales {
    /// Scale of the noise added to the prior (`z_p`): variation in timbre.
    pub noise_scale: f32,
    /// Phoneme duration multiplier: > 1 speaks slower.
    pub length_scale: f32,
    /// Scale of the duration predictor's noise: variation in rhythm.
    pub noise_w: f32,
}

impl Default for Scales {
    fn default() -> Self {
        Scales { noise_scale: 0.667, length_scale: 1.0, noise_w: 0.8 }
    }
}

impl Scales {
    /// Checks every scale is finite and within the range the model is sane in.
    pub fn validate(&self) -> Result<(), Error> {
        check("noise-scale", self.noise_scale, 0.0, 2.0)?;
        check("length-scale", self.length_scale, 0.05, 20.0)?;
        check("noise-w", self.noise_w, 0.0, 2.0)
    }
}

fn check(name: &'static str, value: f32, min: f32, max: f32) -> Result<(), Error> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(Error::Param { name, value, min, max })
    }
}

#[derive(Deserialize)]
struct Raw {
    audio: RawAudio,
    #[serde(default)]
    inference: Option<RawInference>,
    #[serde(default)]
    num_speakers: Option<u32>,
    #[serde(default)]
    speaker_id_map: BTreeMap<String, u32>,
    phoneme_id_map: BTreeMap<String, Vec<i64>>,
    #[serde(default)]
    espeak: Option<RawEspeak>,
}

#[derive(Deserialize)]
struct RawAudio {
    sample_rate: u32,
}

#[derive(Deserialize)]
struct RawInference {
    noise_scale: Option<f32>,
    length_scale: Option<f32>,
    noise_w: Option<f32>,
}

#[derive(Deserialize)]
struct RawEspeak {
    voice: Option<String>,
}

impl VoiceConfig {
    /// Parses a Piper `.onnx.json` file's bytes.
    pub fn from_json(bytes: &[u8]) -> Result<VoiceConfig, Error> {
        let raw: Raw = serde_json::from_slice(bytes).map_err(Error::ConfigJson)?;
        if !(8000..=192_000).contains(&raw.audio.sample_rate) {
            return Err(Error::ConfigInvalid("audio.sample_rate must be 8000..=192000 Hz"));
        }
        let defaults = Scales::default();
        let scales = match raw.inference {
            Some(i) => Scales {
                noise_scale: i.noise_scale.unwrap_or(defaults.noise_scale),
                length_scale: i.length_scale.unwrap_or(defaults.length_scale),
                noise_w: i.noise_w.unwrap_or(defaults.noise_w),
            },
            None => defaults,
        };
        scales.validate().map_err(|_| Error::ConfigInvalid("inference scales out of range"))?;

        let mut phoneme_id_map = BTreeMap::new();
        for (key, ids) in raw.phoneme_id_map {
            let mut chars = key.chars();
            // Piper keys are single code points; anything else can never match a phoneme.
            if let (Some(c), None) = (chars.next(), chars.next()) {
                if ids.iter().any(|&id| id < 0) {
                    return Err(Error::ConfigInvalid("phoneme_id_map has a negative id"));
                }
                phoneme_id_map.insert(c, ids);
            }
        }
        for needed in [BOS, EOS, PAD] {
            if phoneme_id_map.get(&needed).is_none_or(|ids| ids.is_empty()) {
                return Err(Error::ConfigInvalid("phoneme_id_map lacks one of '^', '$', '_'"));
            }
        }
        let num_speakers = raw.num_speakers.unwrap_or(1).max(1);
        Ok(VoiceConfig {
            sample_rate: raw.audio.sample_rate,
            scales,
            num_speakers,
            speaker_id_map: raw.speaker_id_map,
            phoneme_id_map,
            espeak_voice: raw.espeak.and_then(|e| e.voice),
        })
    }

    /// The largest phoneme id the config uses.
    pub fn max_phoneme_id(&self) -> i64 {
        self.phoneme_id_map.values().flatten().copied().max().unwrap_or(0)
    }

    /// Checks a speaker id against the voice.
    pub fn check_speaker(&self, speaker: u32) -> Result<(), Error> {
        if speaker < self.num_speakers {
            Ok(())
        } else {
            Err(Error::UnknownSpeaker { speaker, speakers: self.num_speakers })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"audio":{"sample_rate":22050},
        "phoneme_id_map":{"_":[0],"^":[1],"$":[2]," ":[3],"a":[14],"ab":[99]}}"#;

    #[test]
    fn minimal_config_takes_defaults() {
        let c = VoiceConfig::from_json(MINIMAL.as_bytes()).unwrap();
        assert_eq!(c.sample_rate, 22050);
        assert_eq!(c.scales, Scales::default());
        assert_eq!(c.num_speakers, 1);
        assert_eq!(c.phoneme_id_map.get(&'a'), Some(&alloc::vec![14]));
        // Multi-character keys can never match a phoneme and are dropped.
        assert_eq!(c.phoneme_id_map.len(), 5);
        assert_eq!(c.max_phoneme_id(), 14);
    }

    #[test]
    fn inference_scales_are_read() {
        let json = r#"{"audio":{"sample_rate":16000},"num_speakers":4,
            "inference":{"noise_scale":0.5,"length_scale":1.2,"noise_w":0.3},
            "phoneme_id_map":{"_":[0],"^":[1],"$":[2]}}"#;
        let c = VoiceConfig::from_json(json.as_bytes()).unwrap();
        assert_eq!(c.scales, Scales { noise_scale: 0.5, length_scale: 1.2, noise_w: 0.3 });
        assert_eq!(c.num_speakers, 4);
        assert!(c.check_speaker(3).is_ok());
        assert!(matches!(c.check_speaker(4), Err(Error::UnknownSpeaker { speaker: 4, speakers: 4 })));
    }

    #[test]
    fn broken_configs_are_errors() {
        for bad in [
            "",
            "{",
            "[]",
            r#"{"audio":{}}"#,
            r#"{"audio":{"sample_rate":22050}}"#,
            r#"{"audio":{"sample_rate":22050},"phoneme_id_map":{"a":[1]}}"#,
            r#"{"audio":{"sample_rate":5},"phoneme_id_map":{"_":[0],"^":[1],"$":[2]}}"#,
            r#"{"audio":{"sample_rate":22050},"phoneme_id_map":{"_":[-1],"^":[1],"$":[2]}}"#,
            r#"{"audio":{"sample_rate":22050},"inference":{"noise_scale":-1},
                "phoneme_id_map":{"_":[0],"^":[1],"$":[2]}}"#,
        ] {
            assert!(VoiceConfig::from_json(bad.as_bytes()).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn scales_reject_nan_and_extremes() {
        let mut s = Scales::default();
        assert!(s.validate().is_ok());
        s.length_scale = f32::NAN;
        assert!(matches!(s.validate(), Err(Error::Param { name: "length-scale", .. })));
        s.length_scale = 1.0;
        s.noise_w = 3.0;
        assert!(matches!(s.validate(), Err(Error::Param { name: "noise-w", .. })));
    }
}
