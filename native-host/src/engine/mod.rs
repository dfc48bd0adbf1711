//! Synthesis engines: the core run natively, or the wasm build of the core run in wasmtime.
//! Both take IPA and a [`Request`] and give audio chunk by chunk, so every caller (CLI, bench,
//! server) is written once.

pub mod native;
pub mod wasm;

pub use parla_core::infer::Request;

use crate::error::HostError;

/// Which engine to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// The core compiled for this machine.
    Native,
    /// The core's WebAssembly build inside wasmtime.
    Wasm,
}

/// An utterance that has been encoded and is ready to decode.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    /// Total frames (samples = frames × hop).
    pub frames: usize,
    /// Frames per phoneme id.
    pub durations: Vec<u32>,
    /// Phonemes the voice does not know, skipped.
    pub skipped: String,
}

/// A loaded voice that can synthesize one utterance at a time.
pub trait Engine {
    /// `native` or `wasm`.
    fn kind(&self) -> EngineKind;
    /// Output sample rate in Hz.
    fn sample_rate(&self) -> u32;
    /// Samples per frame.
    fn hop(&self) -> usize;
    /// Encodes an utterance given as IPA; the previous one, if any, is dropped.
    fn start(&mut self, ipa: &str, request: &Request) -> Result<Started, HostError>;
    /// Decodes the next chunk into `out` (replacing its contents); `false` once done.
    fn next_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool, HostError>;

    /// Test hook: makes a wasm guest trap (the error it gave), so servers can test recovering
    /// from one; engines that cannot trap give `None`.
    #[doc(hidden)]
    fn force_trap(&mut self) -> Option<HostError> {
        None
    }

    /// Synthesizes a whole utterance.
    fn synthesize(&mut self, ipa: &str, request: &Request) -> Result<(Started, Vec<f32>), HostError> {
        let started = self.start(ipa, request)?;
        let mut audio = Vec::with_capacity(started.frames * self.hop());
        let mut chunk = Vec::new();
        while self.next_chunk(&mut chunk)? {
            audio.extend_from_slice(&chunk);
        }
        Ok((started, audio))
    }
}

/// Loads a voice into the chosen engine.
pub fn open(
    kind: EngineKind,
    onnx: Vec<u8>,
    config: Vec<u8>,
    chunking: parla_core::chunk::Chunking,
) -> Result<Box<dyn Engine>, HostError> {
    Ok(match kind {
        EngineKind::Native => Box::new(native::NativeEngine::load(&onnx, &config, chunking)?),
        EngineKind::Wasm => Box::new(wasm::WasmEngine::load(&onnx, &config, chunking)?),
    })
}
