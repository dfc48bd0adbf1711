//! Parla's engine.
//!
//! Everything here is `no_std` + `alloc` except inference, which needs tract and sits behind the
//! `std` feature. Nothing in this crate does I/O, spawns threads or reads a clock: callers pass
//! bytes and time in, and take audio out.
//!
//! The path from phonemes to audio:
//! 1. [`config::VoiceConfig`] reads a Piper `.onnx.json`;
//! 2. [`phonemes::PhonemeIds`] turns IPA into the ids the voice was trained on;
//! 3. the encoder (in `infer`) yields per-phoneme means, log-scales and durations;
//! 4. [`regulate`] repeats each phoneme's column for its duration and adds seeded noise;
//! 5. the decoder (in `infer`) turns them into audio chunk by chunk: exactly, as a stream that
//!    carries each convolution's state (`infer::pulse`), or in windows with context on both
//!    sides ([`chunk::ChunkPlan`]) where state cannot follow a stream from call to call.
#![no_std]
#![warn(missing_docs)]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod chunk;
pub mod config;
pub mod g2p;
pub mod normalize;
pub mod error;
pub mod events;
pub mod frames;
pub mod front;
pub mod phonemes;
pub mod regulate;
pub mod rng;
pub mod sched;
pub mod segment;

#[cfg(feature = "std")]
pub mod infer;

pub use error::Error;
