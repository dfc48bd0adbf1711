//! Loading a Piper voice into tract plans, and running its two halves.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::vec::Vec;
use std::vec;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::DimLike;

use super::encoder::{Encoder, FIXED_LENGTHS};
use super::link::{EncoderInput, EncoderLink, EncoderOutput, Part};
use super::pulse::{DecoderStream, PulsedPlan};
use super::surgery::{self, Fusions, Halves};
use super::synth::Synthesis;
use super::weights;
use super::{plan_for_length, Plan, VoiceError};
use crate::chunk::{Chunking, Window};
use crate::config::{Scales, VoiceConfig, BOS, PAD};
use crate::phonemes::PhonemeIds;
use crate::regulate;
use crate::rng::Rng;

/// How to prepare a voice. The default is [`LoadOptions::new`] with the default chunking.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The chunking synthesis will use: the streaming decoder's pulse is sized for its first
    /// chunk, and window plans (when built) for its window lengths.
    pub chunking: Chunking,
    /// Also build fixed-length plans for `chunking`'s windows when the decoder can stream. A
    /// streaming voice never needs them (windows are then decoded by the general plan, more
    /// slowly); leaving them out cut native loading of the default voice from about 1.6 s to
    /// 1.2–1.4 s, before the splines were fused. A voice whose decoder cannot stream always gets them.
    pub window_plans: bool,
    /// Leave the general decoder plan (any length: utterances that fit in one chunk, whole
    /// decoding, windows of odd lengths) to its first use, or to [`Voice::prepare_general`], when
    /// the decoder streams. Optimising it took 7% of loading the default voice natively (median
    /// 750 → 696 ms); a browser page is ready that much sooner and prepares it in the background.
    /// A voice that cannot stream decodes through it and always builds it at load.
    pub defer_general: bool,
    /// Phoneme-id counts to build fixed-length encoder plans for (see [`super::encoder`]):
    /// shorter inputs are padded to the smallest that holds them and encode faster. Empty: one
    /// plan for any length (quicker to load, less memory, slower to run).
    pub encoder_lengths: Vec<usize>,
    /// Which subgraphs the export spells out node by node run as one op each: the duration
    /// predictor's splines ([`super::spline`]; a thousand nodes) and the layer norms
    /// ([`super::norm`]; eleven nodes each, 36 times). All by default: the splines' outputs are
    /// bit-identical (checked on 20 100 phonemes), the norms' equal to rounding, and natively
    /// the default voice's model is prepared in about 0.39 s instead of 0.75 s. Fewer only to
    /// check those claims.
    pub fuse: Fusions,
    /// Which halves to prepare: both by default; one, to prepare the other elsewhere at the same
    /// time ([`super::link`]).
    pub part: Part,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions::new(Chunking::default())
    }
}

impl LoadOptions {
    /// Options for this chunking, without window plans for a streaming decoder or fixed-length
    /// encoder plans: the quickest to load, for a voice that speaks once and exits.
    pub fn new(chunking: Chunking) -> LoadOptions {
        LoadOptions {
            chunking,
            window_plans: false,
            defer_general: false,
            encoder_lengths: Vec::new(),
            fuse: Fusions::ALL,
            part: Part::Whole,
        }
    }

    /// Options for a voice that stays loaded to speak many utterances (a server, an app): those
    /// of [`LoadOptions::new`] plus, in native builds, the fixed-length encoder plans of
    /// [`FIXED_LENGTHS`]. Natively they add about 0.5 s and 120 MB to loading and take 4 to 25
    /// ms off encoding every input of up to 128 ids; in wasm they would gain too little (see
    /// [`super::encoder`]).
    pub fn serving(chunking: Chunking) -> LoadOptions {
        let encoder_lengths = if cfg!(target_family = "wasm") { Vec::new() } else { FIXED_LENGTHS.to_vec() };
        LoadOptions { encoder_lengths, ..LoadOptions::new(chunking) }
    }
}

