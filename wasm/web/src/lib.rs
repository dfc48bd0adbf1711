//! Parla in browsers: the core behind wasm-bindgen, used by the `parla` npm package (`www/`).
//!
//! [`Voice::load`] takes the bytes of a Piper `.onnx` and `.onnx.json`; [`Voice::start`] opens a
//! [`Speech`]: text goes in whole or in pieces ([`Speech::push`], [`Speech::end`]) and runs the
//! core's own pipeline — `segment::Segmenter` → `front::ENGLISH` (normalize + G2P) → encoder —
//! and [`Speech::next_chunk`] decodes one chunk at a time. Each [`Chunk`] carries its samples and
//! the events that start in it (segments and words, placed on the audio clock: samples since the
//! start of the speech). Errors are JS exceptions with a one-line message. A voice can also be
//! prepared in two workers at once: [`Encoder::load`] in one, [`Voice::load_decoder`] in the
//! other, linked by a function that carries each encoding across.
//!
//! Build: `just web` (wasm32-unknown-unknown, `+simd128`, the `wasm` profile, wasm-bindgen
//! `--target web`, wasm-opt).

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::{Arc, Mutex, Once};

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use parla_core::chunk::{Chunking, FIRST_CHUNK};
use parla_core::events::word_timings;
use parla_core::frames::quiet_lead;
use parla_core::front::ENGLISH;
use parla_core::infer::{EncoderInput, EncoderLink, EncoderOutput, LoadOptions, Part, Request, Synthesis, Voice as CoreVoice, VoiceError};
use parla_core::phonemes::PhonemeIds;
use parla_core::regulate;
use parla_core::segment::{Policy, Segment, Segmenter};

mod gemm;
#[cfg(test)]
mod tests;

/// Frames of silence handed out per chunk of a `<break>`.
const SILENCE_CHUNK_FRAMES: usize = 32;

static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// Panics abort the module (`panic = "abort"`); the message is kept so the page can say what
/// happened after the trap ([`last_panic`]).
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(mut m) = LAST_PANIC.lock() {
                *m = info.to_string();
            }
            previous(info);
        }))
    });
}

/// The message of the panic that trapped the module, if one did. The module must be
/// instantiated again after a trap.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.lock().ok().map(|m| m.clone()).filter(|m| !m.is_empty())
}

/// Written text in its spoken form (numbers, abbreviations and symbols as words).
#[wasm_bindgen]
pub fn normalize(text: &str) -> String {
    install_panic_hook();
    ENGLISH.normalized(text)
}

/// English text to IPA as Piper voices expect it (normalize + G2P).
#[wasm_bindgen]
pub fn phonemize(text: &str) -> String {
    install_panic_hook();
    ENGLISH.ipa(text)
}

fn load_error(e: VoiceError) -> JsError {
    match e {
        VoiceError::Core(c) => JsError::new(&format!("voice config is not valid: {c}")),
        other => JsError::new(&format!("voice file is not a Piper model: {other}")),
    }
}

fn js_error(context: &str, e: impl std::fmt::Display) -> JsError {
    JsError::new(&format!("{context}: {e}"))
}

/// A loaded Piper voice.
#[wasm_bindgen]
pub struct Voice {
    inner: Arc<CoreVoice>,
    chunking: Chunking,
}

#[wasm_bindgen]
impl Voice {
    /// Loads a voice from the bytes of its `.onnx` model and `.onnx.json` config. Decoder plans
    /// are prepared for the chunking given: the first chunk of each segment keeps `chunk_first`
    /// frames (small: early first audio; default the core's `FIRST_CHUNK`, 8), later ones grow
    /// to `chunk_size` (default 64); `context` frames are decoded on each side and dropped
    /// (default 24, which matches whole-utterance decoding).
    pub fn load(
        onnx: Vec<u8>,
        json: &[u8],
        chunk_first: Option<u32>,
        chunk_size: Option<u32>,
        context: Option<u32>,
    ) -> Result<Voice, JsError> {
        Voice::load_part(onnx, json, chunking(chunk_first, chunk_size, context), Part::Whole)
    }

