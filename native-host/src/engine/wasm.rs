//! The core's WebAssembly build (`just wasm`) run inside wasmtime.
//!
//! The guest exposes a small C ABI (see the `parla-wasm` crate). Compiled machine code is cached
//! on disk, keyed by the module's bytes and by wasmtime's own compatibility hash (version,
//! settings, CPU features), so only the first run pays for compilation.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Instant;

use parla_core::chunk::Chunking;
use parla_core::regulate::Latent;
use sha2::{Digest, Sha256};
use wasmtime::{Config, Instance, Memory, Module, Store, StoreLimits, StoreLimitsBuilder, TypedFunc};

use super::{Engine, EngineKind, Request, Started};
use crate::error::HostError;

/// Largest linear memory a guest may grow to.
const MEMORY_LIMIT: usize = 3 << 30;

fn wasm_err(context: &str) -> impl FnOnce(wasmtime::Error) -> HostError + '_ {
    move |e| match e.downcast_ref::<wasmtime::Trap>() {
        Some(_) => HostError::Trap(format!("{context}: {e:#}")),
        None => HostError::Wasm(format!("{context}: {e:#}")),
    }
}

/// Where the wasm module is looked for: `$PARLA_WASM`, next to this executable, or in this
/// source tree's build folder.
pub fn module_path() -> PathBuf {
    if let Some(p) = std::env::var_os("PARLA_WASM") {
        return PathBuf::from(p);
    }
    let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join("parla_wasm.wasm")));
    match beside {
        Some(p) if p.is_file() => p,
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-unknown-unknown/wasm/parla_wasm.wasm"),
    }
}

/// Folder for compiled-module files: `$PARLA_CACHE_DIR`, else `$XDG_CACHE_HOME/parla`, else
/// `~/.cache/parla`.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PARLA_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("parla"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/parla"))
}

struct Sha(Sha256);

impl Hasher for Sha {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        unreachable!("only the digest is used")
    }
}

/// How a module was obtained, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileSource {
    /// Loaded from the on-disk cache.
    Cache,
    /// Compiled now (and cached if possible).
    Compiled,
}

/// The wasmtime engine configuration every Parla host uses. With `PARLA_PERFMAP` set, wasmtime
/// writes a perf map, so `perf report` names the guest's functions.
pub fn engine() -> Result<wasmtime::Engine, HostError> {
    let mut config = Config::new();
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    if std::env::var_os("PARLA_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    wasmtime::Engine::new(&config).map_err(wasm_err("creating the engine"))
}

/// Compiles `wasm`, or loads its compiled form from the cache.
pub fn compile_cached(engine: &wasmtime::Engine, wasm: &[u8]) -> Result<(Module, CompileSource), HostError> {
    let mut h = Sha(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    h.0.update(wasm);
    let key: String = h.0.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let file = cache_dir().map(|d| d.join(format!("{key}.cwasm")));
    if let Some(f) = file.as_ref().filter(|f| f.is_file()) {
        // SAFETY: the file was written by `Module::serialize` of this same engine configuration
        // (the key includes wasmtime's compatibility hash), and wasmtime re-checks its header.
        if let Ok(m) = unsafe { Module::deserialize_file(engine, f) } {
            return Ok((m, CompileSource::Cache));
        }
    }
    let module = Module::new(engine, wasm).map_err(wasm_err("compiling the module"))?;
    if let Some(f) = file {
        // A cache that cannot be written only costs time.
        if let (Some(dir), Ok(bytes)) = (f.parent(), module.serialize()) {
            let tmp = f.with_extension(format!("tmp{}", std::process::id()));
            let _ = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&tmp, bytes)).and_then(|_| std::fs::rename(&tmp, &f));
        }
    }
    Ok((module, CompileSource::Compiled))
}

/// `parla_voice_load(onnx, onnx_len, json, json_len, first, size, context)`.
type VoiceLoadArgs = (u32, u32, u32, u32, u32, u32, u32);
/// `parla_open(ipa, ipa_len, noise_scale, length_scale, noise_w, speaker, seed, first, size, context)`.
type OpenArgs = (u32, u32, f32, f32, f32, u32, u64, u32, u32, u32);
/// `parla_decode(latent, channels, frames, keep_offset, keep_len, speaker)`.
type DecodeArgs = (u32, u32, u32, u32, u32, u32);

