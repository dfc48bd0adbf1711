//! Synthesis workers: the only place the server touches engines.
//!
//! [`Pool::speak`] takes a voice, text (whole, or pieces arriving over a channel), options and a
//! cancel token, and gives back a bounded channel of [`Out`] messages: audio, events, then `Done`
//! or `Error`. Everything behind that call (threads, engines, queueing) may change without
//! the HTTP and WebSocket code noticing.
//!
//! Now: `workers` threads, each owning one engine per voice; jobs wait in a bounded queue. The
//! bounded output channel is the backpressure: a slow client stalls its worker, not memory.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use parla_core::chunk::Chunking;
use parla_core::infer::Voice;
use parla_core::phonemes::PhonemeIds;
use tokio::sync::mpsc;

use super::metrics::Metrics;
use super::voices::Registry;
use crate::engine::native::NativeEngine;
use crate::engine::wasm::{WasmEngine, WasmRuntime};
use crate::engine::{Engine, EngineKind, Request, Started};
use crate::error::HostError;
use crate::stream::{speak_observed, Observer};

/// Text to phonemes: the one place the server chooses its G2P.
pub fn to_ipa(text: &str) -> String {
    parla_core::g2p::placeholder_ipa(text)
}

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
    /// Time waiting in the queue.
    pub queued: Duration,
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
    /// Worker threads.
    pub workers: usize,
    /// Jobs that may wait for a worker.
    pub queue: usize,
    /// Which engine each worker runs.
    pub engine: EngineKind,
    /// Decoder chunking.
    pub chunking: Chunking,
    /// Honour [`TEST_TRAP_MARK`].
    pub test_trap: bool,
}

struct Job {
    voice: usize,
    input: Input,
    options: SpeakOptions,
    cancel: CancelToken,
    out: mpsc::Sender<Out>,
    queued_at: Instant,
}

/// Loads engines for workers, sharing what can be shared: natively one `Voice` (weights and
/// plans) per voice for all workers; in wasm one compiled module (each instance holds its own
/// copy of the weights in its linear memory, one per worker, never one per stream).
enum Loader {
    Native(Vec<Arc<Voice>>),
    Wasm(WasmRuntime),
}

impl Loader {
    fn new(kind: EngineKind, registry: &Registry, chunking: Chunking) -> Result<Loader, HostError> {
        Ok(match kind {
            EngineKind::Native => Loader::Native(
                registry
                    .all()
                    .iter()
                    .map(|v| {
                        let (onnx, config) = v.files.read()?;
                        let voice = Voice::load(&onnx, &config, &parla_core::infer::LoadOptions { chunking })?;
                        Ok(voice)
                    })
                    .collect::<Result<_, HostError>>()?,
            ),
            EngineKind::Wasm => Loader::Wasm(WasmRuntime::open()?),
        })
    }

    fn engine(&self, registry: &Registry, voice: usize, chunking: Chunking) -> Result<Box<dyn Engine>, HostError> {
        Ok(match self {
            Loader::Native(voices) => Box::new(NativeEngine::from_voice(voices[voice].clone())),
            Loader::Wasm(rt) => {
                // Read from disk each time: a replaced instance needs the bytes once more, and
                // keeping them in host memory would cost a voice's size for nothing.
                let (onnx, config) = registry.get(voice).files.read()?;
                Box::new(WasmEngine::load_in(rt, &onnx, &config, chunking)?)
            }
        })
    }
}

/// The synthesis workers.
pub struct Pool {
    jobs: std_mpsc::SyncSender<Job>,
    metrics: Arc<Metrics>,
    workers: usize,
}

impl Pool {
    /// Starts the workers; each loads every voice in the background (see
    /// [`Metrics::workers_ready`]). Fails at once if the engine cannot be set up at all.
    pub fn start(registry: Arc<Registry>, config: PoolConfig, metrics: Arc<Metrics>) -> Result<Pool, HostError> {
        let loader = Arc::new(Loader::new(config.engine, &registry, config.chunking)?);
        let (jobs, rx) = std_mpsc::sync_channel::<Job>(config.queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..config.workers.max(1) {
            let worker = Worker {
                n,
                registry: registry.clone(),
                loader: loader.clone(),
                config: config.clone(),
                metrics: metrics.clone(),
            };
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("parla-worker-{n}"))
                .spawn(move || worker.run(&rx))
                .map_err(|e| HostError::Wasm(format!("starting a worker: {e}")))?;
        }
        Ok(Pool { jobs, metrics, workers: config.workers.max(1) })
    }

    /// Queues a stream. Its output arrives on the returned channel; dropping the channel (or
    /// cancelling) stops it within one decoder chunk.
    pub fn speak(&self, voice: usize, input: Input, options: SpeakOptions, cancel: CancelToken) -> Result<mpsc::Receiver<Out>, Busy> {
        let (out, rx) = mpsc::channel(OUT_CAPACITY);
        let job = Job { voice, input, options, cancel, out, queued_at: Instant::now() };
        self.metrics.queue_depth.fetch_add(1, Relaxed);
        match self.jobs.try_send(job) {
            Ok(()) => Ok(rx),
            Err(_) => {
                self.metrics.queue_depth.fetch_sub(1, Relaxed);
                Err(Busy)
            }
        }
    }

    /// Whether every worker has its voices loaded.
    pub fn ready(&self) -> bool {
        self.metrics.workers_ready.load(Relaxed) as usize >= self.workers
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.workers
    }
}

struct Worker {
    n: usize,
    registry: Arc<Registry>,
    loader: Arc<Loader>,
    config: PoolConfig,
    metrics: Arc<Metrics>,
}