    /// [`Voice::load`] without the encoder, which another worker loads at the same time with
    /// [`Encoder::load`]: the voice is ready in about three quarters of the time. Each encoding is asked of
    /// `encode(ids: Int32Array, scales: Float32Array, speaker: number, noise: Float32Array)`,
    /// which must return what [`Encoder::encode`] returns for them, or throw.
    #[wasm_bindgen(js_name = loadDecoder)]
    pub fn load_decoder(
        onnx: Vec<u8>,
        json: &[u8],
        chunk_first: Option<u32>,
        chunk_size: Option<u32>,
        context: Option<u32>,
        encode: js_sys::Function,
    ) -> Result<Voice, JsError> {
        let link = Arc::new(JsLink(encode));
        Voice::load_part(onnx, json, chunking(chunk_first, chunk_size, context), Part::Decoder(link))
    }

    /// Builds the decoder plan that loading leaves for later: the one for utterances that fit
    /// in one chunk. Call it once the voice is ready, when nothing waits; otherwise the first
    /// such utterance builds it.
    pub fn prepare(&self) -> Result<(), JsError> {
        self.inner.prepare_general().map_err(|e| js_error("preparing the voice", e))
    }

    /// Output sample rate in Hz.
    #[wasm_bindgen(getter, js_name = sampleRate)]
    pub fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }

    /// Audio samples per decoder frame (256 for Piper voices).
    #[wasm_bindgen(getter)]
    pub fn hop(&self) -> u32 {
        self.inner.hop() as u32
    }

    /// How many speakers the voice has (1 for single-speaker voices).
    #[wasm_bindgen(getter)]
    pub fn speakers(&self) -> u32 {
        self.inner.config().num_speakers
    }

    /// Speaker names by id, where the voice names them (empty otherwise).
    #[wasm_bindgen(getter, js_name = speakerNames)]
    pub fn speaker_names(&self) -> Vec<String> {
        let map = &self.inner.config().speaker_id_map;
        let mut names = vec![String::new(); self.inner.config().num_speakers as usize];
        for (name, &id) in map {
            if let Some(slot) = names.get_mut(id as usize) {
                *slot = name.clone();
            }
        }
        if names.iter().all(String::is_empty) {
            names.clear();
        }
        names
    }

    /// The voice's default scales: `{noiseScale, lengthScale, noiseW}`.
    #[wasm_bindgen(getter)]
    pub fn defaults(&self) -> Object {
        let s = self.inner.config().scales;
        let o = Object::new();
        set(&o, "noiseScale", s.noise_scale.into());
        set(&o, "lengthScale", s.length_scale.into());
        set(&o, "noiseW", s.noise_w.into());
        o
    }

    /// Opens a speech. `options` (optional): `{speed, speaker, seed, noiseScale, lengthScale,
    /// noiseW}`; `speaker` is an id or a name. Text comes with [`Speech::push`] and
    /// [`Speech::end`], or all at once with `text` here (then the input is ended already).
    pub fn start(&self, text: Option<String>, options: JsValue) -> Result<Speech, JsError> {
        install_panic_hook();
        let request = self.request(&options)?;
        let mut speech = Speech {
            voice: self.inner.clone(),
            request,
            segmenter: Segmenter::new(Policy::default()),
            text: String::new(),
            queue: VecDeque::new(),
            current: None,
            ended: false,
            cancelled: false,
            samples: 0,
            segments: 0,
            events: Vec::new(),
            lead_allowance: Some(regulate::MAX_LEAD_FRAMES as usize * self.inner.hop()),
            lead_cushion: 0,
        };
        if let Some(t) = text {
            speech.push(&t)?;
            speech.end()?;
        }
        Ok(speech)
    }
}

impl Voice {
    fn load_part(onnx: Vec<u8>, json: &[u8], chunking: Chunking, part: Part) -> Result<Voice, JsError> {
        install_panic_hook();
        if onnx.is_empty() {
            return Err(JsError::new("voice file is not a Piper model: the .onnx file is empty"));
        }
        let options = LoadOptions { defer_general: true, part, ..LoadOptions::new(chunking) };
        let inner = CoreVoice::load_owned(onnx, json, &options).map_err(load_error)?;
        Ok(Voice { inner, chunking })
    }