struct Exports {
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    voice_load: TypedFunc<VoiceLoadArgs, i32>,
    sample_rate: TypedFunc<(), u32>,
    hop: TypedFunc<(), u32>,
    streams: TypedFunc<(), u32>,
    open: TypedFunc<OpenArgs, i32>,
    frames: TypedFunc<u32, u32>,
    next: TypedFunc<u32, i32>,
    close: TypedFunc<u32, ()>,
    open_streams: TypedFunc<(), u32>,
    latent_ptr: TypedFunc<u32, u32>,
    latent_channels: TypedFunc<u32, u32>,
    decode: TypedFunc<DecodeArgs, i32>,
    chunk_ptr: TypedFunc<(), u32>,
    durations_ptr: TypedFunc<(), u32>,
    durations_len: TypedFunc<(), u32>,
    skipped_ptr: TypedFunc<(), u32>,
    skipped_len: TypedFunc<(), u32>,
    error_ptr: TypedFunc<(), u32>,
    error_len: TypedFunc<(), u32>,
}

impl Exports {
    fn new(store: &mut Store<StoreLimits>, instance: &Instance) -> Result<Exports, HostError> {
        macro_rules! f {
            ($name:literal) => {
                instance.get_typed_func(&mut *store, $name).map_err(wasm_err($name))?
            };
        }
        Ok(Exports {
            memory: instance.get_memory(&mut *store, "memory").ok_or_else(|| HostError::Wasm("the module exports no memory".into()))?,
            alloc: f!("parla_alloc"),
            voice_load: f!("parla_voice_load"),
            sample_rate: f!("parla_sample_rate"),
            hop: f!("parla_hop"),
            streams: f!("parla_streams"),
            open: f!("parla_open"),
            frames: f!("parla_frames"),
            next: f!("parla_next"),
            close: f!("parla_close"),
            open_streams: f!("parla_open_streams"),
            latent_ptr: f!("parla_latent_ptr"),
            latent_channels: f!("parla_latent_channels"),
            decode: f!("parla_decode"),
            chunk_ptr: f!("parla_chunk_ptr"),
            durations_ptr: f!("parla_durations_ptr"),
            durations_len: f!("parla_durations_len"),
            skipped_ptr: f!("parla_skipped_ptr"),
            skipped_len: f!("parla_skipped_len"),
            error_ptr: f!("parla_error_ptr"),
            error_len: f!("parla_error_len"),
        })
    }
}

/// Timings of loading a voice into the wasm engine.
#[derive(Debug, Clone, Copy)]
pub struct WasmLoadTimes {
    /// Compiling the module or loading it from the cache, in seconds.
    pub compile_s: f64,
    /// Where the module came from.
    pub source: CompileSource,
    /// The guest's voice load (parse, surgery, optimisation), in seconds.
    pub voice_s: f64,
}

/// The compiled module and the wasmtime engine it belongs to, shared by every instance made
/// from it (a server's workers, or a worker replacing a trapped instance).
pub struct WasmRuntime {
    engine: wasmtime::Engine,
    module: Module,
    compile_s: f64,
    source: CompileSource,
}

impl WasmRuntime {
    /// Compiles (or loads from the cache) the module at [`module_path()`].
    pub fn open() -> Result<WasmRuntime, HostError> {
        let path = module_path();
        let wasm = std::fs::read(&path).map_err(|e| HostError::Wasm(format!("{}: {e} (build it with `just wasm`)", path.display())))?;
        let engine = engine()?;
        let t0 = Instant::now();
        let (module, source) = compile_cached(&engine, &wasm)?;
        Ok(WasmRuntime { engine, module, compile_s: t0.elapsed().as_secs_f64(), source })
    }
}

/// One guest instance with a voice loaded.
pub struct WasmEngine {
    store: Store<StoreLimits>,
    x: Exports,
    sample_rate: u32,
    hop: usize,
    streams: bool,
    /// The stream [`Engine::start`] opened last, and its frames still to decode.
    current: Option<(u32, usize)>,
    /// How long loading took.
    pub load_times: WasmLoadTimes,
}

impl WasmEngine {
    /// Compiles (or loads from the cache) the module at [`module_path()`] and loads a voice.
    pub fn load(onnx: &[u8], config: &[u8], chunking: Chunking) -> Result<WasmEngine, HostError> {
        WasmEngine::load_in(&WasmRuntime::open()?, onnx, config, chunking)
    }

