//! Parla's core behind a plain C ABI, for hosts that run WebAssembly (wasmtime).
//!
//! One instance holds one voice and many open streams, one per utterance
//! ([`parla_open`], [`parla_next`], [`parla_close`]); each stream keeps its decoder's state in
//! the instance, so its chunks are decoded there. A host may also keep an utterance's latents
//! (copied out with [`parla_latent_ptr`]) and decode any window of them on any instance with
//! [`parla_decode`]: that is how a stream survives the loss of its instance. The host copies bytes in through
//! [`parla_alloc`], calls the functions below, and reads results straight out of linear memory
//! (`parla_chunk_ptr`, `parla_error_ptr`, …). Every call that can fail returns a negative
//! [`Status`] code and leaves a message at [`parla_error_ptr`] / [`parla_error_len`].
//!
//! Build: `just wasm` (wasm32-unknown-unknown, `+simd128`, LTO).

use std::cell::RefCell;
use std::sync::Arc;

use parla_core::chunk::{Chunking, Window};
use parla_core::config::Scales;
use parla_core::infer::{LoadOptions, Request, Synthesis, Voice, VoiceError};
use parla_core::phonemes::PhonemeIds;
use parla_core::regulate::Latent;

/// Status codes returned (negated) by the exports.
#[repr(i32)]
#[derive(Debug, Clone, Copy)]
pub enum Status {
    /// Bad parameter, unknown speaker, empty or oversized input.
    Input = 1,
    /// The voice files are not a usable Piper voice.
    Voice = 2,
    /// Inference failed.
    Inference = 3,
    /// No voice is loaded.
    NoVoice = 4,
    /// Text is not UTF-8.
    Utf8 = 5,
}

#[derive(Default)]
struct State {
    voice: Option<Arc<Voice>>,
    streams: Vec<Option<Synthesis>>,
    chunk: Vec<f32>,
    scratch: Vec<f32>,
    durations: Vec<u32>,
    skipped: String,
    error: String,
}

