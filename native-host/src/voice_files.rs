//! Finding a voice's files: `--voice`, `$PARLA_VOICE`, or the default voice fetched by setup.

use std::path::{Path, PathBuf};

use crate::error::HostError;

/// The voice used when none is named.
pub const DEFAULT_VOICE: &str = "en_US-joe-medium";

/// A Piper voice on disk: the model and its config.
#[derive(Debug, Clone)]
pub struct VoiceFiles {
    /// `<name>.onnx`
    pub onnx: PathBuf,
    /// `<name>.onnx.json`
    pub config: PathBuf,
}

impl VoiceFiles {
    /// The pair for a path to either file.
    pub fn from_path(p: &Path) -> VoiceFiles {
        let s = p.to_string_lossy();
        let onnx = match s.strip_suffix(".json") {
            Some(stem) if stem.ends_with(".onnx") => PathBuf::from(stem),
            _ => p.to_path_buf(),
        };
        let mut config = onnx.clone().into_os_string();
        config.push(".json");
        VoiceFiles { onnx, config: config.into() }
    }

    /// The voice's name: the model's file name without `.onnx`.
    pub fn name(&self) -> String {
        let f = self.onnx.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        f.strip_suffix(".onnx").unwrap_or(&f).to_string()
    }

    /// Reads both files.
    pub fn read(&self) -> Result<(Vec<u8>, Vec<u8>), HostError> {
        let onnx = std::fs::read(&self.onnx).map_err(HostError::io(&self.onnx))?;
        let config = std::fs::read(&self.config).map_err(HostError::io(&self.config))?;
        Ok((onnx, config))
    }
}

/// Folders searched for voices, in order: `$PARLA_VOICES_DIR`, `./models/voices`, and the
/// `models/voices` of the source tree this binary was built from.
pub fn voice_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("PARLA_VOICES_DIR") {
        dirs.push(PathBuf::from(d));
    }
    dirs.push(PathBuf::from("models/voices"));
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/voices"));
    dirs
}

/// Resolves the voice to use.
pub fn resolve(arg: Option<&Path>) -> Result<VoiceFiles, HostError> {
    if let Some(p) = arg {
        return Ok(VoiceFiles::from_path(p));
    }
    if let Some(p) = std::env::var_os("PARLA_VOICE") {
        return Ok(VoiceFiles::from_path(Path::new(&p)));
    }
    let dirs = voice_dirs();
    dirs.iter()
        .map(|d| d.join(format!("{DEFAULT_VOICE}.onnx")))
        .find(|p| p.is_file())
        .map(|p| VoiceFiles::from_path(&p))
        .ok_or_else(|| {
            HostError::NoVoice(dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_file_names_the_pair() {
        for p in ["v/en.onnx", "v/en.onnx.json"] {
            let f = VoiceFiles::from_path(Path::new(p));
            assert_eq!(f.onnx, Path::new("v/en.onnx"));
            assert_eq!(f.config, Path::new("v/en.onnx.json"));
            assert_eq!(f.name(), "en");
        }
    }
}
