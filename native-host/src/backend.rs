//! What the multiplexer ([`crate::mux`]) needs from an engine: encode an utterance, then decode
//! it chunk by chunk. The utterance's state ([`Decoding`]) lives in the host, so any worker can
//! run any stream's next step. Natively that state is the core's exact streaming decoder; for
//! wasm it is the latents and a window plan, so any guest instance can decode any window. The
//! voice's weights exist once per native process or once per guest instance, never per stream.

use std::cell::RefCell;
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
}

impl Decoding {
    /// Windows over `latent`, chunked as `chunking` says.
    pub fn windows(latent: Latent, chunking: Chunking) -> Decoding {
        Decoding::Windows { plan: ChunkPlan::new(latent.frames, chunking), latent }
    }

    /// Frames still to decode.
    pub fn remaining_frames(&self) -> usize {
        match self {
            Decoding::Windows { plan, .. } => plan.remaining(),
            Decoding::Stream(s) => s.remaining_frames(),
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
    /// Runs the encoder and length regulation (`ipa` and its `ids` describe the same phonemes).
    fn encode(&self, ipa: &str, ids: &PhonemeIds, request: &Request) -> Result<Encoded, HostError>;
    /// Decodes the next chunk of an utterance this backend encoded; empty once it is done.
    fn decode(&self, decoding: &mut Decoding, request: &Request) -> Result<Vec<f32>, HostError>;
}

/// Loads a voice into the engine `kind` (`instances` guest instances for wasm: one per worker).
pub fn open(kind: EngineKind, onnx: &[u8], json: &[u8], chunking: Chunking, instances: usize) -> Result<Arc<dyn Backend>, HostError> {
    Ok(match kind {
        EngineKind::Native => Arc::new(NativeBackend::load(onnx, json, chunking)?),
        EngineKind::Wasm => Arc::new(WasmBackend::load(onnx, json, chunking, instances)?),
    })
}

/// The core compiled for this machine: one voice shared by every worker.
pub struct NativeBackend(pub Arc<Voice>);

impl NativeBackend {
    /// Loads a voice natively, with decoder plans for `chunking`'s windows.
    pub fn load(onnx: &[u8], config: &[u8], chunking: Chunking) -> Result<NativeBackend, HostError> {
        Ok(NativeBackend(Voice::load(onnx, config, &LoadOptions { chunking })?))
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
    fn encode(&self, _ipa: &str, ids: &PhonemeIds, request: &Request) -> Result<Encoded, HostError> {
        let synth = self.0.synthesize(ids, request)?;
        if synth.is_streamed() {
            return Ok(Encoded { durations: synth.durations().to_vec(), decoding: Decoding::Stream(Box::new(synth)) });
        }
        let (durations, latent, plan) = synth.into_parts();
        Ok(Encoded { durations, decoding: Decoding::Windows { latent, plan } })
    }
    fn decode(&self, decoding: &mut Decoding, request: &Request) -> Result<Vec<f32>, HostError> {
        match decoding {
            Decoding::Stream(s) => Ok(Synthesis::next_chunk(s).transpose()?.map(|c| c.samples).unwrap_or_default()),
            Decoding::Windows { latent, plan } => match plan.next() {
                Some(w) => SCRATCH.with_borrow_mut(|scratch| Ok(self.0.decode_chunk(latent, w, false, request, scratch)?)),
                None => Ok(Vec::new()),
            },
        }
    }
}

/// The core's wasm build in wasmtime: a few guest instances, each with the voice loaded, used
/// by whichever worker is free. An instance whose call failed (a trap, say) is dropped and a
/// fresh one loaded in its place on next use, so one bad request never poisons the others.
pub struct WasmBackend {
    runtime: WasmRuntime,
    instances: Vec<Mutex<Option<WasmEngine>>>,
    onnx: Arc<[u8]>,
    json: Arc<[u8]>,
    chunking: Chunking,
    config: VoiceConfig,
    sample_rate: u32,
    hop: usize,
}

impl WasmBackend {
    /// Loads `instances` guest instances (usually one per worker).
    pub fn load(onnx: &[u8], json: &[u8], chunking: Chunking, instances: usize) -> Result<WasmBackend, HostError> {
        let config = VoiceConfig::from_json(json)?;
        let runtime = WasmRuntime::open()?;
        let first = WasmEngine::load_in(&runtime, onnx, json, chunking)?;
        let (sample_rate, hop) = {
            use crate::engine::Engine;
            (first.sample_rate(), first.hop())
        };
        let mut slots = vec![Mutex::new(Some(first))];
        for _ in 1..instances.max(1) {
            slots.push(Mutex::new(Some(WasmEngine::load_in(&runtime, onnx, json, chunking)?)));
        }
        Ok(WasmBackend { runtime, instances: slots, onnx: onnx.into(), json: json.into(), chunking, config, sample_rate, hop })
    }

    /// A free instance (or, if all are busy, waits for one).
    fn acquire(&self) -> MutexGuard<'_, Option<WasmEngine>> {
        for slot in &self.instances {
            match slot.try_lock() {
                Ok(g) => return g,
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        self.instances[0].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on an instance; on failure the instance is thrown away.
    fn with<T>(&self, f: impl FnOnce(&mut WasmEngine) -> Result<T, HostError>) -> Result<T, HostError> {
        let mut slot = self.acquire();
        if slot.is_none() {
            *slot = Some(WasmEngine::load_in(&self.runtime, &self.onnx, &self.json, self.chunking)?);
        }
        let engine = slot.as_mut().expect("just loaded");
        let result = f(engine);
        // A trapped instance (or one that failed in any other way mid-call) is not trusted again.
        if matches!(result, Err(HostError::Trap(_) | HostError::Wasm(_))) {
            *slot = None;
        }
        result
    }

    /// Instances alive now (the others are reloaded on next use).
    pub fn live_instances(&self) -> usize {
        self.instances.iter().filter(|s| s.lock().map(|g| g.is_some()).unwrap_or(false)).count()
    }

    /// Test hook: makes the next call on some instance trap.
    #[doc(hidden)]
    pub fn trap_once(&self) -> Result<(), HostError> {
        self.with(|e| e.trap())
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
    fn encode(&self, ipa: &str, _ids: &PhonemeIds, request: &Request) -> Result<Encoded, HostError> {
        self.with(|e| e.encode(ipa, request))
    }
    fn decode(&self, decoding: &mut Decoding, request: &Request) -> Result<Vec<f32>, HostError> {
        match decoding {
            Decoding::Windows { latent, plan } => match plan.next() {
                Some(w) => self.with(|e| e.decode_window(latent, w, request.speaker)),
                None => Ok(Vec::new()),
            },
            Decoding::Stream(_) => Err(HostError::Stopped("a native stream was handed to the wasm backend".into())),
        }
    }
}
