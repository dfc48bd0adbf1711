//! The voices a server offers: every Piper voice in a folder, by file stem (`en_US-joe-medium`),
//! by the speaker-name part of the stem (`joe`), and by OpenAI's voice names (the default voice).

use std::collections::HashMap;
use std::path::Path;

use parla_core::config::VoiceConfig;
use serde::Serialize;

use crate::error::HostError;
use crate::voice_files::{VoiceFiles, DEFAULT_VOICE};

/// OpenAI's voice names; each one speaks with the default voice.
pub const OPENAI_VOICES: &[&str] =
    &["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"];

/// One voice on disk, with what its config says.
#[derive(Debug)]
pub struct VoiceEntry {
    /// The file stem, e.g. `en_US-joe-medium`.
    pub id: String,
    /// The short name, e.g. `joe`, when no other voice claims it.
    pub alias: Option<String>,
    /// The model and its config.
    pub files: VoiceFiles,
    /// The parsed config (sample rate, default scales, speakers, phoneme map).
    pub config: VoiceConfig,
}

/// What `GET /v1/voices` says about a voice.
#[derive(Debug, Serialize)]
pub struct VoiceSummary<'a> {
    /// The file stem.
    pub id: &'a str,
    /// Every name it answers to.
    pub names: Vec<&'a str>,
    /// Output sample rate in Hz.
    pub sample_rate: u32,
    /// Number of speakers (1 for single-speaker voices).
    pub speakers: u32,
    /// Speaker names, when the voice has a map of them.
    pub speaker_names: Vec<&'a str>,
    /// The espeak voice its phonemes were made with.
    pub language: Option<&'a str>,
    /// Whether OpenAI's voice names map to it.
    pub default: bool,
}

/// Every voice the server offers, and the names they answer to.
#[derive(Debug)]
pub struct Registry {
    voices: Vec<VoiceEntry>,
    default: usize,
    names: HashMap<String, usize>,
}

impl Registry {
    /// Reads every `*.onnx` with an `.onnx.json` beside it in `dir`.
    pub fn scan(dir: &Path) -> Result<Registry, HostError> {
        let mut voices = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(HostError::io(dir))? {
            let path = entry.map_err(HostError::io(dir))?.path();
            if path.extension().is_none_or(|e| e != "onnx") {
                continue;
            }
            let files = VoiceFiles::from_path(&path);
            if !files.config.is_file() {
                tracing::warn!(voice = %path.display(), "skipped: no .onnx.json beside it");
                continue;
            }
            let json = std::fs::read(&files.config).map_err(HostError::io(&files.config))?;
            let config = VoiceConfig::from_json(&json)?;
            voices.push(VoiceEntry { id: files.name(), alias: None, files, config });
        }
        Registry::new(voices).ok_or_else(|| HostError::NoVoice(dir.display().to_string()))
    }

    /// Names the voices (`None` when there are none).
    fn new(mut voices: Vec<VoiceEntry>) -> Option<Registry> {
        voices.sort_by(|a, b| a.id.cmp(&b.id));
        let default = voices.iter().position(|v| v.id == DEFAULT_VOICE).unwrap_or(0);
        voices.get(default)?;
        let mut names = HashMap::new();
        for (i, v) in voices.iter().enumerate() {
            names.insert(v.id.to_lowercase(), i);
        }
        // `lang-name-quality`: the name part, if it is not someone's id and only one voice has it.
        let mut alias_count: HashMap<String, usize> = HashMap::new();
        for v in &voices {
            if let Some(a) = short_name(&v.id) {
                *alias_count.entry(a).or_default() += 1;
            }
        }
        for (i, v) in voices.iter_mut().enumerate() {
            let alias = short_name(&v.id).filter(|a| alias_count[a] == 1 && !names.contains_key(a));
            if let Some(a) = &alias {
                names.insert(a.clone(), i);
            }
            v.alias = alias;
        }
        for n in OPENAI_VOICES {
            names.entry(n.to_string()).or_insert(default);
        }
        Some(Registry { voices, default, names })
    }

    /// The voice a name stands for (case-insensitive).
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.get(&name.trim().to_lowercase()).copied()
    }

    /// Voice number `i`.
    pub fn get(&self, i: usize) -> &VoiceEntry {
        &self.voices[i]
    }

    /// All voices, in order.
    pub fn all(&self) -> &[VoiceEntry] {
        &self.voices
    }

    /// The voice OpenAI's names map to.
    pub fn default_voice(&self) -> usize {
        self.default
    }

    /// What `GET /v1/voices` lists.
    pub fn summaries(&self) -> Vec<VoiceSummary<'_>> {
        self.voices
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut names = vec![v.id.as_str()];
                names.extend(v.alias.as_deref());
                if i == self.default {
                    names.extend(OPENAI_VOICES.iter().copied());
                }
                VoiceSummary {
                    id: &v.id,
                    names,
                    sample_rate: v.config.sample_rate,
                    speakers: v.config.num_speakers.max(1),
                    speaker_names: v.config.speaker_id_map.keys().map(String::as_str).collect(),
                    language: v.config.espeak_voice.as_deref(),
                    default: i == self.default,
                }
            })
            .collect()
    }
}

/// `en_US-joe-medium` → `joe`.
fn short_name(id: &str) -> Option<String> {
    let mut parts = id.split('-');
    let (_lang, name) = (parts.next()?, parts.next()?);
    (!name.is_empty()).then(|| name.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> VoiceEntry {
        let json = br#"{"audio":{"sample_rate":22050},"num_speakers":1,"phoneme_id_map":{"^":[1],"$":[2],"_":[0]}}"#;
        VoiceEntry {
            id: id.into(),
            alias: None,
            files: VoiceFiles::from_path(Path::new(&format!("{id}.onnx"))),
            config: VoiceConfig::from_json(json).expect("minimal config"),
        }
    }

    #[test]
    fn names_aliases_and_openai_voices() {
        let r = Registry::new(vec![entry("en_US-lessac-low"), entry("en_US-joe-medium"), entry("en_GB-joe-high")]).unwrap();
        let joe = r.find("en_US-joe-medium").unwrap();
        assert_eq!(r.default_voice(), joe);
        assert_eq!(r.find("EN_us-JOE-medium"), Some(joe));
        // Two voices are called joe: neither gets the alias.
        assert_eq!(r.find("joe"), None);
        assert_eq!(r.find("lessac"), r.find("en_US-lessac-low"));
        assert_eq!(r.find("alloy"), Some(joe));
        assert_eq!(r.find("nobody"), None);
        assert!(Registry::new(Vec::new()).is_none());
    }
}