    /// A new instance of an already compiled module, with a voice loaded.
    pub fn load_in(rt: &WasmRuntime, onnx: &[u8], config: &[u8], chunking: Chunking) -> Result<WasmEngine, HostError> {
        let (engine, module, compile_s, source) = (&rt.engine, &rt.module, rt.compile_s, rt.source);
        let limits = StoreLimitsBuilder::new().memory_size(MEMORY_LIMIT).build();
        let mut store = Store::new(engine, limits);
        store.limiter(|l| l);
        let instance = Instance::new(&mut store, module, &[]).map_err(wasm_err("instantiating"))?;
        let x = Exports::new(&mut store, &instance)?;
        let mut e = WasmEngine {
            store,
            x,
            sample_rate: 0,
            hop: 0,
            streams: false,
            current: None,
            load_times: WasmLoadTimes { compile_s, source, voice_s: 0.0 },
        };
        let t1 = Instant::now();
        let onnx_ptr = e.put(onnx)?;
        let json_ptr = e.put(config)?;
        let args = (
            onnx_ptr,
            onnx.len() as u32,
            json_ptr,
            config.len() as u32,
            chunking.first as u32,
            chunking.size as u32,
            chunking.context as u32,
        );
        let status = e.x.voice_load.call(&mut e.store, args).map_err(wasm_err("loading the voice"))?;
        e.check(status)?;
        e.load_times.voice_s = t1.elapsed().as_secs_f64();
        e.sample_rate = e.x.sample_rate.call(&mut e.store, ()).map_err(wasm_err("sample rate"))?;
        e.hop = e.x.hop.call(&mut e.store, ()).map_err(wasm_err("hop"))? as usize;
        e.streams = e.x.streams.call(&mut e.store, ()).map_err(wasm_err("streams"))? != 0;
        Ok(e)
    }

    /// Copies bytes into a fresh guest buffer (which the guest call it is passed to frees).
    fn put(&mut self, bytes: &[u8]) -> Result<u32, HostError> {
        let ptr = self.x.alloc.call(&mut self.store, bytes.len() as u32).map_err(wasm_err("allocating"))?;
        if ptr == 0 && !bytes.is_empty() {
            return Err(HostError::Wasm("guest is out of memory".into()));
        }
        self.x.memory.write(&mut self.store, ptr as usize, bytes).map_err(|e| HostError::Wasm(format!("writing guest memory: {e}")))?;
        Ok(ptr)
    }

    fn read(&mut self, ptr: u32, len: usize) -> Result<Vec<u8>, HostError> {
        let mut buf = vec![0u8; len];
        self.x.memory.read(&self.store, ptr as usize, &mut buf).map_err(|e| HostError::Wasm(format!("reading guest memory: {e}")))?;
        Ok(buf)
    }

    /// Bytes of the guest's linear memory. WebAssembly memory only grows, so this is the most
    /// the instance has needed so far: after loading, about what each instance of a voice costs.
    pub fn memory_bytes(&self) -> usize {
        self.x.memory.data_size(&self.store)
    }

    /// Reads `n` f32 samples of the last chunk out of guest memory into `out`.
    fn read_chunk(&mut self, n: usize, out: &mut Vec<f32>) -> Result<(), HostError> {
        out.clear();
        let ptr = self.x.chunk_ptr.call(&mut self.store, ()).map_err(wasm_err("chunk"))? as usize;
        read_f32s(self.x.memory.data(&self.store), ptr, n, out)
    }

    /// Encodes an utterance and opens a stream for it in this instance. Returns the stream's
    /// handle, what [`Engine::start`] reports, and a copy of its latents (with which any
    /// instance can decode it window by window, [`WasmEngine::decode_window`], should this
    /// instance be lost).
    pub fn open(&mut self, ipa: &str, request: &Request) -> Result<(u32, Started, Latent), HostError> {
        let ptr = self.put(ipa.as_bytes())?;
        let (s, c) = (request.scales, request.chunking);
        let args = (
            ptr,
            ipa.len() as u32,
            s.noise_scale,
            s.length_scale,
            s.noise_w,
            request.speaker,
            request.seed,
            c.first as u32,
            c.size as u32,
            c.context as u32,
        );
        let handle = self.x.open.call(&mut self.store, args).map_err(wasm_err("encoding"))?;
        let handle = self.check(handle)? as u32;
        let frames = self.x.frames.call(&mut self.store, handle).map_err(wasm_err("frames"))? as usize;
        let dptr = self.x.durations_ptr.call(&mut self.store, ()).map_err(wasm_err("durations"))?;
        let dlen = self.x.durations_len.call(&mut self.store, ()).map_err(wasm_err("durations"))? as usize;
        let durations = self.read(dptr, dlen * 4)?.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let sptr = self.x.skipped_ptr.call(&mut self.store, ()).map_err(wasm_err("skipped"))?;
        let slen = self.x.skipped_len.call(&mut self.store, ()).map_err(wasm_err("skipped"))? as usize;
        let skipped = String::from_utf8_lossy(&self.read(sptr, slen)?).into_owned();
        let channels = self.x.latent_channels.call(&mut self.store, handle).map_err(wasm_err("latent"))? as usize;
        let lptr = self.x.latent_ptr.call(&mut self.store, handle).map_err(wasm_err("latent"))? as usize;
        let mut data = Vec::new();
        read_f32s(self.x.memory.data(&self.store), lptr, channels * frames, &mut data)?;
        Ok((handle, Started { frames, durations, skipped }, Latent { channels, frames, data }))
    }

