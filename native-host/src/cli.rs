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
    /// Load a `parla serve` on loopback: streams played in real time, then idle WebSockets.
    BenchServe(BenchServeArgs),
    /// Serve speech over HTTP (OpenAI-compatible /v1/audio/speech) and WebSocket (/v1/stream).
    Serve(ServeArgs),
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
    /// Output file; `-` for stdout. Default: stdout when it is not a terminal, else parla.wav
    /// (or the extension of --format).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Encoding of the output. Default: the output file's extension (.wav, .pcm/.raw, .flac,
    /// .mp3, .opus/.ogg), else wav. pcm is raw 16-bit little-endian mono at the voice's rate.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<crate::encode::Format>,
    /// Speak every non-empty line of the text into its own file, DIR/0001.wav, DIR/0002.wav, …
    /// (with --format's extension).
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
    /// Runs per sentence and engine (after one warm-up run); time to first audio takes
    /// 7 times as many, at least 20, so that its p95 is not just the slowest run.
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

/// `parla serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one (the first line on stdout names it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Folder of Piper voices (`*.onnx` with `*.onnx.json`). Default: models/voices.
    #[arg(long, value_name = "DIR")]
    pub voices: Option<PathBuf>,
    /// Synthesis worker threads. Default: the number of cores.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Engine of the workers: the wasm core (as browsers run it) or the native one.
    #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
    pub engine: EngineKind,
    /// Guest instances per voice for the wasm engine, each with its own copy of the voice
    /// (about 135 MB for a medium one). A clause is decoded in the instance that encoded it,
    /// so with only one per worker, streams pile up on an instance that serves them alone.
    /// Default: two per worker.
    #[arg(long, value_name = "N")]
    pub instances: Option<usize>,
    /// Accepted API key (repeatable; also $PARLA_API_KEYS, comma-separated). None: no auth.
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_keys: Vec<String>,
    /// Longest `input`, in characters.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub max_input_chars: usize,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Streams that may be open beyond one per worker (per voice) before new ones get 503.
    /// Default: 8 per worker.
    #[arg(long, value_name = "N")]
    pub queue: Option<usize>,
    /// Streams one API key may have open at once (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub per_key_concurrency: usize,
    /// Requests per second one API key may make on average (0: no limit).
    #[arg(long, value_name = "R", default_value_t = 0.0)]
    pub rate_limit: f64,
    /// Requests one key may make in a burst when --rate-limit is set.
    #[arg(long, value_name = "N", default_value_t = 10.0)]
    pub burst: f64,
    /// Open WebSocket connections at most.
    #[arg(long, value_name = "N", default_value_t = 60_000)]
    pub max_connections: usize,
    /// Seconds a WebSocket may stay without a message (and nothing being spoken) before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub idle_timeout: u64,
    /// Seconds between WebSocket pings.
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    pub ping_interval: u64,
    /// Largest WebSocket message, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    pub max_message_bytes: usize,
    /// Seconds open streams may go on after SIGINT/SIGTERM before they are ended.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub grace: u64,
    /// Folder served at `/`. Default: www.
    #[arg(long, value_name = "DIR")]
    pub www: Option<PathBuf>,
    /// Frames in the first decoder chunk of each segment (small: earlier first audio).
    #[arg(long, value_name = "FRAMES", default_value_t = parla_core::chunk::FIRST_CHUNK)]
    pub first_chunk: usize,
    /// Frames per decoder chunk, for voices decoded in windows (a streaming decoder's chunks
    /// stay at --first-chunk: they cost the same per frame, and short steps share the workers better).
    #[arg(long, value_name = "FRAMES", default_value_t = 64)]
    pub chunk: usize,
    /// Frames of context decoded on each side of a chunk.
    #[arg(long, value_name = "FRAMES", default_value_t = 24)]
    pub context: usize,
    /// Shut down when stdin reaches its end (for tests and supervisors that hold a pipe).
    #[arg(long, hide = true)]
    pub exit_on_stdin_eof: bool,
}

/// `parla bench-serve`
#[derive(Debug, Args)]
pub struct BenchServeArgs {
    /// Workers of the server under test.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Engine of the server under test.
    #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
    pub engine: EngineKind,
    /// Folder of voices for the server.
    #[arg(long, value_name = "DIR")]
    pub voices: Option<PathBuf>,
    /// Numbers of concurrent real-time streams to try, in order. Default: one stream, then a
    /// search around the capacity target, 0.9 × cores / (RTF of that stream).
    #[arg(long, value_delimiter = ',')]
    pub streams: Vec<usize>,
    /// Seconds each number of streams runs.
    #[arg(long, default_value_t = 12)]
    pub window: u64,
    /// Requests for the one-stream time to first byte.
    #[arg(long, default_value_t = 30)]
    pub ttfb_requests: usize,
    /// Idle WebSocket connections to open (capped by the open-file limit).
    #[arg(long, default_value_t = 50_000)]
    pub idle: usize,
    /// Seconds after which no new step starts.
    #[arg(long, default_value_t = 120)]
    pub budget: u64,
    /// Milliseconds a player buffers after the first byte before it starts playing.
    #[arg(long, default_value_t = 100)]
    pub prebuffer_ms: u64,
    /// More arguments for the server, e.g. `--serve-arg=--first-chunk=32` (repeatable).
    #[arg(long = "serve-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub serve_args: Vec<String>,
}
