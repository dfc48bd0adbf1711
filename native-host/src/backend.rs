//! What the multiplexer ([`crate::mux`]) needs from an engine: encode an utterance, then decode
//! it chunk by chunk. The utterance's state ([`Decoding`]) lives in the host, so any worker can
//! run any stream's next step. Natively that state is the core's exact streaming decoder; for
//! wasm it is a handle to a stream inside one guest instance (plus a copy of its latents, so the
//! utterance survives the loss of that instance). The voice's weights exist once per native
//! process or once per guest instance, never per stream.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use parla_core::chunk::{ChunkPlan, Chunking};
use parla_core::config::VoiceConfig;
use parla_core::infer::{LoadOptions, Request, Synthesis, Voice};
use parla_core::phonemes::PhonemeIds;
use parla_core::regulate::Latent;

use crate::engine::wasm::{WasmEngine, WasmRuntime};
use crate::engine::EngineKind;
use crate::error::HostError;

/// An encoded utterance.
pub struct Encoded {
    /// Frames per phoneme id.
    pub durations: Vec<u32>,
    /// What decodes it.
    pub decoding: Decoding,
}

/// An utterance being decoded, one chunk per [`Backend::decode`] call.
pub enum Decoding {
    /// Windows of host-held latents (`z_p`), each decoded with context on both sides: any
    /// worker and any guest instance can decode any of them.
    Windows {
        /// The regulated latents.
        latent: Latent,
        /// The windows still to decode.
        plan: ChunkPlan,
    },
    /// The core's exact streaming decoder, whose state travels with the utterance.
    Stream(Box<Synthesis>),
    /// A stream whose decoder state lives in one wasm guest instance.
    Guest(Box<GuestStream>),
}

impl Decoding {
    /// Frames still to decode.
    pub fn remaining_frames(&self) -> usize {
        match self {
            Decoding::Windows { plan, .. } => plan.remaining(),
            Decoding::Stream(s) => s.remaining_frames(),
            Decoding::Guest(g) => g.latent.frames - g.done.min(g.latent.frames),
        }
    }
}

/// Encodes and decodes for many streams at once (called from several worker threads).
pub trait Backend: Send + Sync {
    /// The voice's config.
    fn config(&self) -> &VoiceConfig;
    /// Output sample rate in Hz.
    fn sample_rate(&self) -> u32;
    /// Samples per frame.
    fn hop(&self) -> usize;
    /// Whether utterances are decoded by a streaming decoder (each frame once, whatever the
    /// chunk size) rather than in windows with context.
    fn streams(&self) -> bool;
    /// Exclusive resources a step runs on (guest instances), for the scheduler's lanes; 0 when
    /// any worker can run any step at once (see [`parla_core::sched`]).
    fn lanes(&self) -> usize;
    /// Runs the encoder and length regulation (`ipa` and its `ids` describe the same phonemes),
    /// on `lane` if given (an utterance encoded on a lane is decoded there).
    fn encode(&self, ipa: &str, ids: &PhonemeIds, request: &Request, lane: Option<usize>) -> Result<Encoded, HostError>;
    /// Decodes the next chunk of an utterance this backend encoded, on `lane` if given (its
    /// encoder's); empty once it is done.
    fn decode(&self, decoding: &mut Decoding, request: &Request, lane: Option<usize>) -> Result<Vec<f32>, HostError>;
}

/// Loads a voice into the engine `kind` with `options` (`instances` guest instances for wasm,
/// which take only the chunking from `options`).
pub fn open(kind: EngineKind, onnx: &[u8], json: &[u8], options: &LoadOptions, instances: usize) -> Result<Arc<dyn Backend>, HostError> {
    Ok(match kind {
        EngineKind::Native => Arc::new(NativeBackend::load(onnx, json, options)?),
        EngineKind::Wasm => Arc::new(WasmBackend::load(onnx, json, options.chunking, instances)?),
    })
}

/// The core compiled for this machine: one voice shared by every worker.
pub struct NativeBackend(pub Arc<Voice>);

