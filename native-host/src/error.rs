//! Errors of the `parla` command, each a single clear line for the user.

use std::path::PathBuf;

use parla_core::infer::VoiceError;

/// Everything that can stop a `parla` command.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No voice was given and the default one is not installed.
    #[error("no voice found: pass --voice PATH.onnx, set PARLA_VOICE, or run `just setup` to fetch the default voice (looked in {0})")]
    NoVoice(String),
    /// The voice could not be loaded or run natively.
    #[error("{0}")]
    Voice(#[from] VoiceError),
    /// A core error (bad parameter, empty input, …).
    #[error("{0}")]
    Core(#[from] parla_core::Error),
    /// The wasm engine failed: module missing, bad module, host-side failure of a guest call.
    #[error("wasm engine: {0}")]
    Wasm(String),
    /// The wasm guest refused a call with an error of its own (bad input, inference failed);
    /// the instance is still sound.
    #[error("wasm engine: {0}")]
    Guest(String),
    /// The scheduler refused: too many streams, unknown or stopped stream.
    #[error("{0}")]
    Sched(#[from] parla_core::sched::SchedError),
    /// The wasm guest trapped (a bug or a resource limit in the guest): its instance is unusable.
    #[error("wasm engine trapped: {0}")]
    Trap(String),
    /// Synthesis of a stream stopped part-way: a step failed, or its deadline passed.
    #[error("synthesis stopped: {0}")]
    Stopped(String),
    /// The caller stopped the stream (a client went away or asked to cancel).
    #[error("cancelled")]
    Cancelled,
    /// The output's encoder could not start (no MP3 library, a rate the format cannot code).
    #[error("{0}")]
    Encode(#[from] crate::encode::EncodeError),
    /// Writing the output failed.
    #[error("writing output: {0}")]
    Output(#[source] std::io::Error),
}

impl HostError {
    /// An I/O error on a named file.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> HostError {
        let path = path.into();
        move |source| HostError::Io { path, source }
    }
}