    /// Decodes the next chunk of stream `handle` into `out`; empty once the stream is done (the
    /// guest then closes it, as it does a stream that failed).
    pub fn next(&mut self, handle: u32, out: &mut Vec<f32>) -> Result<(), HostError> {
        let n = self.x.next.call(&mut self.store, handle).map_err(wasm_err("decoding"))?;
        let n = self.check(n)? as usize;
        self.read_chunk(n, out)
    }

    /// Closes stream `handle`, freeing its state in the guest.
    pub fn close(&mut self, handle: u32) -> Result<(), HostError> {
        self.x.close.call(&mut self.store, handle).map_err(wasm_err("closing"))
    }

    /// Whether the voice's decoder streams (see [`parla_core::infer::Voice::streams`]).
    pub fn streams(&self) -> bool {
        self.streams
    }

    /// Streams open in this instance.
    pub fn open_streams(&mut self) -> Result<usize, HostError> {
        Ok(self.x.open_streams.call(&mut self.store, ()).map_err(wasm_err("streams"))? as usize)
    }

    /// Decodes one window of host-held latents; returns the kept frames' samples.
    pub fn decode_window(&mut self, latent: &Latent, w: parla_core::chunk::Window, speaker: u32) -> Result<Vec<f32>, HostError> {
        let mut window = Vec::new();
        latent.window_into(w.start, w.len, w.len, &mut window);
        let bytes: Vec<u8> = window.iter().flat_map(|v| v.to_le_bytes()).collect();
        let ptr = self.put(&bytes)?;
        let args = (ptr, latent.channels as u32, w.len as u32, w.keep_offset() as u32, w.keep_len as u32, speaker);
        let n = self.x.decode.call(&mut self.store, args).map_err(wasm_err("decoding"))?;
        let n = self.check(n)? as usize;
        let mut out = Vec::new();
        self.read_chunk(n, &mut out)?;
        Ok(out)
    }

    /// Test hook: makes the guest trap (an out-of-bounds read inside the guest).
    #[doc(hidden)]
    pub fn trap(&mut self) -> Result<(), HostError> {
        let n = self.x.decode.call(&mut self.store, (u32::MAX - 255, 1, 64, 0, 1, 0)).map_err(wasm_err("decoding"))?;
        self.check(n).map(|_| ())
    }

    fn check(&mut self, status: i32) -> Result<i32, HostError> {
        if status >= 0 {
            return Ok(status);
        }
        let ptr = self.x.error_ptr.call(&mut self.store, ()).map_err(wasm_err("error"))?;
        let len = self.x.error_len.call(&mut self.store, ()).map_err(wasm_err("error"))? as usize;
        let msg = String::from_utf8_lossy(&self.read(ptr, len)?).into_owned();
        Err(HostError::Guest(msg))
    }
}

impl Engine for WasmEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Wasm
    }

    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn hop(&self) -> usize {
        self.hop
    }

    fn start(&mut self, ipa: &str, request: &Request) -> Result<Started, HostError> {
        if let Some((previous, _)) = self.current.take() {
            self.close(previous)?;
        }
        let (handle, started, _) = self.open(ipa, request)?;
        self.current = Some((handle, started.frames));
        Ok(started)
    }

    fn next_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool, HostError> {
        out.clear();
        let Some((handle, left)) = self.current else { return Ok(false) };
        self.next(handle, out)?;
        let left = left.saturating_sub(out.len() / self.hop);
        // The guest closes a stream as its last chunk goes out.
        self.current = (left > 0 && !out.is_empty()).then_some((handle, left));
        Ok(!out.is_empty())
    }
}

/// Appends `n` little-endian f32s at `ptr` of guest memory `mem` to `out`.
fn read_f32s(mem: &[u8], ptr: usize, n: usize, out: &mut Vec<f32>) -> Result<(), HostError> {
    let bytes = mem.get(ptr..ptr + 4 * n).ok_or_else(|| HostError::Wasm("result outside guest memory".into()))?;
    out.extend(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
    Ok(())
}