impl Worker {
    fn run(self, jobs: &Mutex<std_mpsc::Receiver<Job>>) {
        let t = Instant::now();
        let mut engines: Vec<Box<dyn Engine>> = Vec::new();
        for v in 0..self.registry.all().len() {
            match self.loader.engine(&self.registry, v, self.config.chunking) {
                Ok(e) => engines.push(e),
                Err(e) => {
                    tracing::error!(worker = self.n, voice = %self.registry.get(v).id, error = %e, "cannot load voice; worker stops");
                    return;
                }
            }
        }
        tracing::info!(worker = self.n, voices = engines.len(), secs = t.elapsed().as_secs_f64(), "worker ready");
        self.metrics.workers_ready.fetch_add(1, Relaxed);
        loop {
            let job = match jobs.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                Ok(job) => job,
                Err(_) => break,
            };
            self.metrics.queue_depth.fetch_sub(1, Relaxed);
            let voice = job.voice;
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.serve(engines[voice].as_mut(), job)));
            let replace = match run {
                Ok(replace) => replace,
                Err(_) => {
                    tracing::error!(worker = self.n, "synthesis panicked; replacing the engine");
                    true
                }
            };
            if replace {
                match self.loader.engine(&self.registry, voice, self.config.chunking) {
                    Ok(e) => engines[voice] = e,
                    Err(e) => {
                        tracing::error!(worker = self.n, error = %e, "cannot replace the engine; worker stops");
                        self.metrics.workers_ready.fetch_sub(1, Relaxed);
                        return;
                    }
                }
                tracing::info!(worker = self.n, voice = %self.registry.get(voice).id, "engine replaced");
            }
        }
    }

    /// Speaks one job; `true` when the engine must be replaced.
    fn serve(&self, engine: &mut dyn Engine, job: Job) -> bool {
        let Job { voice, input, options, cancel, out, queued_at } = job;
        let queued = queued_at.elapsed();
        let t = Instant::now();
        if cancel.is_cancelled() || out.is_closed() {
            return false;
        }
        let entry = self.registry.get(voice);
        let mut scales = entry.config.scales;
        scales.length_scale = (scales.length_scale / options.speed).clamp(0.05, 20.0);
        let request = Request { scales, speaker: options.speaker, seed: options.seed, chunking: self.config.chunking };
        let speakers = entry.config.num_speakers.max(1);
        if request.speaker >= speakers {
            let msg = format!("speaker {} does not exist: the voice has {speakers}", request.speaker);
            let _ = out.blocking_send(Out::Error(PoolError::Input(msg)));
            return false;
        }
        let mut observer = JobObserver { out: &out, cancel: &cancel, config: &entry.config, hop: engine.hop() };
        let sink = |frames: &[f32]| {
            self.metrics.samples.fetch_add(frames.len() as u64, Relaxed);
            out.blocking_send(Out::Audio(frames.to_vec())).map_err(|_| HostError::Cancelled)
        };
        let result = match input {
            Input::Text(text) if self.config.test_trap && text.contains(TEST_TRAP_MARK) => {
                Err(engine.force_trap().unwrap_or(HostError::Trap("this engine cannot trap".into())))
            }
            Input::Text(text) => speak_observed(engine, [text], &request, to_ipa, sink, &mut observer),
            Input::Pieces(rx) => {
                let pieces = Pieces { rx, cancel: cancel.clone() };
                speak_observed(engine, pieces, &request, to_ipa, sink, &mut observer)
            }
        };
        let busy = t.elapsed();
        match result {
            Ok(times) => {
                if times.samples > 0 {
                    let audio_s = times.samples as f64 / engine.sample_rate() as f64;
                    self.metrics.rtf.observe(busy.as_secs_f64() / audio_s);
                }
                let summary = Summary { samples: times.samples, segments: times.segments, queued, busy };
                let _ = out.blocking_send(Out::Done(summary));
                false
            }
            Err(HostError::Cancelled) => false,
            Err(e) => {
                let trap = matches!(e, HostError::Trap(_));
                if trap {
                    self.metrics.traps.fetch_add(1, Relaxed);
                    tracing::warn!(worker = self.n, error = %e, "guest trapped; the stream fails and the instance is replaced");
                }
                let err = match e {
                    HostError::Core(e) => PoolError::Input(e.to_string()),
                    e => PoolError::Engine { message: e.to_string(), trap },
                };
                let _ = out.blocking_send(Out::Error(err));
                trap
            }
        }
    }
}

/// Text pieces from the client side; ends when the sender is dropped or the stream cancelled.
struct Pieces {
    rx: mpsc::UnboundedReceiver<String>,
    cancel: CancelToken,
}

impl Iterator for Pieces {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.cancel.is_cancelled() {
            return None;
        }
        self.rx.blocking_recv()
    }
}

/// Passes segment and word events to the stream and answers whether it was cancelled.
struct JobObserver<'a> {
    out: &'a mpsc::Sender<Out>,
    cancel: &'a CancelToken,
    config: &'a parla_core::config::VoiceConfig,
    hop: usize,
}

impl Observer for JobObserver<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled() || self.out.is_closed()
    }

    fn segment(&mut self, index: usize, text: &str, ipa: &str, started: &Started, sample: usize) {
        let _ = self.out.blocking_send(Out::Segment { index, sample, text: text.to_string() });
        // Words of the phoneme string, placed by the encoder's durations. With the placeholder
        // G2P they follow the text's words; a real G2P will carry the text span along.
        let Ok(ids) = PhonemeIds::from_ipa(self.config, ipa) else { return };
        for w in parla_core::events::word_timings(&started.durations, &ids.words, self.hop) {
            let word = Out::Word { segment: index, index: w.word, start: sample + w.start_sample, end: sample + w.end_sample };
            if self.out.blocking_send(word).is_err() {
                return;
            }
        }
    }
}