/// What to synthesize with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Noise and length scales.
    pub scales: Scales,
    /// Speaker id (0 for single-speaker voices).
    pub speaker: u32,
    /// Seed of all the noise: the same seed gives the same audio.
    pub seed: u64,
    /// How the decoder is chunked.
    pub chunking: Chunking,
}

impl Request {
    /// The voice's default scales, speaker 0, seed 0, default chunking.
    pub fn defaults(config: &VoiceConfig) -> Request {
        Request { scales: config.scales, speaker: 0, seed: 0, chunking: Chunking::default() }
    }
}

/// The encoder's outputs for one utterance.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Channels of the prior (192 for Piper voices).
    pub channels: usize,
    /// Prior means, `channels × phonemes`, channel-major.
    pub m_p: Vec<f32>,
    /// Prior log-scales, same layout.
    pub logs_p: Vec<f32>,
    /// Frames per phoneme id.
    pub durations: Vec<u32>,
}

/// A loaded Piper voice: config plus optimised tract plans. Cheap to share behind an `Arc`;
/// plans are immutable once built and every run has its own state.
pub struct Voice {
    config: VoiceConfig,
    multi_speaker: bool,
    channels: usize,
    hop: usize,
    encoder: EncoderSide,
    /// Spline subgraphs run as one op ([`LoadOptions::fuse`]).
    fused_splines: usize,
    /// Layer norms run as one op (the same).
    fused_norms: usize,
    general: Mutex<General>,
    decoder_fixed: Vec<(usize, Plan)>,
    /// The decoder as a streaming model ([`super::pulse`]); `None` if this voice's decoder
    /// could not be turned into one (then synthesis decodes windows).
    decoder_pulsed: Option<PulsedPlan>,
}

/// Where a voice's encoder runs.
enum EncoderSide {
    Here(Encoder),
    Linked(Arc<dyn EncoderLink>),
}

/// The general decoder plan, or the decluttered model it is optimised from on first use, or
/// nothing in a voice loaded without its decoder.
enum General {
    Deferred(TypedModel),
    Built(Plan),
    Absent,
}

fn optimise_general(decoder: TypedModel) -> Result<Plan, VoiceError> {
    guard("preparing the decoder", || {
        decoder.into_optimized().and_then(|m| m.into_runnable()).map_err(VoiceError::tract("optimise the decoder"))
    })
}

impl core::fmt::Debug for Voice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Voice")
            .field("sample_rate", &self.config.sample_rate)
            .field("speakers", &self.config.num_speakers)
            .field("channels", &self.channels)
            .field("hop", &self.hop)
            .field(
                "encoder_lengths",
                &match &self.encoder {
                    EncoderSide::Here(e) => e.fixed_lengths().collect::<Vec<_>>(),
                    EncoderSide::Linked(_) => Vec::new(),
                },
            )
            .field("encoder_linked", &matches!(self.encoder, EncoderSide::Linked(_)))
            .field("fused_splines", &self.fused_splines)
            .field("fused_norms", &self.fused_norms)
            .field("windows", &self.decoder_fixed.iter().map(|w| w.0).collect::<Vec<_>>())
            .finish()
    }
}

fn onnx_loader() -> tract_onnx::Onnx {
    let mut onnx = tract_onnx::onnx().with_ignore_output_shapes(true).with_ignore_output_types(true).with_ignore_value_info(true);
    onnx.op_register.insert(super::spline::OP_TYPE, super::spline::onnx_op);
    onnx.op_register.insert(super::norm::OP_TYPE, super::norm::onnx_op);
    onnx
}

fn guard<T>(stage: &'static str, f: impl FnOnce() -> Result<T, VoiceError>) -> Result<T, VoiceError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(Err(VoiceError::Panic(stage)))
}

