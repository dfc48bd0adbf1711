//! Synthesis workers: the only place the server touches engines.
//!
//! [`Pool::speak`] takes a voice, text (whole, or pieces arriving over a channel), options and a
//! cancel token, and gives back a bounded channel of [`Out`] messages: audio, events, then `Done`
//! or `Error`. Everything behind that call (threads, engines, queueing) may change without
//! the HTTP and WebSocket code noticing.
//!
//! Inside: one [`Mux`] per voice — `workers` threads taking bounded steps (one segment's
//! encoder, one decoder chunk) of every open stream through the core's scheduler, so many
//! streams share a few workers (and, with the wasm engine, a few guest instances that hold the
//! voice's weights once each, never per stream).
//!
//! There are more instances than workers. A clause is decoded where it was encoded, so with one
//! instance per worker, N streams put ⌈N / workers⌉ on one instance, which must serve them on
//! one thread while another instance may idle. Measured with `parla bench-serve` on 2 workers,
//! three runs of each taken in turn: with 2 instances, 4 streams had underruns in two runs; with
//! 4, no run had any up to 4 streams.
//!
//! Each stream has a pump thread that moves its frames and events from the mux to its bounded
//! output channel: a slow client stops its pump, its ring fills, and the scheduler pauses that
//! stream's inference — memory stays bounded.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parla_core::chunk::Chunking;
use parla_core::infer::{LoadOptions, Request};
use parla_core::sched::Stop;
use tokio::sync::mpsc;

use super::metrics::Metrics;
use super::voices::Registry;
use crate::backend::{Backend, NativeBackend, WasmBackend};
use crate::engine::EngineKind;
use crate::error::HostError;
use crate::mux::{Event, Listener, Mux, MuxConfig, Read, StreamHandle, StreamSettings};

/// Text of a stream that marks itself as a test of trap recovery (only honoured when the
/// server runs with `PARLA_TEST_TRAP=1`).
pub const TEST_TRAP_MARK: &str = "[[parla-test-trap]]";

/// Output messages per stream that may wait for the client (each at most one ring of 64
/// frames, 0.64 s): about 10 s of audio.
const OUT_CAPACITY: usize = 16;

/// How a stream is to be spoken.
#[derive(Debug, Clone, Copy)]
pub struct SpeakOptions {
    /// Speaking rate: 2.0 is twice as fast (divides the voice's length scale).
    pub speed: f32,
    /// Speaker id of a multi-speaker voice.
    pub speaker: u32,
    /// Seed of all randomness.
    pub seed: u64,
}

impl Default for SpeakOptions {
    fn default() -> Self {
        SpeakOptions { speed: 1.0, speaker: 0, seed: 0 }
    }
}

/// What to speak.
pub enum Input {
    /// All the text at once.
    Text(String),
    /// Text arriving in pieces; the stream ends when the sender is dropped.
    Pieces(mpsc::UnboundedReceiver<String>),
}

/// Something a stream tells its reader, in order.
#[derive(Debug)]
pub enum Out {
    /// 10 ms frames of audio at the voice's sample rate.
    Audio(Vec<f32>),
    /// A segment of the text starts at `sample` (from the start of the stream).
    Segment {
        /// Its number in the stream.
        index: usize,
        /// First sample of its audio.
        sample: usize,
        /// The segment's text.
        text: String,
    },
    /// A word's place in the audio (samples from the start of the stream).
    Word {
        /// The segment it belongs to.
        segment: usize,
        /// Its number within the segment.
        index: usize,
        /// First sample.
        start: usize,
        /// One past the last sample.
        end: usize,
    },
    /// The stream is complete.
    Done(Summary),
    /// The stream failed; nothing follows.
    Error(PoolError),
}

/// How a finished stream went.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Samples produced.
    pub samples: usize,
    /// Segments spoken.
    pub segments: usize,
    /// Time in the worker.
    pub busy: Duration,
}

/// Why a stream failed.
#[derive(Debug, Clone)]
pub enum PoolError {
    /// The request cannot be spoken (bad parameter, unknown speaker, nothing speakable).
    Input(String),
    /// The engine failed; `trap` when the wasm guest trapped (its instance was replaced).
    Engine {
        /// What happened.
        message: String,
        /// Whether it was a guest trap.
        trap: bool,
    },
}