    fn request(&self, options: &JsValue) -> Result<Request, JsError> {
        let config = self.inner.config();
        let mut r = Request::defaults(config);
        r.chunking = self.chunking;
        if options.is_undefined() || options.is_null() {
            return Ok(r);
        }
        if !options.is_object() {
            return Err(JsError::new("speech options must be an object"));
        }
        if let Some(v) = number(options, "noiseScale")? {
            r.scales.noise_scale = v as f32;
        }
        if let Some(v) = number(options, "noiseW")? {
            r.scales.noise_w = v as f32;
        }
        if let Some(v) = number(options, "lengthScale")? {
            r.scales.length_scale = v as f32;
        }
        if let Some(speed) = number(options, "speed")? {
            if !(speed.is_finite() && (0.1..=10.0).contains(&speed)) {
                return Err(JsError::new(&format!("speed must be between 0.1 and 10, not {speed}")));
            }
            r.scales.length_scale /= speed as f32;
        }
        if let Some(seed) = number(options, "seed")? {
            if !(seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0) {
                return Err(JsError::new(&format!("seed must be a whole number ≥ 0, not {seed}")));
            }
            r.seed = seed as u64;
        }
        let speaker = get(options, "speaker")?;
        if let Some(name) = speaker.as_string() {
            r.speaker = match config.speaker_id_map.get(&name) {
                Some(&id) => id,
                None => match name.parse::<u32>() {
                    Ok(id) => id,
                    Err(_) => return Err(JsError::new(&format!("the voice has no speaker named {name:?}"))),
                },
            };
        } else if let Some(id) = speaker.as_f64() {
            if !(id >= 0.0 && id.fract() == 0.0 && id < u32::MAX as f64) {
                return Err(JsError::new(&format!("speaker must be a whole number ≥ 0, not {id}")));
            }
            r.speaker = id as u32;
        } else if !speaker.is_undefined() && !speaker.is_null() {
            return Err(JsError::new("speaker must be a number or a name"));
        }
        self.inner.check(&r).map_err(|e| js_error("bad speech options", e))?;
        Ok(r)
    }
}

/// The chunking asked for, the core's defaults where not, within bounds.
fn chunking(first: Option<u32>, size: Option<u32>, context: Option<u32>) -> Chunking {
    let steady = Chunking::default();
    let frames = |v: Option<u32>, default: usize| v.map_or(default, |v| v as usize);
    Chunking {
        first: frames(first, FIRST_CHUNK).clamp(1, 4096),
        size: frames(size, steady.size).clamp(1, 4096),
        context: frames(context, steady.context).min(256),
    }
}

/// A voice's encoder alone ([`parla_core::infer::Part::Encoder`]), serving a [`Voice`] loaded
/// with [`Voice::load_decoder`] in another worker (`www/src/link.js` carries the calls).
#[wasm_bindgen]
pub struct Encoder {
    inner: Arc<CoreVoice>,
}

#[wasm_bindgen]
impl Encoder {
    /// Prepares the encoder of the voice in these `.onnx` and `.onnx.json` bytes.
    pub fn load(onnx: Vec<u8>, json: &[u8]) -> Result<Encoder, JsError> {
        let voice = Voice::load_part(onnx, json, Chunking::default(), Part::Encoder)?;
        Ok(Encoder { inner: voice.inner })
    }

    /// Runs the encoder: phoneme `ids`, `scales` (noise, length, noise width), `speaker` (< 0:
    /// none) and the duration predictor's `noise` (2 × ids) in; `m_p`, `logs_p` (channels ×
    /// ids each) and `w_ceil` (ids) out, end to end.
    pub fn encode(&self, ids: &[i32], scales: &[f32], speaker: i32, noise: &[f32]) -> Result<Vec<f32>, JsError> {
        let ids: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
        let scales: [f32; 3] = scales.try_into().map_err(|_| JsError::new("scales must hold 3 numbers"))?;
        let input = EncoderInput { ids: &ids, scales, speaker: (speaker >= 0).then_some(speaker as i64), noise };
        let out = self.inner.run_encoder(&input).map_err(|e| js_error("encoding failed", e))?;
        Ok(out.to_flat())
    }
}

/// An encoder reached through a JS function: [`Voice::load_decoder`]'s link.
struct JsLink(js_sys::Function);

