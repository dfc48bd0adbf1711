//! The `parla` command's library: engines (native and wasm-in-wasmtime), voice files, WAV
//! output, and the subcommands. The binary in `main.rs` only parses arguments and reports errors.

pub mod backend;
pub mod bench;
pub mod bench_serve;
pub mod bench_steps;
pub mod cli;
pub mod encode;
pub mod engine;
pub mod error;
pub mod mux;
pub mod say;
pub mod serve;
pub mod stream;
pub mod text;
pub mod voice_files;
pub mod wav;

pub use error::HostError;