/// The queue is full: try again later.
#[derive(Debug)]
pub struct Busy;

/// Stops a stream: set by the client side, read by the worker before each chunk.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// Asks the stream to stop.
    pub fn cancel(&self) {
        self.0.store(true, Relaxed);
    }

    /// Whether it was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Relaxed)
    }
}

/// How the pool is built.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Worker threads per voice (steps running at once).
    pub workers: usize,
    /// Guest instances per voice (wasm engine): the scheduler's lanes.
    pub instances: usize,
    /// Streams that may wait beyond one per worker: at most `workers + queue` streams are open
    /// per voice (beyond it: [`Busy`]). A stream whose client is slow holds a place, not a worker.
    pub queue: usize,
    /// Which engine the workers run.
    pub engine: EngineKind,
    /// Decoder chunking.
    pub chunking: Chunking,
    /// Honour [`TEST_TRAP_MARK`].
    pub test_trap: bool,
}

/// One voice's synthesis: its multiplexer, and its wasm backend when there is one (for the
/// trap test hook).
struct VoiceMux {
    mux: Arc<Mux>,
    wasm: Option<Arc<WasmBackend>>,
}

/// The synthesis workers of every voice.
pub struct Pool {
    voices: Vec<VoiceMux>,
    registry: Arc<Registry>,
    config: PoolConfig,
    metrics: Arc<Metrics>,
}

impl Pool {
    /// Loads every voice into its engine and starts the workers.
    pub fn start(registry: Arc<Registry>, config: PoolConfig, metrics: Arc<Metrics>) -> Result<Pool, HostError> {
        let workers = config.workers.max(1);
        let mut voices = Vec::new();
        for entry in registry.all() {
            let t = Instant::now();
            let (onnx, json) = entry.files.read()?;
            let (backend, wasm): (Arc<dyn Backend>, _) = match config.engine {
                EngineKind::Native => (Arc::new(NativeBackend::load(&onnx, &json, &LoadOptions::serving(config.chunking))?), None),
                EngineKind::Wasm => {
                    let b = Arc::new(WasmBackend::load(&onnx, &json, config.chunking, config.instances)?);
                    (b.clone(), Some(b))
                }
            };
            let mux_config = MuxConfig { workers, max_streams: workers + config.queue, ..MuxConfig::default() };
            let mux = Arc::new(Mux::new(backend, parla_core::front::ENGLISH, mux_config));
            let instances = wasm.as_ref().map_or(0, |w| w.lanes());
            tracing::info!(voice = %entry.id, secs = t.elapsed().as_secs_f64(), workers, instances, "voice ready");
            voices.push(VoiceMux { mux, wasm });
        }
        metrics.workers_ready.store(workers as i64, Relaxed);
        Ok(Pool { voices, registry, config, metrics })
    }

    /// Opens a stream. Its output arrives on the returned channel; dropping the channel (or
    /// cancelling) stops it within one decoder chunk. [`Busy`] when the voice has as many
    /// streams open as it may.
    pub fn speak(&self, voice: usize, input: Input, options: SpeakOptions, cancel: CancelToken) -> Result<mpsc::Receiver<Out>, Busy> {
        let (out, rx) = mpsc::channel(OUT_CAPACITY);
        let entry = self.registry.get(voice);
        let v = &self.voices[voice];
        let mut scales = entry.config.scales;
        scales.length_scale = (scales.length_scale / options.speed).clamp(0.05, 20.0);
        let request = Request { scales, speaker: options.speaker, seed: options.seed, chunking: self.config.chunking };
        let speakers = entry.config.num_speakers.max(1);
        if request.speaker >= speakers {
            let msg = format!("speaker {} does not exist: the voice has {speakers}", request.speaker);
            let _ = out.try_send(Out::Error(PoolError::Input(msg)));
            return Ok(rx);
        }
        if let (Input::Text(text), Some(wasm), true) = (&input, &v.wasm, self.config.test_trap) {
            if text.contains(TEST_TRAP_MARK) {
                let e = wasm.trap_once().err().unwrap_or(HostError::Trap("the guest did not trap".into()));
                self.metrics.traps.fetch_add(1, Relaxed);
                tracing::warn!(error = %e, "guest trapped on request; the stream fails and the instance is replaced");
                let _ = out.try_send(Out::Error(PoolError::Engine { message: e.to_string(), trap: true }));
                return Ok(rx);
            }
        }
        let settings = StreamSettings { request, timeout: None, policy: Default::default() };
        let listener = v.mux.open(settings).map_err(|_| Busy)?;
        let stream = listener.handle();
        match input {
            Input::Text(text) => {
                if v.mux.push(stream, &text, true).is_err() {
                    return Err(Busy);
                }
            }
            Input::Pieces(pieces) => {
                let mux = v.mux.clone();
                std::thread::Builder::new()
                    .name("parla-feed".into())
                    .spawn(move || feed(&mux, stream, pieces))
                    .map_err(|_| Busy)?;
            }
        }
        let pump = Pump { mux: v.mux.clone(), listener, out, cancel, metrics: self.metrics.clone(), sample_rate: entry.config.sample_rate };
        std::thread::Builder::new().name("parla-pump".into()).spawn(move || pump.run()).map_err(|_| Busy)?;
        self.metrics.queue_depth.store(self.voices.iter().map(|v| v.mux.load().1 as i64).sum(), Relaxed);
        Ok(rx)
    }