// SAFETY: the function is only ever called on the thread that made it: this module is built
// without the `atomics` target feature, so it has one thread (checked below).
unsafe impl Send for JsLink {}
unsafe impl Sync for JsLink {}
#[cfg(target_feature = "atomics")]
compile_error!("JsLink assumes a single-threaded module");

impl EncoderLink for JsLink {
    fn encode(&self, input: &EncoderInput<'_>) -> Result<EncoderOutput, VoiceError> {
        let ids: Vec<i32> = input.ids.iter().map(|&i| i as i32).collect();
        let args = Array::of4(
            &js_sys::Int32Array::from(&ids[..]),
            &js_sys::Float32Array::from(&input.scales[..]),
            &JsValue::from(input.speaker.map_or(-1, |s| s as i32)),
            &js_sys::Float32Array::from(input.noise),
        );
        let out = self.0.apply(&JsValue::NULL, &args).map_err(|e| {
            // A link may throw anything: an Error, a string, some other value.
            let message = match e.dyn_ref::<js_sys::Error>() {
                Some(error) => String::from(error.message()),
                None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
            };
            VoiceError::Link(message)
        })?;
        let out =
            out.dyn_into::<js_sys::Float32Array>().map_err(|_| VoiceError::Link("the link did not answer with a Float32Array".into()))?;
        EncoderOutput::from_flat(&out.to_vec(), ids.len())
            .ok_or_else(|| VoiceError::Link("the link's answer has no whole number of channels".into()))
    }
}

fn get(o: &JsValue, key: &str) -> Result<JsValue, JsError> {
    Reflect::get(o, &JsValue::from_str(key)).map_err(|_| JsError::new(&format!("cannot read option {key}")))
}

fn number(o: &JsValue, key: &str) -> Result<Option<f64>, JsError> {
    let v = get(o, key)?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(JsError::new(&format!("option {key} must be a finite number"))),
    }
}

/// A time in milliseconds on the page's clock (`performance.now()`); a negative one, or NaN,
/// is the clock's start, and a huge one saturates.
fn clock(ms: f64) -> u64 {
    ms.max(0.0) as u64
}

fn set(o: &Object, key: &str, value: JsValue) {
    // Setting a plain property on a fresh object cannot fail.
    let _ = Reflect::set(o, &JsValue::from_str(key), &value);
}

enum Current {
    Speech(Box<Synthesis>),
    Silence(usize),
}

/// Something that happens at a sample of the speech: a segment or a word starts.
#[derive(Debug, Clone, PartialEq)]
struct Event {
    /// `"segment"` or `"word"`.
    kind: &'static str,
    /// Segment number, from 0.
    segment: usize,
    /// Word number within the segment (0 for a segment event).
    index: usize,
    /// The segment's text, or the written word (as in the text pushed) the spoken word belongs to.
    text: String,
    /// First sample (speech clock).
    start: usize,
    /// One past the last sample.
    end: usize,
    /// Where the text is in everything pushed so far, in UTF-16 code units (JS string indices).
    range: Option<(usize, usize)>,
}

impl Event {
    fn to_js(&self) -> Object {
        let o = Object::new();
        set(&o, "type", self.kind.into());
        set(&o, "segment", (self.segment as u32).into());
        set(&o, "index", (self.index as u32).into());
        set(&o, "text", self.text.as_str().into());
        set(&o, "start", (self.start as f64).into());
        set(&o, "end", (self.end as f64).into());
        if let Some((from, to)) = self.range {
            set(&o, "from", (from as u32).into());
            set(&o, "to", (to as u32).into());
        }
        o
    }
}

/// One utterance or stream being spoken. See the crate docs.
#[wasm_bindgen]
pub struct Speech {
    voice: Arc<CoreVoice>,
    request: Request,
    segmenter: Segmenter,
    /// Everything pushed, to place words in it.
    text: String,
    queue: VecDeque<Segment>,
    current: Option<Current>,
    ended: bool,
    cancelled: bool,
    /// Samples handed out so far: the speech clock.
    samples: usize,
    segments: usize,
    /// Events not handed out yet.
    events: Vec<Event>,
    /// Quiet samples the speech may still drop from its start; `None` once a chunk went out.
    lead_allowance: Option<usize>,
    /// Samples of its first chunk the quiet lead's removal must leave.
    lead_cushion: usize,
}