impl NativeBackend {
    /// Loads a voice natively with these options ([`LoadOptions::serving`] for one that stays
    /// loaded).
    pub fn load(onnx: &[u8], config: &[u8], options: &LoadOptions) -> Result<NativeBackend, HostError> {
        Ok(NativeBackend(Voice::load(onnx, config, options)?))
    }
}

thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl Backend for NativeBackend {
    fn config(&self) -> &VoiceConfig {
        self.0.config()
    }
    fn sample_rate(&self) -> u32 {
        self.0.sample_rate()
    }
    fn hop(&self) -> usize {
        self.0.hop()
    }
    fn streams(&self) -> bool {
        self.0.streams()
    }
    fn lanes(&self) -> usize {
        0
    }
    fn encode(&self, _ipa: &str, ids: &PhonemeIds, request: &Request, _lane: Option<usize>) -> Result<Encoded, HostError> {
        let synth = self.0.synthesize(ids, request)?;
        if synth.is_streamed() {
            return Ok(Encoded { durations: synth.durations().to_vec(), decoding: Decoding::Stream(Box::new(synth)) });
        }
        let (durations, latent, plan) = synth.into_parts();
        Ok(Encoded { durations, decoding: Decoding::Windows { latent, plan } })
    }
    fn decode(&self, decoding: &mut Decoding, request: &Request, _lane: Option<usize>) -> Result<Vec<f32>, HostError> {
        match decoding {
            Decoding::Stream(s) => Ok(Synthesis::next_chunk(s).transpose()?.map(|c| c.samples).unwrap_or_default()),
            Decoding::Guest(_) => Err(HostError::Stopped("a wasm stream was handed to the native backend".into())),
            Decoding::Windows { latent, plan } => match plan.next() {
                Some(w) => SCRATCH.with_borrow_mut(|scratch| Ok(self.0.decode_chunk(latent, w, false, request, scratch)?)),
                None => Ok(Vec::new()),
            },
        }
    }
}

/// One guest instance, and what the host knows of it.
struct Slot {
    engine: Mutex<Option<WasmEngine>>,
    /// Bumped whenever the instance is thrown away: streams opened in an older one are gone.
    generation: AtomicU64,
    /// Streams opened here and not yet dropped (new streams go where this is smallest).
    open: AtomicUsize,
    /// Streams dropped unfinished, `(generation, handle)`: closed at the instance's next use.
    dropped: Mutex<Vec<(u64, u32)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An utterance decoded by one guest instance, which keeps its decoder's state (see
/// [`WasmBackend`]). If that instance is lost, the rest of the utterance is decoded window by
/// window from the host's copy of its latents, on any instance.
pub struct GuestStream {
    slot: Arc<Slot>,
    generation: u64,
    handle: u32,
    latent: Latent,
    chunking: Chunking,
    /// Frames decoded so far.
    done: usize,
    /// The guest has closed the stream itself (done or failed), or its instance is gone.
    closed: bool,
}

impl Drop for GuestStream {
    fn drop(&mut self) {
        self.slot.open.fetch_sub(1, Ordering::Relaxed);
        if !self.closed {
            lock(&self.slot.dropped).push((self.generation, self.handle));
        }
    }
}

/// The core's wasm build in wasmtime: a few guest instances, each with the voice loaded. Each
/// utterance is opened as a stream in the instance with the fewest streams and decoded there
/// chunk by chunk, so the guest carries its decoder's state (every frame decoded once). An
/// instance whose call failed (a trap, say) is thrown away and a fresh one loaded in its place
/// on next use, so one bad request never poisons the others: that request fails, and the other
/// streams of the lost instance go on window by window elsewhere.
pub struct WasmBackend {
    runtime: WasmRuntime,
    slots: Vec<Arc<Slot>>,
    onnx: Arc<[u8]>,
    json: Arc<[u8]>,
    chunking: Chunking,
    config: VoiceConfig,
    sample_rate: u32,
    hop: usize,
    streams: bool,
    recovered: AtomicUsize,
}

/// Loads `count` guest instances of a voice, on as many threads as there are cores: each
/// instance prepares its own copy of the voice, which is most of a server's start-up.
fn load_instances(rt: &WasmRuntime, onnx: &[u8], json: &[u8], chunking: Chunking, count: usize) -> Vec<Result<WasmEngine, HostError>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, count.max(1));
    std::thread::scope(|s| {
        let load = move |share: usize| (0..share).map(|_| WasmEngine::load_in(rt, onnx, json, chunking)).collect::<Vec<_>>();
        let shares: Vec<_> = (0..threads).map(|t| (count + threads - 1 - t) / threads).collect();
        let handles: Vec<_> = shares.into_iter().map(|share| s.spawn(move || load(share))).collect();
        let panicked = || vec![Err(HostError::Wasm("a thread loading a guest instance panicked".into()))];
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|_| panicked())).collect()
    })
}