    /// Whether every voice is loaded (they are, once the pool exists).
    pub fn ready(&self) -> bool {
        !self.voices.is_empty()
    }

    /// Worker threads per voice.
    pub fn workers(&self) -> usize {
        self.config.workers.max(1)
    }
}

/// Moves text pieces from the client into the stream; the end of the pieces ends its input.
fn feed(mux: &Mux, stream: StreamHandle, mut pieces: mpsc::UnboundedReceiver<String>) {
    while let Some(piece) = pieces.blocking_recv() {
        if mux.push(stream, &piece, false).is_err() {
            return; // cancelled or closed
        }
    }
    let _ = mux.push(stream, "", true);
}

/// Moves one stream's frames and events from the mux to its output channel.
struct Pump {
    mux: Arc<Mux>,
    listener: Listener,
    out: mpsc::Sender<Out>,
    cancel: CancelToken,
    metrics: Arc<Metrics>,
    sample_rate: u32,
}

impl Pump {
    fn run(mut self) {
        let started = Instant::now();
        let mut samples = 0usize;
        let mut segments = 0usize;
        loop {
            if self.cancel.is_cancelled() || self.out.is_closed() {
                let _ = self.mux.cancel(self.listener.handle());
                return;
            }
            let mut audio = Vec::new();
            let read = self.listener.read(&mut audio, Duration::from_millis(20));
            for e in self.listener.events() {
                let msg = match e {
                    Event::Segment { index, text, sample } => {
                        segments += 1;
                        Out::Segment { index, sample, text }
                    }
                    Event::Word { segment, word, start, end } => Out::Word { segment, index: word, start, end },
                    Event::Stopped { reason: Stop::Failed, message } => {
                        let message = message.unwrap_or_else(|| "synthesis failed".into());
                        let trap = message.contains("trapped");
                        if trap {
                            self.metrics.traps.fetch_add(1, Relaxed);
                        }
                        let _ = self.out.blocking_send(Out::Error(PoolError::Engine { message, trap }));
                        return;
                    }
                    Event::Stopped { .. } => return,
                    Event::SegmentEnd { .. } | Event::Done { .. } => continue,
                };
                if self.out.blocking_send(msg).is_err() {
                    let _ = self.mux.cancel(self.listener.handle());
                    return;
                }
            }
            if !audio.is_empty() {
                samples += audio.len();
                self.metrics.samples.fetch_add(audio.len() as u64, Relaxed);
                // Blocks while the client is slow: the ring fills and the stream pauses.
                if self.out.blocking_send(Out::Audio(audio)).is_err() {
                    let _ = self.mux.cancel(self.listener.handle());
                    return;
                }
            }
            if read == Read::End {
                let times = self.listener.times();
                let busy = times.normalize + times.g2p + times.encoder + times.decoder;
                if samples > 0 {
                    self.metrics.rtf.observe(busy.as_secs_f64() / (samples as f64 / self.sample_rate as f64));
                }
                let _ = self.out.blocking_send(Out::Done(Summary { samples, segments, busy }));
                tracing::debug!(samples, secs = started.elapsed().as_secs_f64(), "stream done");
                return;
            }
        }
    }
}