#[wasm_bindgen]
impl Speech {
    /// Adds text (a whole text, or the next piece of a stream such as LLM tokens). Segments
    /// whose end is certain become ready for [`Speech::next_chunk`].
    pub fn push(&mut self, text: &str) -> Result<(), JsError> {
        self.take(text, None)
    }

    /// [`Speech::push`] at `now_ms` (the caller's clock in milliseconds, such as
    /// `performance.now()`): text held for want of its clause's end can then be spoken by
    /// [`Speech::cut_idle`] if no more comes (an LLM that pauses mid-clause to call a tool).
    #[wasm_bindgen(js_name = pushAt)]
    pub fn push_at(&mut self, text: &str, now_ms: f64) -> Result<(), JsError> {
        self.take(text, Some(clock(now_ms)))
    }

    /// When the text held now may be spoken for want of more, for a listener whose queued audio
    /// runs out at `audio_ends_ms` (both on the clock of [`Speech::push_at`]): once it has
    /// waited its idle time and the audio is about to run out. `undefined` when nothing waits.
    #[wasm_bindgen(js_name = idleDeadline)]
    pub fn idle_deadline(&self, audio_ends_ms: f64) -> Option<f64> {
        if self.cancelled || self.ended {
            return None;
        }
        self.segmenter.idle_deadline(clock(audio_ends_ms)).map(|t| t as f64)
    }

    /// Once [`Speech::idle_deadline`] has passed, speaks the text held as if its clause ended
    /// there; [`Speech::next_chunk`] then has work. Returns whether anything was cut.
    #[wasm_bindgen(js_name = cutIdle)]
    pub fn cut_idle(&mut self, now_ms: f64, audio_ends_ms: f64) -> bool {
        if self.cancelled || self.ended {
            return false;
        }
        let mut out = Vec::new();
        let cut = self.segmenter.cut_idle(clock(now_ms), clock(audio_ends_ms), &mut out);
        self.queue.extend(out);
        cut
    }

    /// Ends the input: what is pending becomes the last segment.
    pub fn end(&mut self) -> Result<(), JsError> {
        if !self.ended {
            self.ended = true;
            let mut out = Vec::new();
            self.segmenter.flush(&mut out);
            if !self.cancelled {
                self.queue.extend(out);
            }
        }
        Ok(())
    }

    /// Drops all queued work: [`Speech::next_chunk`] returns nothing after this.
    pub fn cancel(&mut self) {
        self.cancelled = true;
        self.queue.clear();
        self.current = None;
        self.events.clear();
    }

    /// Whether everything was spoken (input ended, no work left) or the speech was cancelled.
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.cancelled || (self.ended && self.queue.is_empty() && self.current.is_none())
    }

    /// How many samples of the first chunk must stay when the quiet samples the speech starts
    /// with are dropped (0, the default, drops them all): a player that starts playing at the
    /// first chunk needs as much audio as the next chunk takes to decode, or it runs dry. A
    /// speech that starts with sound loses nothing either way.
    #[wasm_bindgen(setter, js_name = leadCushion)]
    pub fn set_lead_cushion(&mut self, samples: u32) {
        self.lead_cushion = samples as usize;
    }

    /// Samples handed out so far.
    #[wasm_bindgen(getter)]
    pub fn position(&self) -> f64 {
        self.samples as f64
    }

    /// Segments whose audio has been started.
    #[wasm_bindgen(getter, js_name = segmentsStarted)]
    pub fn segments_started(&self) -> u32 {
        self.segments as u32
    }

    /// Decodes the next chunk: runs the encoder of the next segment when one is due, then one
    /// decoder window. `undefined` when there is nothing to do now: either [`Speech::done`], or
    /// the stream waits for more text.
    #[wasm_bindgen(js_name = nextChunk)]
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, JsError> {
        loop {
            if self.cancelled {
                return Ok(None);
            }
            match self.current.take() {
                Some(Current::Silence(left)) => {
                    let n = left.min(SILENCE_CHUNK_FRAMES * self.voice.hop());
                    if left > n {
                        self.current = Some(Current::Silence(left - n));
                    }
                    return Ok(Some(self.chunk(vec![0.0; n])));
                }
                Some(Current::Speech(mut synth)) => match Synthesis::next_chunk(&mut synth) {
                    None => {}
                    Some(Err(e)) => return Err(js_error("synthesis failed", e)),
                    Some(Ok(c)) => {
                        let more = synth.frames() > c.first_frame + c.samples.len() / self.voice.hop();
                        if more {
                            self.current = Some(Current::Speech(synth));
                        }
                        let mut samples = c.samples;
                        self.skip_quiet_lead(&mut samples);
                        if samples.is_empty() && more {
                            continue; // all quiet so far: its events wait for the first sound
                        }
                        return Ok(Some(self.chunk(samples)));
                    }
                },
                None => match self.queue.pop_front() {
                    None => return Ok(None),
                    Some(segment) => self.begin(segment)?,
                },
            }
        }
    }
}