/// Parses a half (then frees its proto) and sets its input facts, made from its length symbol.
/// `stages`: what parsing and setting the inputs are called in errors.
fn parse_half(
    half: tract_onnx::pb::ModelProto,
    stages: [&'static str; 2],
    length: &str,
    facts: impl FnOnce(&Symbol) -> Vec<TypedFact>,
) -> Result<(InferenceModel, Symbol), VoiceError> {
    let mut model = onnx_loader().model_for_proto_model(&half).map_err(VoiceError::tract(stages[0]))?;
    drop(half);
    let symbol = model.symbols.sym(length);
    for (i, f) in facts(&symbol).into_iter().enumerate() {
        model.set_input_fact(i, f.into()).map_err(VoiceError::tract(stages[1]))?;
    }
    Ok((model, symbol))
}

/// Prepares the encoder half, checking that it makes the prior's `channels`.
fn build_encoder(
    encoder: tract_onnx::pb::ModelProto,
    multi_speaker: bool,
    channels: usize,
    options: &LoadOptions,
) -> Result<Encoder, VoiceError> {
    // Symbolic phoneme length L; the speaker comes before the noise.
    let (enc, l) = parse_half(encoder, ["parse the encoder", "set encoder inputs"], "L", |l| {
        let ids = i64::fact([1.to_dim(), l.to_dim()]);
        let noise = f32::fact([1.to_dim(), 2.to_dim(), l.to_dim()]);
        let speaker = multi_speaker.then(|| i64::fact([1]));
        [Some(ids), Some(i64::fact([1])), Some(f32::fact([3])), speaker, Some(noise)].into_iter().flatten().collect()
    })?;
    let enc = enc.into_typed().map_err(VoiceError::tract("type the encoder"))?;
    match enc.output_fact(0).map(|f| f.shape.to_tvec()) {
        Ok(s) if s.len() == 3 && s[1].to_usize().ok() == Some(channels) => {}
        _ => return Err(crate::Error::BadShape("m_p is not [1, C, L] with the projection's C").into()),
    }
    Encoder::build(enc, &l, &options.encoder_lengths)
}

/// The decoder half's plans.
struct DecoderPlans {
    /// Samples per frame.
    hop: usize,
    /// The streaming plan, if the decoder streams.
    pulsed: Option<PulsedPlan>,
    /// Plans for fixed window lengths.
    fixed: Vec<(usize, Plan)>,
    /// The general plan, or what it is built from later.
    general: General,
}

/// Prepares the decoder half.
fn build_decoder(
    decoder: tract_onnx::pb::ModelProto,
    multi_speaker: bool,
    channels: usize,
    options: &LoadOptions,
) -> Result<DecoderPlans, VoiceError> {
    // Symbolic frame length T, then fixed window lengths.
    let (dec, t) = parse_half(decoder, ["parse the decoder", "set decoder inputs"], "T", |t| {
        let z_p = f32::fact([1.to_dim(), channels.to_dim(), t.to_dim()]);
        let mask = f32::fact([1.to_dim(), 1.to_dim(), t.to_dim()]);
        [Some(z_p), Some(mask), multi_speaker.then(|| i64::fact([1]))].into_iter().flatten().collect()
    })?;
    let dec = dec
        .into_typed()
        .and_then(|m| m.into_decluttered())
        .map_err(VoiceError::tract("type the decoder"))?;
    // Samples per frame, from the output shape at a concrete length.
    let probe = 64;
    let subs = [(t.clone(), probe.to_dim())].into_iter().collect();
    let out = dec
        .set_symbols(&subs)
        .and_then(|m| m.output_fact(0).map(|f| f.shape.to_tvec()))
        .map_err(VoiceError::tract("read the decoder output"))?;
    let samples = out.last().and_then(|d| d.to_usize().ok()).unwrap_or(0);
    if samples == 0 || samples % probe != 0 {
        return Err(crate::Error::BadShape("decoder output is not a whole number of samples per frame").into());
    }
    let hop = samples / probe;
    // A voice whose decoder the pulse transform cannot handle still speaks, through windows.
    let decoder_pulsed = PulsedPlan::build(&dec, &t, hop, options.chunking.first).ok();
    let mut decoder_fixed = Vec::new();
    if decoder_pulsed.is_none() || options.window_plans {
        for len in options.chunking.window_lengths() {
            decoder_fixed.push((len, plan_for_length(&dec, &t, len, "optimise a decoder window")?));
        }
    }
    let general = if options.defer_general && decoder_pulsed.is_some() {
        General::Deferred(dec)
    } else {
        General::Built(optimise_general(dec)?)
    };
    Ok(DecoderPlans { hop, pulsed: decoder_pulsed, fixed: decoder_fixed, general })
}

impl Voice {
    /// Loads a voice from the bytes of its `.onnx` model and `.onnx.json` config.
    pub fn load(onnx: &[u8], config_json: &[u8], options: &LoadOptions) -> Result<Arc<Voice>, VoiceError> {
        let (config, halves) = Voice::split_file(onnx, config_json, options)?;
        Voice::prepare(config, halves, options)
    }

    /// [`Voice::load`], given the model's bytes to keep: they are freed once the weights of the
    /// halves to prepare are copied out, before tract prepares them. Where memory only grows
    /// (WebAssembly), the module's memory ends up a model's size smaller.
    pub fn load_owned(onnx: Vec<u8>, config_json: &[u8], options: &LoadOptions) -> Result<Arc<Voice>, VoiceError> {
        let (config, halves) = Voice::split_file(&onnx, config_json, options)?;
        drop(onnx);
        Voice::prepare(config, halves, options)
    }

    /// Decodes and splits the model, with the weights of only the halves `options` prepares
    /// copied out of the file ([`weights`]).
    fn split_file(onnx: &[u8], config_json: &[u8], options: &LoadOptions) -> Result<(VoiceConfig, Halves), VoiceError> {
        let config = VoiceConfig::from_json(config_json)?;
        let (proto, weights) = weights::decode(onnx)?;
        let mut halves = guard("splitting the model", || Ok(surgery::split_with(proto, options.fuse)?))?;
        if !matches!(options.part, Part::Decoder(_)) {
            weights.fill(&mut halves.encoder, onnx);
        }
        if !matches!(options.part, Part::Encoder) {
            weights.fill(&mut halves.decoder, onnx);
        }
        Ok((config, halves))
    }

    fn prepare(config: VoiceConfig, halves: Halves, options: &LoadOptions) -> Result<Arc<Voice>, VoiceError> {
        guard("preparing the model", || Voice::from_halves(config, halves, options)).map(Arc::new)
    }

    fn from_halves(config: VoiceConfig, halves: Halves, options: &LoadOptions) -> Result<Voice, VoiceError> {
        let Halves { encoder, decoder, multi_speaker, channels, fused_splines, fused_norms } = halves;
        if multi_speaker != (config.num_speakers > 1) && !multi_speaker {
            return Err(crate::Error::ConfigInvalid("config has several speakers, model takes no sid").into());
        }
        let encoder = match &options.part {
            Part::Decoder(link) => EncoderSide::Linked(link.clone()),
            Part::Whole | Part::Encoder => EncoderSide::Here(build_encoder(encoder, multi_speaker, channels, options)?),
        };
        let decoding = match options.part {
            Part::Encoder => DecoderPlans { hop: 0, pulsed: None, fixed: Vec::new(), general: General::Absent },
            Part::Whole | Part::Decoder(_) => build_decoder(decoder, multi_speaker, channels, options)?,
        };
        Ok(Voice {
            config,
            multi_speaker,
            channels,
            hop: decoding.hop,
            encoder,
            fused_splines,
            fused_norms,
            general: Mutex::new(decoding.general),
            decoder_fixed: decoding.fixed,
            decoder_pulsed: decoding.pulsed,
        })
    }

    /// The voice's config.
    pub fn config(&self) -> &VoiceConfig {
        &self.config
    }

    /// Output sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.config.sample_rate
    }

    /// Audio samples per decoder frame (256 for Piper voices).
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// Checks a request against this voice.
    pub fn check(&self, request: &Request) -> Result<(), VoiceError> {
        request.scales.validate()?;
        self.config.check_speaker(request.speaker)?;
        Ok(())
    }

    fn speaker_input(&self, request: &Request) -> Option<TValue> {
        self.multi_speaker.then(|| tensor1(&[request.speaker as i64]).into())
    }

    /// Runs the encoder: per-phoneme prior statistics and durations. Draws the duration
    /// predictor's noise from `rng`.
    pub fn encode(&self, ids: &PhonemeIds, request: &Request, rng: &mut Rng) -> Result<Encoded, VoiceError> {
        self.check(request)?;
        let ids = &ids.ids;
        let n = ids.len();
        let s = request.scales;
        let mut noise = vec![0f32; 2 * n];
        rng.fill_normal(&mut noise);
        let speaker = self.multi_speaker.then_some(request.speaker as i64);
        let input = EncoderInput { ids, scales: [s.noise_scale, s.length_scale, s.noise_w], speaker, noise: &noise };
        let EncoderOutput { m_p, logs_p, w_ceil } = self.run_encoder(&input)?;
        if w_ceil.len() != n || m_p.len() != self.channels * n || logs_p.len() != m_p.len() {
            return Err(crate::Error::BadShape("encoder outputs do not match the phoneme count").into());
        }
        let mut durations = regulate::frame_counts(&w_ceil);
        let silent = |id: &&i64| [BOS, PAD].iter().filter_map(|c| self.config.phoneme_id_map.get(c)).any(|v| v.contains(id));
        regulate::cap_lead(&mut durations, ids.iter().take_while(silent).count(), regulate::MAX_LEAD_FRAMES);
        Ok(Encoded { channels: self.channels, m_p, logs_p, durations })
    }

    /// Runs the encoder on one input, here or through the voice's link ([`Part::Decoder`]):
    /// what a voice loaded with [`Part::Encoder`] serves. [`Voice::encode`] draws the noise and
    /// turns the outputs into durations.
    pub fn run_encoder(&self, input: &EncoderInput<'_>) -> Result<EncoderOutput, VoiceError> {
        match &self.encoder {
            EncoderSide::Here(encoder) => encoder.run(input),
            EncoderSide::Linked(link) => link.encode(input),
        }
    }

    /// Builds the general decoder plan now if loading deferred it ([`LoadOptions::defer_general`]);
    /// otherwise does nothing.
    pub fn prepare_general(&self) -> Result<(), VoiceError> {
        self.general_plan().map(drop)
    }

    fn general_plan(&self) -> Result<Plan, VoiceError> {
        // A panic while optimising is caught in `optimise_general`, so the lock is never poisoned;
        // holding it while building makes concurrent first uses wait for one build.
        let mut general = self.general.lock().unwrap_or_else(|p| p.into_inner());
        let plan = match &*general {
            General::Built(plan) => return Ok(plan.clone()),
            General::Deferred(model) => optimise_general(model.clone())?,
            General::Absent => return Err(VoiceError::PartNotLoaded("decoder")),
        };
        *general = General::Built(plan.clone());
        Ok(plan)
    }

    /// Whether this voice decodes exactly in a stream ([`Voice::stream_decoder`]).
    pub fn streams(&self) -> bool {
        self.decoder_pulsed.is_some()
    }

    /// Starts decoding `z` as a stream: each frame decoded once, the output equal to
    /// whole-utterance decoding (see [`super::pulse`]). `None` if this voice cannot stream.
    pub fn stream_decoder(&self, z: &regulate::Latent, request: &Request) -> Option<Result<DecoderStream, VoiceError>> {
        let plan = self.decoder_pulsed.as_ref()?;
        if let Err(e) = self.check(request) {
            return Some(Err(e));
        }
        if z.channels != self.channels {
            return Some(Err(crate::Error::BadShape("latent channels do not match the voice").into()));
        }
        Some(DecoderStream::new(plan, self.hop, z, self.speaker_input(request)))
    }

    /// Decodes frames `start..start + len` of `z`: `len · hop` samples.
    ///
    /// A window of a planned length runs its optimised plan. A shorter one (an utterance shorter
    /// than one window) is zero-padded at its end to the nearest planned length, when that is
    /// at most three times longer: the padded frames are masked out of the flow, and what the
    /// padding changes near the utterance's (silent) end measured 71–76 dB below the signal,
    /// against ~4× the speed of the general plan. Anything else runs the general plan.
    pub fn decode(&self, z: &regulate::Latent, start: usize, len: usize, request: &Request, scratch: &mut Vec<f32>) -> Result<Vec<f32>, VoiceError> {
        let width = self.decoder_fixed.iter().map(|(l, _)| *l).filter(|&l| l >= len && l <= 3 * len).min();
        self.run_decoder(z, start, len, width.unwrap_or(len), request, scratch)
    }

    /// Decodes like [`Voice::decode`] but never pads: the reference that padding and chunking
    /// are measured against.
    pub fn decode_exact(&self, z: &regulate::Latent, start: usize, len: usize, request: &Request, scratch: &mut Vec<f32>) -> Result<Vec<f32>, VoiceError> {
        self.run_decoder(z, start, len, len, request, scratch)
    }

    /// Decodes window `w` of `z` and returns the samples of its kept frames (`exact`: never pad,
    /// see [`Voice::decode_exact`]).
    pub fn decode_chunk(&self, z: &regulate::Latent, w: Window, exact: bool, request: &Request, scratch: &mut Vec<f32>) -> Result<Vec<f32>, VoiceError> {
        let mut audio = if exact {
            self.decode_exact(z, w.start, w.len, request, scratch)?
        } else {
            self.decode(z, w.start, w.len, request, scratch)?
        };
        let from = w.keep_offset() * self.hop;
        audio.truncate(from + w.keep_len * self.hop);
        audio.drain(..from);
        Ok(audio)
    }

    fn run_decoder(&self, z: &regulate::Latent, start: usize, len: usize, width: usize, request: &Request, scratch: &mut Vec<f32>) -> Result<Vec<f32>, VoiceError> {
        if z.channels != self.channels || start + len > z.frames || len == 0 || width < len {
            return Err(crate::Error::BadShape("decoder window outside the latent").into());
        }
        z.window_into(start, len, width, scratch);
        let z_p = tract_ndarray::Array3::from_shape_vec((1, self.channels, width), core::mem::take(scratch))
            .map_err(|_| crate::Error::BadShape("z_p window"))?;
        let mask = tract_ndarray::Array3::<f32>::from_shape_fn((1, 1, width), |(_, _, t)| if t < len { 1.0 } else { 0.0 });
        let mut inputs: TVec<TValue> = tvec![Tensor::from(z_p).into(), Tensor::from(mask).into()];
        inputs.extend(self.speaker_input(request));
        let plan = match self.decoder_fixed.iter().find(|(l, _)| *l == width) {
            Some((_, p)) => p.clone(),
            None => self.general_plan()?,
        };
        let out = plan.run(inputs).map_err(VoiceError::tract("run the decoder"))?;
        let audio = out[0].to_plain_array_view::<f32>().map_err(VoiceError::tract("read the decoder output"))?;
        if audio.len() != width * self.hop {
            return Err(crate::Error::BadShape(if audio.is_empty() { "empty audio" } else { "audio length is not frames × hop" }).into());
        }
        Ok(audio.iter().take(len * self.hop).copied().collect())
    }

    /// Starts synthesizing an utterance: runs the encoder and length regulation now; the
    /// returned [`Synthesis`] decodes chunk by chunk.
    pub fn synthesize(self: &Arc<Self>, ids: &PhonemeIds, request: &Request) -> Result<Synthesis, VoiceError> {
        if self.hop == 0 {
            return Err(VoiceError::PartNotLoaded("decoder"));
        }
        let mut rng = Rng::new(request.seed);
        let encoded = self.encode(ids, request, &mut rng)?;
        let latent = regulate::regulate(
            &encoded.m_p,
            &encoded.logs_p,
            encoded.channels,
            &encoded.durations,
            request.scales.noise_scale,
            &mut rng,
        )?;
        Synthesis::new(self.clone(), *request, encoded.durations, latent)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn voice_is_shareable_across_threads() {
        fn f<T: Send + Sync>() {}
        f::<super::Voice>();
    }
}