impl WasmBackend {
    /// Loads `instances` guest instances (at least one; `parla serve` makes two per worker).
    pub fn load(onnx: &[u8], json: &[u8], chunking: Chunking, instances: usize) -> Result<WasmBackend, HostError> {
        let config = VoiceConfig::from_json(json)?;
        let runtime = WasmRuntime::open()?;
        let engines = load_instances(&runtime, onnx, json, chunking, instances.max(1)).into_iter().collect::<Result<Vec<_>, _>>()?;
        let (sample_rate, hop, streams) = {
            use crate::engine::Engine;
            (engines[0].sample_rate(), engines[0].hop(), engines[0].streams())
        };
        let slot = |engine| {
            let (generation, open, dropped) = (AtomicU64::new(0), AtomicUsize::new(0), Mutex::new(Vec::new()));
            Arc::new(Slot { engine: Mutex::new(Some(engine)), generation, open, dropped })
        };
        let slots = engines.into_iter().map(slot).collect();
        Ok(WasmBackend {
            runtime,
            slots,
            onnx: onnx.into(),
            json: json.into(),
            chunking,
            config,
            sample_rate,
            hop,
            streams,
            recovered: AtomicUsize::new(0),
        })
    }

    /// Instance `lane`'s, or else a free instance (or, if all are busy, waits for one).
    fn acquire(&self, lane: Option<usize>) -> (&Slot, MutexGuard<'_, Option<WasmEngine>>) {
        if let Some(slot) = lane.and_then(|l| self.slots.get(l)) {
            return (slot, lock(&slot.engine));
        }
        for slot in &self.slots {
            match slot.engine.try_lock() {
                Ok(g) => return (slot, g),
                Err(TryLockError::Poisoned(p)) => return (slot, p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        (&self.slots[0], lock(&self.slots[0].engine))
    }

    /// Runs `f` on the locked instance of `slot` (loading one if there is none), after closing
    /// the streams dropped since its last use. A failed instance is thrown away.
    fn run<T>(
        &self,
        slot: &Slot,
        guard: &mut MutexGuard<'_, Option<WasmEngine>>,
        f: impl FnOnce(&mut WasmEngine, u64) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        if guard.is_none() {
            **guard = Some(WasmEngine::load_in(&self.runtime, &self.onnx, &self.json, self.chunking)?);
        }
        let engine = guard.as_mut().expect("just loaded");
        let generation = slot.generation.load(Ordering::Relaxed);
        let dropped = std::mem::take(&mut *lock(&slot.dropped));
        let result = dropped
            .into_iter()
            .filter(|&(g, _)| g == generation)
            .try_for_each(|(_, handle)| engine.close(handle))
            .and_then(|()| f(engine, generation));
        // A trapped instance (or one that failed in any other way mid-call) is not trusted again.
        if matches!(result, Err(HostError::Trap(_) | HostError::Wasm(_))) {
            **guard = None;
            slot.generation.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// Runs `f` on instance `lane`, or else on whichever instance is free.
    fn with<T>(&self, lane: Option<usize>, f: impl FnOnce(&mut WasmEngine) -> Result<T, HostError>) -> Result<T, HostError> {
        let (slot, mut guard) = self.acquire(lane);
        self.run(slot, &mut guard, |e, _| f(e))
    }

    /// Instances alive now (the others are reloaded on next use).
    pub fn live_instances(&self) -> usize {
        self.slots.iter().filter(|s| lock(&s.engine).is_some()).count()
    }

    /// Streams that lost their instance part-way and went on window by window.
    pub fn recovered_streams(&self) -> usize {
        self.recovered.load(Ordering::Relaxed)
    }

    /// Streams open in the guest instances now (those dropped but not yet closed included).
    pub fn open_streams(&self) -> Result<usize, HostError> {
        let mut n = 0;
        for slot in &self.slots {
            if let Some(e) = lock(&slot.engine).as_mut() {
                n += e.open_streams()?;
            }
        }
        Ok(n)
    }

    /// Test hook: makes the next call on some instance trap.
    #[doc(hidden)]
    pub fn trap_once(&self) -> Result<(), HostError> {
        self.with(None, |e| e.trap())
    }

    /// The next chunk of a stream pinned to an instance; `None` if that instance is gone.
    fn next_pinned(&self, g: &mut GuestStream) -> Option<Result<Vec<f32>, HostError>> {
        let slot = Arc::clone(&g.slot);
        let mut guard = lock(&slot.engine);
        if guard.is_none() || slot.generation.load(Ordering::Relaxed) != g.generation {
            g.closed = true;
            return None;
        }
        let mut out = Vec::new();
        let result = self.run(&slot, &mut guard, |e, _| e.next(g.handle, &mut out));
        g.done += out.len() / self.hop;
        // The guest closes a stream once its last chunk is out or when it fails; a failed
        // instance takes its streams with it.
        g.closed = result.is_err() || out.is_empty() || g.done >= g.latent.frames;
        Some(result.map(|()| out))
    }
}

impl Backend for WasmBackend {
    fn config(&self) -> &VoiceConfig {
        &self.config
    }
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
    fn hop(&self) -> usize {
        self.hop
    }
    fn streams(&self) -> bool {
        self.streams
    }
    fn lanes(&self) -> usize {
        self.slots.len()
    }
    fn encode(&self, ipa: &str, _ids: &PhonemeIds, request: &Request, lane: Option<usize>) -> Result<Encoded, HostError> {
        let fewest = || self.slots.iter().min_by_key(|s| s.open.load(Ordering::Relaxed)).expect("at least one instance");
        let slot = lane.and_then(|l| self.slots.get(l)).unwrap_or_else(fewest);
        let mut guard = lock(&slot.engine);
        let (generation, (handle, started, latent)) = self.run(slot, &mut guard, |e, g| Ok((g, e.open(ipa, request)?)))?;
        slot.open.fetch_add(1, Ordering::Relaxed);
        let stream = GuestStream { slot: Arc::clone(slot), generation, handle, latent, chunking: request.chunking, done: 0, closed: false };
        Ok(Encoded { durations: started.durations, decoding: Decoding::Guest(Box::new(stream)) })
    }
    fn decode(&self, decoding: &mut Decoding, request: &Request, lane: Option<usize>) -> Result<Vec<f32>, HostError> {
        match decoding {
            Decoding::Guest(g) => match self.next_pinned(g) {
                Some(result) => result,
                None => {
                    // Its instance was lost to another request's failure: go on window by window.
                    self.recovered.fetch_add(1, Ordering::Relaxed);
                    let latent = std::mem::replace(&mut g.latent, Latent { channels: 0, frames: 0, data: Vec::new() });
                    let plan = ChunkPlan::resume(latent.frames, g.chunking, g.done);
                    *decoding = Decoding::Windows { latent, plan };
                    self.decode(decoding, request, lane)
                }
            },
            Decoding::Windows { latent, plan } => match plan.next() {
                Some(w) => self.with(lane, |e| e.decode_window(latent, w, request.speaker)),
                None => Ok(Vec::new()),
            },
            Decoding::Stream(_) => Err(HostError::Stopped("a native stream was handed to the wasm backend".into())),
        }
    }
}