impl State {
    fn stream(&self, handle: u32) -> Option<&Synthesis> {
        self.streams.get(handle as usize).and_then(Option::as_ref)
    }
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn fail(state: &mut State, status: Status, message: impl ToString) -> i32 {
    state.error = message.to_string();
    -(status as i32)
}

fn voice_status(e: &VoiceError) -> Status {
    match e {
        VoiceError::Core(_) => Status::Input,
        VoiceError::Tract { stage, .. } if stage.starts_with("run") => Status::Inference,
        _ => Status::Voice,
    }
}

/// Allocates `len` bytes for the host to fill; 0 when out of memory.
#[no_mangle]
pub extern "C" fn parla_alloc(len: usize) -> *mut u8 {
    let mut v = Vec::<u8>::new();
    if v.try_reserve_exact(len).is_err() {
        return std::ptr::null_mut();
    }
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

/// Frees what [`parla_alloc`] gave.
///
/// # Safety
/// `ptr` and `len` must come from one `parla_alloc` call, freed once.
#[no_mangle]
pub unsafe extern "C" fn parla_free(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        drop(Vec::from_raw_parts(ptr, 0, len));
    }
}

/// Takes back a host-filled buffer.
unsafe fn take(ptr: *mut u8, len: usize) -> Vec<u8> {
    if ptr.is_null() {
        Vec::new()
    } else {
        Vec::from_raw_parts(ptr, len, len)
    }
}

/// Loads a voice from its `.onnx` and `.onnx.json` bytes, which this call frees. Decoder plans
/// are optimised for the chunking given (`first`, `size`, `context` frames). Returns 0 or a
/// negative [`Status`].
///
/// # Safety
/// Both buffers must come from [`parla_alloc`] with these lengths, filled.
#[no_mangle]
pub unsafe extern "C" fn parla_voice_load(
    onnx: *mut u8,
    onnx_len: usize,
    json: *mut u8,
    json_len: usize,
    first: u32,
    size: u32,
    context: u32,
) -> i32 {
    let onnx = take(onnx, onnx_len);
    let json = take(json, json_len);
    let chunking = Chunking { first: first as usize, size: size as usize, context: context as usize };
    STATE.with_borrow_mut(|s| {
        s.streams.clear();
        s.voice = None;
        match Voice::load_owned(onnx, &json, &LoadOptions::new(chunking)) {
            Ok(v) => {
                s.voice = Some(v);
                0
            }
            Err(e) => fail(s, Status::Voice, e),
        }
    })
}

/// Sample rate of the loaded voice (0 if none).
#[no_mangle]
pub extern "C" fn parla_sample_rate() -> u32 {
    STATE.with_borrow(|s| s.voice.as_ref().map_or(0, |v| v.sample_rate()))
}

/// Samples per frame of the loaded voice (0 if none).
#[no_mangle]
pub extern "C" fn parla_hop() -> u32 {
    STATE.with_borrow(|s| s.voice.as_ref().map_or(0, |v| v.hop() as u32))
}

/// 1 if the loaded voice's decoder streams (each frame decoded once, whatever the chunk
/// size), 0 if it decodes windows with context (or no voice is loaded).
#[no_mangle]
pub extern "C" fn parla_streams() -> u32 {
    STATE.with_borrow(|s| s.voice.as_ref().map_or(0, |v| u32::from(v.streams())))
}

/// Most streams one instance keeps open at once.
pub const MAX_STREAMS: usize = 4096;

/// Encodes an utterance given as IPA (UTF-8, freed by this call) and opens a stream that decodes
/// it. Returns the stream's handle (≥ 0), or a negative [`Status`]. The stream's durations and
/// skipped phonemes are then readable ([`parla_durations_ptr`], [`parla_skipped_ptr`]), and so
/// are its frame count ([`parla_frames`]) and latents ([`parla_latent_ptr`]). Each instance keeps
/// many streams open at once; each carries its decoder's state from chunk to chunk.
///
/// # Safety
/// `ipa` must come from [`parla_alloc`] with this length, filled.
#[no_mangle]
pub unsafe extern "C" fn parla_open(
    ipa: *mut u8,
    ipa_len: usize,
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
    speaker: u32,
    seed: u64,
    first: u32,
    size: u32,
    context: u32,
) -> i32 {
    let ipa = take(ipa, ipa_len);
    STATE.with_borrow_mut(|s| {
        let Some(voice) = s.voice.clone() else {
            return fail(s, Status::NoVoice, "no voice loaded");
        };
        let Ok(ipa) = std::str::from_utf8(&ipa) else {
            return fail(s, Status::Utf8, "phonemes are not UTF-8");
        };
        let handle = match s.streams.iter().position(Option::is_none) {
            Some(free) => free,
            None if s.streams.len() < MAX_STREAMS => {
                s.streams.push(None);
                s.streams.len() - 1
            }
            None => return fail(s, Status::Input, format!("more than {MAX_STREAMS} streams open on one instance")),
        };
        let ids = match PhonemeIds::from_ipa(voice.config(), ipa) {
            Ok(ids) => ids,
            Err(e) => return fail(s, Status::Input, e),
        };
        let request = Request {
            scales: Scales { noise_scale, length_scale, noise_w },
            speaker,
            seed,
            chunking: Chunking { first: first as usize, size: size as usize, context: context as usize },
        };
        match voice.synthesize(&ids, &request) {
            Ok(synth) => {
                s.durations = synth.durations().to_vec();
                s.skipped = ids.skipped.iter().collect();
                s.streams[handle] = Some(synth);
                handle as i32
            }
            Err(e) => fail(s, voice_status(&e), e),
        }
    })
}

/// Frames of stream `handle` (0 if there is no such stream).
#[no_mangle]
pub extern "C" fn parla_frames(handle: u32) -> u32 {
    STATE.with_borrow(|s| s.stream(handle).map_or(0, |x| x.frames() as u32))
}

/// Decodes the next chunk of stream `handle`. Returns its sample count (read them at
/// [`parla_chunk_ptr`]), 0 when the stream is done, or a negative [`Status`]. A stream is closed
/// as soon as its last chunk is out, or when it fails.
#[no_mangle]
pub extern "C" fn parla_next(handle: u32) -> i32 {
    STATE.with_borrow_mut(|s| {
        let Some(synth) = s.streams.get_mut(handle as usize).and_then(Option::as_mut) else {
            return fail(s, Status::Input, format!("no stream {handle}"));
        };
        match synth.next_chunk() {
            Some(Ok(chunk)) => {
                if synth.remaining_frames() == 0 {
                    s.streams[handle as usize] = None;
                }
                s.chunk = chunk.samples;
                s.chunk.len() as i32
            }
            Some(Err(e)) => {
                s.streams[handle as usize] = None;
                fail(s, voice_status(&e), e)
            }
            None => {
                s.streams[handle as usize] = None;
                0
            }
        }
    })
}

/// Closes stream `handle` (if open), freeing its state.
#[no_mangle]
pub extern "C" fn parla_close(handle: u32) {
    STATE.with_borrow_mut(|s| {
        if let Some(slot) = s.streams.get_mut(handle as usize) {
            *slot = None;
        }
    })
}

/// Streams open now.
#[no_mangle]
pub extern "C" fn parla_open_streams() -> u32 {
    STATE.with_borrow(|s| s.streams.iter().filter(|x| x.is_some()).count() as u32)
}

/// Stream `handle`'s latents (`z_p`, f32, channel-major: [`parla_latent_channels`] rows of
/// [`parla_frames`] frames); null when there is no such stream.
#[no_mangle]
pub extern "C" fn parla_latent_ptr(handle: u32) -> *const f32 {
    STATE.with_borrow(|s| s.stream(handle).map_or(std::ptr::null(), |x| x.latent().data.as_ptr()))
}

/// Channels of stream `handle`'s latents (0 when there is no such stream).
#[no_mangle]
pub extern "C" fn parla_latent_channels(handle: u32) -> u32 {
    STATE.with_borrow(|s| s.stream(handle).map_or(0, |x| x.latent().channels as u32))
}

/// Decodes one window given as latents (`channels × frames` f32, channel-major, in a buffer
/// from [`parla_alloc`] that this call frees) and keeps `keep_len` frames from `keep_offset`.
/// Independent of the current utterance: any instance with the voice can decode any window.
/// Returns the sample count (read them at [`parla_chunk_ptr`]) or a negative [`Status`].
///
/// # Safety
/// `latent` must come from [`parla_alloc`] with `channels × frames × 4` bytes, filled.
#[no_mangle]
pub unsafe extern "C" fn parla_decode(latent: *mut u8, channels: u32, frames: u32, keep_offset: u32, keep_len: u32, speaker: u32) -> i32 {
    let bytes = take(latent, channels as usize * frames as usize * 4);
    STATE.with_borrow_mut(|s| {
        let Some(voice) = s.voice.clone() else {
            return fail(s, Status::NoVoice, "no voice loaded");
        };
        let (frames, keep_offset, keep_len) = (frames as usize, keep_offset as usize, keep_len as usize);
        if keep_offset + keep_len > frames || keep_len == 0 {
            return fail(s, Status::Input, "kept frames outside the window");
        }
        let data = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let latent = Latent { channels: channels as usize, frames, data };
        let window = Window { start: 0, len: frames, keep_start: keep_offset, keep_len };
        let request = Request { speaker, ..Request::defaults(voice.config()) };
        let mut scratch = std::mem::take(&mut s.scratch);
        let result = voice.decode_chunk(&latent, window, false, &request, &mut scratch);
        s.scratch = scratch;
        match result {
            Ok(samples) => {
                s.chunk = samples;
                s.chunk.len() as i32
            }
            Err(e) => fail(s, voice_status(&e), e),
        }
    })
}

/// The last chunk's samples (f32).
#[no_mangle]
pub extern "C" fn parla_chunk_ptr() -> *const f32 {
    STATE.with_borrow(|s| s.chunk.as_ptr())
}

/// The last opened stream's durations (u32 frames per phoneme id).
#[no_mangle]
pub extern "C" fn parla_durations_ptr() -> *const u32 {
    STATE.with_borrow(|s| s.durations.as_ptr())
}

/// How many durations.
#[no_mangle]
pub extern "C" fn parla_durations_len() -> u32 {
    STATE.with_borrow(|s| s.durations.len() as u32)
}

/// Phonemes of the last opened stream the voice does not know (UTF-8).
#[no_mangle]
pub extern "C" fn parla_skipped_ptr() -> *const u8 {
    STATE.with_borrow(|s| s.skipped.as_ptr())
}

/// Byte length of the skipped phonemes.
#[no_mangle]
pub extern "C" fn parla_skipped_len() -> u32 {
    STATE.with_borrow(|s| s.skipped.len() as u32)
}

/// The last error message (UTF-8).
#[no_mangle]
pub extern "C" fn parla_error_ptr() -> *const u8 {
    STATE.with_borrow(|s| s.error.as_ptr())
}

/// Byte length of the last error message.
#[no_mangle]
pub extern "C" fn parla_error_len() -> u32 {
    STATE.with_borrow(|s| s.error.len() as u32)
}
