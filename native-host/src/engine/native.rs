//! The core compiled for this machine.

use std::sync::Arc;

use parla_core::chunk::Chunking;
use parla_core::infer::{LoadOptions, Synthesis, Voice};
use parla_core::phonemes::PhonemeIds;

use super::{Engine, EngineKind, Request, Started};
use crate::error::HostError;

/// A voice loaded natively.
pub struct NativeEngine {
    voice: Arc<Voice>,
    current: Option<Synthesis>,
}

impl NativeEngine {
    /// Loads a voice from its bytes.
    pub fn load(onnx: &[u8], config: &[u8], chunking: Chunking) -> Result<NativeEngine, HostError> {
        let voice = Voice::load(onnx, config, &LoadOptions::new(chunking))?;
        Ok(NativeEngine { voice, current: None })
    }

    /// An engine on a voice that is already loaded (its weights are shared, not copied).
    pub fn from_voice(voice: Arc<Voice>) -> NativeEngine {
        NativeEngine { voice, current: None }
    }

    /// The loaded voice.
    pub fn voice(&self) -> &Arc<Voice> {
        &self.voice
    }
}

impl Engine for NativeEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Native
    }

    fn sample_rate(&self) -> u32 {
        self.voice.sample_rate()
    }

    fn hop(&self) -> usize {
        self.voice.hop()
    }

    fn start(&mut self, ipa: &str, request: &Request) -> Result<Started, HostError> {
        self.current = None;
        let ids = PhonemeIds::from_ipa(self.voice.config(), ipa)?;
        let synth = self.voice.synthesize(&ids, request)?;
        let started = Started {
            frames: synth.frames(),
            durations: synth.durations().to_vec(),
            skipped: ids.skipped.iter().collect(),
        };
        self.current = Some(synth);
        Ok(started)
    }

    fn next_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool, HostError> {
        let Some(synth) = self.current.as_mut() else { return Ok(false) };
        match synth.next_chunk() {
            Some(chunk) => {
                *out = chunk?.samples;
                Ok(true)
            }
            None => {
                self.current = None;
                Ok(false)
            }
        }
    }
}