impl Speech {
    /// Adds text, with its time when the caller keeps one.
    fn take(&mut self, text: &str, now_ms: Option<u64>) -> Result<(), JsError> {
        if self.ended {
            return Err(JsError::new("text arrived after the end of the speech's input"));
        }
        if self.cancelled {
            return Ok(());
        }
        self.text.push_str(text);
        let mut out = Vec::new();
        match now_ms {
            Some(now) => self.segmenter.push_at(text, now, &mut out),
            None => self.segmenter.push(text, &mut out),
        }
        self.queue.extend(out);
        Ok(())
    }

    /// Drops the quiet samples a speech starts with (see [`parla_core::frames::quiet_lead`]), at
    /// most [`regulate::MAX_LEAD_FRAMES`] frames of them, so that playback starts with sound:
    /// the listener hears the first word that much sooner. Only before the speech's first audible
    /// sample: silence a `<break>` asks for, and the pauses between clauses, are kept. Events not
    /// handed out yet move back by as many samples. [`Speech::set_lead_cushion`] samples of the
    /// chunk are always left, so a player has audio to play while the next chunk decodes.
    fn skip_quiet_lead(&mut self, samples: &mut Vec<f32>) {
        let Some(allowed) = self.lead_allowance else { return };
        let cut = quiet_lead(samples).min(allowed).min(samples.len().saturating_sub(self.lead_cushion));
        samples.drain(..cut);
        self.lead_allowance = Some(allowed - cut); // `chunk` ends it
        for e in &mut self.events {
            e.start = e.start.saturating_sub(cut);
            e.end = e.end.saturating_sub(cut);
        }
    }

    fn chunk(&mut self, samples: Vec<f32>) -> Chunk {
        self.lead_allowance = None; // the speech has begun: nothing more is dropped
        let start = self.samples;
        self.samples += samples.len();
        Chunk { start, samples, events: std::mem::take(&mut self.events) }
    }

    /// Runs the front end and the encoder of one segment.
    fn begin(&mut self, segment: Segment) -> Result<(), JsError> {
        let (text, rate, source) = match segment {
            Segment::Break { millis } => {
                let n = self.voice.sample_rate() as usize * millis as usize / 1000;
                self.current = (n > 0).then_some(Current::Silence(n));
                return Ok(());
            }
            Segment::Text { text, rate, source, .. } => (text, rate, source),
        };
        let ipa = ENGLISH.ipa(&text);
        let ids = match PhonemeIds::from_ipa(self.voice.config(), &ipa) {
            Ok(ids) => ids,
            // Nothing speakable in this segment (symbols only): skip it.
            Err(parla_core::Error::Empty) => return Ok(()),
            Err(e) => return Err(js_error("cannot speak this text", e)),
        };
        let mut request = self.request;
        request.scales.length_scale = (request.scales.length_scale / rate).clamp(0.05, 20.0);
        let synth = self.voice.synthesize(&ids, &request).map_err(|e| js_error("synthesis failed", e))?;
        let index = self.segments;
        self.segments += 1;
        let at = self.samples;
        let total = synth.total_samples();
        let range = utf16_range(&self.text, source.clone());
        self.events.push(Event { kind: "segment", segment: index, index: 0, text: text.clone(), start: at, end: at + total, range });
        let written = source_words(&self.text, source, &text);
        let owner = word_owners(&written, ids.words.len(), self.voice.config());
        for (w, timing) in word_timings(synth.durations(), &ids.words, self.voice.hop()).into_iter().enumerate() {
            let (text, range) = owner
                .get(w)
                .and_then(|&i| written.get(i))
                .map_or((String::new(), None), |s| (s.text.clone(), s.range));
            self.events.push(Event {
                kind: "word",
                segment: index,
                index: w,
                text,
                start: at + timing.start_sample,
                end: at + timing.end_sample,
                range,
            });
        }
        self.current = Some(Current::Speech(Box::new(synth)));
        Ok(())
    }
}

