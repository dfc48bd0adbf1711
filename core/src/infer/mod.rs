//! Inference: Piper voices through tract (needs the `std` feature).
//!
//! [`Voice::load`] takes the bytes of a Piper `.onnx` and `.onnx.json`, splits the model at
//! `z_p` ([`surgery`]), and builds encoder plans (one for any phoneme count, and natively faster
//! ones for a few fixed counts) and decoder plans (a streaming one, or ones for fixed window
//! lengths). [`Voice::synthesize`] runs the encoder and length regulation and returns a
//! [`Synthesis`], which yields audio one chunk at a time. A voice's halves can also be prepared
//! apart, at the same time, and linked ([`link`]).

pub mod encoder;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod kernel;
pub mod link;
pub mod norm;
pub mod pulse;
pub mod spline;
pub mod surgery;
mod synth;
mod voice;
mod weights;

pub use link::{EncoderInput, EncoderLink, EncoderOutput, Part};
pub use pulse::DecoderStream;
pub use surgery::Fusions;
pub use synth::{Chunk, Synthesis};
pub use voice::{Encoded, LoadOptions, Request, Voice};

use std::string::String;

/// Why a voice could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VoiceError {
    /// The model bytes are not an ONNX protobuf (truncated, corrupt, or another format).
    #[error("voice model is not a valid ONNX file: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The model is ONNX but not a Piper VITS export this engine understands.
    #[error(transparent)]
    NotPiper(#[from] surgery::NotPiper),
    /// A config, parameter or input error from the core.
    #[error(transparent)]
    Core(#[from] crate::Error),
    /// tract failed while preparing or running the model.
    #[error("tract could not {stage}: {cause}")]
    Tract {
        /// What was being done.
        stage: &'static str,
        /// tract's error chain, flattened.
        cause: String,
    },
    /// The voice was loaded without the half this needs ([`LoadOptions::part`]).
    #[error("this voice was loaded without its {0}")]
    PartNotLoaded(&'static str),
    /// A voice loaded with [`Part::Decoder`] could not get its encoder's outputs from its link.
    #[error("the voice's encoder could not be reached: {0}")]
    Link(String),
    /// tract panicked on this model (a malformed file that passed the checks before it).
    #[error("the model crashed the inference engine while {0}; the file is probably corrupt")]
    Panic(&'static str),
}

/// An optimised tract plan, shared by every run.
pub(crate) type Plan = std::sync::Arc<tract_onnx::prelude::TypedSimplePlan>;

/// `model` optimised with `symbol` bound to `len` (tract optimises known shapes better).
pub(crate) fn plan_for_length(
    model: &tract_onnx::prelude::TypedModel,
    symbol: &tract_onnx::prelude::Symbol,
    len: usize,
    stage: &'static str,
) -> Result<Plan, VoiceError> {
    use tract_onnx::prelude::{IntoRunnable, ToDim};
    let subs = [(symbol.clone(), len.to_dim())].into_iter().collect();
    model.set_symbols(&subs).and_then(|m| m.into_optimized()).and_then(|m| m.into_runnable()).map_err(VoiceError::tract(stage))
}

impl VoiceError {
    pub(crate) fn tract(stage: &'static str) -> impl FnOnce(tract_onnx::prelude::TractError) -> VoiceError {
        move |e| VoiceError::Tract { stage, cause: std::format!("{e:#}") }
    }
}
