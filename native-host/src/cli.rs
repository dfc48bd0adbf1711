//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::engine::EngineKind;

/// Parla: offline, streaming text-to-speech with Piper voices.
#[derive(Debug, Parser)]
#[command(name = "parla", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Speak text (or IPA with --phonemes) into a WAV file or stdout.
    Say(SayArgs),
    /// Measure real-time factors and load times of the engines.
    Bench(BenchArgs),
    /// Print the spoken form of text (numbers, dates, abbreviations… as words), one line per sentence.
    Normalize(TextArgs),
    /// Print the IPA phonemes of text, one line per sentence.
    Phonemize(TextArgs),
}

/// `parla normalize` / `parla phonemize`
#[derive(Debug, Args)]
pub struct TextArgs {
    /// The text; read from stdin when omitted.
    pub text: Option<String>,
}

/// Options shared by everything that loads a voice and synthesizes.
#[derive(Debug, Clone, Args)]
pub struct SynthArgs {
    /// Piper voice: path to its `.onnx` (the `.onnx.json` must sit beside it). Default:
    /// $PARLA_VOICE, else the en_US-joe-medium voice fetched by `just setup`.
    #[arg(long, value_name = "PATH")]
    pub voice: Option<PathBuf>,
    /// Run the core natively or its WebAssembly build inside wasmtime.
    #[arg(long, value_enum, default_value_t = EngineKind::Native)]
    pub engine: EngineKind,
    /// Seed of all randomness: the same seed gives the same audio.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Noise in the prior (timbre variation). Default: the voice's config.
    #[arg(long, value_name = "F")]
    pub noise_scale: Option<f32>,
    /// Noise in the duration predictor (rhythm variation). Default: the voice's config.
    #[arg(long, value_name = "F")]
    pub noise_w: Option<f32>,
    /// Duration multiplier: above 1 speaks slower. Default: the voice's config.
    #[arg(long, value_name = "F")]
    pub length_scale: Option<f32>,
    /// Speaker id, for multi-speaker voices.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub speaker: u32,
    /// Frames kept per decoder chunk.
    #[arg(long, value_name = "FRAMES", default_value_t = 64)]
    pub chunk: usize,
    /// Frames kept from the first chunk (smaller means earlier first audio).
    #[arg(long, value_name = "FRAMES", default_value_t = 64)]
    pub first_chunk: usize,
    /// Frames of context decoded on each side of a chunk.
    #[arg(long, value_name = "FRAMES", default_value_t = 24)]
    pub context: usize,
}

/// `parla say`
#[derive(Debug, Args)]
pub struct SayArgs {
    /// The text to speak; read from stdin when omitted.
    pub text: Option<String>,
    /// Speak these IPA phonemes instead of text.
    #[arg(long, value_name = "IPA", conflicts_with = "text")]
    pub phonemes: Option<String>,
    /// Stream: segment the text as it arrives (stdin is read piece by piece) and write audio
    /// as soon as each part is made.
    #[arg(long, conflicts_with = "phonemes")]
    pub stream: bool,
    /// Print per-stage timings (JSON, milliseconds) on stderr when done.
    #[arg(long)]
    pub timings: bool,
    /// Output WAV file; `-` for stdout. Default: stdout when it is not a terminal, else parla.wav.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Speak every non-empty line of the text into its own file, DIR/0001.wav, DIR/0002.wav, …
    #[arg(long, value_name = "DIR", conflicts_with_all = ["phonemes", "stream", "output"])]
    pub each_line: Option<PathBuf>,
    /// Synthesis options.
    #[command(flatten)]
    pub synth: SynthArgs,
}

/// `parla bench`
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Engines to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [EngineKind::Native, EngineKind::Wasm])]
    pub engines: Vec<EngineKind>,
    /// Runs per sentence and engine (after one warm-up run).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Also run onnxruntime on the original voice through `tests/bench/ort_rtf.py` (needs python3).
    #[arg(long)]
    pub ort: bool,
    /// Skip timing an uncached compile of the wasm module (about 20 s on 2 cores).
    #[arg(long)]
    pub skip_compile: bool,
    /// Synthesis options.
    #[command(flatten)]
    pub synth: SynthArgs,
}