/// A written word of a segment and where it stands in the text pushed.
#[derive(Debug, Clone, PartialEq)]
struct Written {
    text: String,
    /// UTF-16 range in everything pushed.
    range: Option<(usize, usize)>,
}

fn utf16_range(all: &str, bytes: Range<usize>) -> Option<(usize, usize)> {
    let (a, b) = (bytes.start.min(all.len()), bytes.end.min(all.len()));
    if !all.is_char_boundary(a) || !all.is_char_boundary(b) || a > b {
        return None;
    }
    let from = all[..a].encode_utf16().count();
    Some((from, from + all[a..b].encode_utf16().count()))
}

/// The written words of a segment (tokens of its cleaned text with a letter or digit, trimmed of
/// punctuation), found in order in the stream's text at `source`.
fn source_words(all: &str, source: Range<usize>, cleaned: &str) -> Vec<Written> {
    let end = source.end.min(all.len());
    let mut cursor = source.start.min(end);
    let mut out = Vec::new();
    for token in cleaned.split_whitespace() {
        let word = token.trim_matches(|c: char| !c.is_alphanumeric());
        if word.is_empty() {
            continue;
        }
        let found = all.get(cursor..end).and_then(|hay| hay.find(word)).map(|p| cursor + p);
        let range = found.and_then(|p| {
            cursor = p + word.len();
            utf16_range(all, p..p + word.len())
        });
        out.push(Written { text: word.into(), range });
    }
    out
}

/// For each spoken (IPA) word, the written word it belongs to. Each written word is phonemized
/// alone to count its spoken words ("$3" → "three dollars"); when the counts do not add up (G2P
/// merges across words, "of the" → "ʌvðə"), spoken words are spread evenly.
fn word_owners(written: &[Written], spoken: usize, config: &parla_core::config::VoiceConfig) -> Vec<usize> {
    if written.is_empty() {
        return Vec::new();
    }
    let counts: Vec<usize> = written
        .iter()
        .map(|w| PhonemeIds::from_ipa(config, &ENGLISH.ipa(&w.text)).map_or(0, |p| p.words.len()))
        .collect();
    let sum: usize = counts.iter().sum();
    (0..spoken)
        .map(|i| {
            if sum == 0 {
                return (i * written.len() / spoken.max(1)).min(written.len() - 1);
            }
            let p = if sum == spoken { i } else { i * sum / spoken };
            let mut acc = 0;
            for (j, &c) in counts.iter().enumerate() {
                acc += c;
                if p < acc {
                    return j;
                }
            }
            written.len() - 1
        })
        .collect()
}

/// A piece of audio with the events that start in it.
#[wasm_bindgen]
pub struct Chunk {
    start: usize,
    samples: Vec<f32>,
    events: Vec<Event>,
}

#[wasm_bindgen]
impl Chunk {
    /// Mono samples at the voice's sample rate (a copy).
    #[wasm_bindgen(getter)]
    pub fn samples(&self) -> Vec<f32> {
        self.samples.clone()
    }

    /// Sample of the speech at which this chunk starts.
    #[wasm_bindgen(getter)]
    pub fn start(&self) -> f64 {
        self.start as f64
    }

    /// Samples in this chunk.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        self.samples.len() as u32
    }

    /// Segments and words whose audio starts in this chunk or later chunks of the same segment:
    /// `{type: "segment"|"word", segment, index, text, start, end, from?, to?}` — `start`/`end`
    /// in samples of the speech, `from`/`to` UTF-16 indices into the text pushed.
    #[wasm_bindgen(getter)]
    pub fn events(&self) -> Array {
        self.events.iter().map(|e| JsValue::from(e.to_js())).collect()
    }
}
