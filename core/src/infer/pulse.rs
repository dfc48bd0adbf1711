//! Exact streaming decoding: the decoder turned into a stateful model that takes a fixed number
//! of frames per call (a *pulse*) and carries every convolution's left context from call to call.
//!
//! Window decoding (see [`crate::chunk`]) re-decodes context frames on both sides of every chunk,
//! which costs `(keep + 2·context) / keep` and is only close to whole-utterance decoding. tract's
//! pulse transform rewrites each convolution to keep its own history in a delay line, so every
//! frame is decoded once and the output is the whole-utterance output, delayed by the network's
//! right receptive field. The first audio therefore needs that many frames decoded; after that
//! each pulse of frames gives as many frames of audio.
//!
//! The decoder is the flow (reversed) and then the vocoder, and each is pulsed on its own. The
//! flow's convolutions look 32 frames ahead in Piper's medium voices and the vocoder's 10.1,
//! but the flow costs about a fifth of the vocoder per frame. Pulsed as one network, the first
//! audio needed 42 frames of look-ahead through both; pulsed apart, the flow runs ahead by its
//! own look-ahead only, and the vocoder (the costly half) by 10 frames. Measured in the same
//! run, `parla bench`'s time to first audio fell from 145 to 84 ms p95 natively, and from 293
//! to 182 ms in wasm.
//!
//! Two things in tract-pulse 0.23.9 need help, both handled when the plan is built:
//! - the flow reverses channels with a step −1 Slice, kept by tract as a `Downsample` whose axes
//!   the transform cannot follow: it is rewritten as a `Gather` of reversed channel indices;
//! - a strided `Deconv` (the vocoder's upsampling) gets its input's delay in input samples where
//!   it must be `stride` times that in output samples: the stock rule is wrapped and the delay
//!   of what it builds is scaled. Without this the output is noise (measured: −2 dB SNR; with
//!   it, 127 dB against whole-utterance decoding).

use std::any::TypeId;
use std::boxed::Box;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::vec;
use std::vec::Vec;

use std::format;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::{anyhow, bail, DimLike, TractErrorContext};
use tract_onnx::tract_core::ops::array::Gather;
use tract_onnx::tract_core::ops::cnn::Deconv;
use tract_onnx::tract_core::ops::source::TypedSource;
use tract_onnx::tract_core::ops::Downsample;
use tract_pulse::internal::{PulsedModel, PulsedModelExt};
use tract_pulse::ops::OpPulsifier;
use tract_pulse_opl::ops::DeconvDelay;

use super::VoiceError;
use crate::regulate::Latent;

/// Fewest frames per pulse: smaller pulses cost more per frame (measured on the medium voice:
/// 2.8 ms per frame at 8, 2.4 at 16, 2.0 at 44, against 2.1 for a fixed 40-frame window).
pub const MIN_PULSE_FRAMES: usize = 16;

/// About how many frames a pulse should have when the first chunk needs several.
const TARGET_PULSE_FRAMES: usize = 20;

/// Fewer frames than this in any pulse, so a chunk asked for `n` frames comes with fewer than
/// `n + MAX_PULSE_FRAMES` (what a caller sizes its output buffer by).
pub const MAX_PULSE_FRAMES: usize = 2 * TARGET_PULSE_FRAMES;

/// One half of the decoder, pulsed.
#[derive(Debug)]
struct Pulsed {
    plan: Arc<TypedSimplePlan>,
    /// Frames per call.
    pulse: usize,
    /// Output values (per channel) that come before the utterance's first one: frames for the
    /// flow, samples for the vocoder.
    delay: usize,
}

impl Pulsed {
    /// Pulses `model` so that a whole number of pulses covers `needed(delay)` frames with
    /// little waste (`delay` in output values, measured at the smallest pulse).
    fn build(model: &TypedModel, frames: &Symbol, needed: impl Fn(usize) -> usize) -> TractResult<Pulsed> {
        let delay_of = |pulsed: &PulsedModel| -> TractResult<usize> {
            Ok(pulsed.output_fact(0)?.stream.as_ref().context("output does not stream")?.delay)
        };
        let probe = PulsedModel::new(model, frames.clone(), &MIN_PULSE_FRAMES.to_dim())?;
        let needed = needed(delay_of(&probe)?);
        let pulses = (needed / TARGET_PULSE_FRAMES).max(1);
        let pulse = needed.div_ceil(pulses).max(MIN_PULSE_FRAMES);
        debug_assert!(pulse < MAX_PULSE_FRAMES, "{needed} frames in {pulses} pulses");
        let pulsed = if pulse == MIN_PULSE_FRAMES { probe } else { PulsedModel::new(model, frames.clone(), &pulse.to_dim())? };
        let delay = delay_of(&pulsed)?;
        let plan = pulsed.into_typed()?.into_optimized()?.into_runnable()?;
        Ok(Pulsed { plan, pulse, delay })
    }
}

/// A decoder plan that streams: the flow and the vocoder, each pulsed.
#[derive(Debug)]
pub(crate) struct PulsedPlan {
    flow: Pulsed,
    vocoder: Pulsed,
    frames_symbol: Symbol,
}

impl PulsedPlan {
    /// Builds the streaming plan from the typed, decluttered decoder (`frames` is its symbolic
    /// frame count), for first chunks of `first` frames.
    ///
    /// Each half's pulse is sized so that a whole number of pulses covers its delay plus what
    /// the first audio needs from it, with little waste: for the medium voice and a first chunk
    /// of 16 frames, one vocoder pulse of 27 frames, fed by two flow pulses of 30. The first
    /// chunk must be long enough to play while the next pulse decodes, or a real-time listener
    /// runs dry (with a 1-frame first chunk it did).
    pub(crate) fn build(decoder: &TypedModel, frames: &Symbol, hop: usize, first: usize) -> TractResult<PulsedPlan> {
        fix_strided_deconv_delay()?;
        let (mut flow, vocoder) = split_at_vocoder(decoder)?;
        reverse_channels_by_gather(&mut flow)?;
        let hop = hop.max(1);
        let vocoder = Pulsed::build(&vocoder, frames, |delay| (delay + first.max(1) * hop).div_ceil(hop))?;
        let flow = Pulsed::build(&flow, frames, |delay| delay + vocoder.pulse)?;
        Ok(PulsedPlan { flow, vocoder, frames_symbol: frames.clone() })
    }
}

/// Cuts the decoder where the vocoder begins, at the input of its first convolution
/// (`/dec/conv_pre`): the flow (inputs `z_p`, `y_mask` and the speaker, output the masked `z`)
/// and the vocoder (inputs `z` and the speaker, output the audio). Both share the weights.
fn split_at_vocoder(decoder: &TypedModel) -> TractResult<(TypedModel, TypedModel)> {
    let first = decoder
        .nodes()
        .iter()
        .find(|n| n.name.starts_with("/dec/conv_pre") && !n.inputs.is_empty())
        .context("no /dec/conv_pre in the decoder")?;
    let cut = first.inputs[0];
    let inputs = decoder.input_outlets()?;
    if inputs.len() < 2 {
        bail!("decoder inputs are not z_p, y_mask[, sid]");
    }
    let flow = decoder.clone().with_output_outlets(&[cut])?.into_compact()?;

    let mut vocoder = decoder.clone();
    let successors = vocoder.outlet_successors(cut).to_vec();
    let fact = vocoder.outlet_fact(cut)?.clone();
    let z = vocoder.add_source("z", fact)?;
    for inlet in successors {
        vocoder.add_edge(z, inlet)?;
    }
    let kept: TVec<OutletId> = core::iter::once(z).chain(inputs[2..].iter().copied()).collect();
    vocoder.set_input_outlets(&kept)?;
    let vocoder = vocoder.into_compact()?;
    let sources = vocoder.nodes().iter().filter(|n| n.op_is::<TypedSource>()).count();
    if sources != kept.len() {
        bail!("the vocoder reads the flow's inputs: it cannot stream on its own");
    }
    Ok((flow, vocoder))
}

/// One utterance being decoded pulse by pulse (see the module docs). Owns the decoder's state,
/// so one stream's calls must go to the same `DecoderStream`, in order.
pub struct DecoderStream {
    flow: TypedSimpleState,
    vocoder: TypedSimpleState,
    frames_symbol: Symbol,
    flow_pulse: usize,
    pulse: usize,
    hop: usize,
    /// The prior latents, the flow's input.
    z_p: Latent,
    /// The flow's output, the vocoder's input: its first `made` frames are filled.
    z: Latent,
    speaker: Option<TValue>,
    /// Frames fed to the flow so far (past the end: masked frames that flush its delay line).
    flow_fed: usize,
    /// Flow output frames still to drop before the utterance's first frame.
    flow_skip: usize,
    /// Frames of `z` filled so far.
    made: usize,
    /// Frames fed to the vocoder so far (past the end: zeros that flush its delay line).
    fed: usize,
    /// Output samples still to drop before the utterance's first sample.
    to_skip: usize,
    /// Samples handed out so far.
    emitted: usize,
    /// Decoded samples beyond the last chunk handed out (a pulse rarely ends on a chunk's end).
    ahead: Vec<f32>,
    scratch: Vec<f32>,
}

impl core::fmt::Debug for DecoderStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DecoderStream").field("frames", &self.z_p.frames).field("fed", &self.fed).field("emitted", &self.emitted).finish()
    }
}

impl DecoderStream {
    /// Starts decoding the utterance whose prior latents are `z_p`.
    pub(crate) fn new(plan: &PulsedPlan, hop: usize, z_p: &Latent, speaker: Option<TValue>) -> Result<DecoderStream, VoiceError> {
        let spawn = |p: &Pulsed| p.plan.spawn().map_err(VoiceError::tract("start a decoder stream"));
        Ok(DecoderStream {
            flow: spawn(&plan.flow)?,
            vocoder: spawn(&plan.vocoder)?,
            frames_symbol: plan.frames_symbol.clone(),
            flow_pulse: plan.flow.pulse,
            pulse: plan.vocoder.pulse,
            hop,
            z_p: z_p.clone(),
            z: Latent { channels: z_p.channels, frames: z_p.frames, data: vec![0.0; z_p.data.len()] },
            speaker,
            flow_fed: 0,
            flow_skip: plan.flow.delay,
            made: 0,
            fed: 0,
            to_skip: plan.vocoder.delay,
            emitted: 0,
            ahead: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// Samples of the whole utterance.
    pub fn total_samples(&self) -> usize {
        self.z_p.frames * self.hop
    }

    /// Frames of audio not yet handed out.
    pub fn remaining_frames(&self) -> usize {
        (self.total_samples() - self.emitted).div_ceil(self.hop)
    }

    /// Frames the vocoder has decoded so far, past the utterance's end included (what the
    /// audio handed out cost: at least the frames handed out plus the vocoder's look-ahead).
    pub fn decoded_frames(&self) -> usize {
        self.fed
    }

    /// Decodes pulses until at least `frames` more frames of audio are ready (fewer at the end
    /// of the utterance) and returns every whole frame ready: audio already decoded is never
    /// held back, so up to `frames + MAX_PULSE_FRAMES - 1` frames. Empty once everything is out.
    pub fn next(&mut self, frames: usize) -> Result<Vec<f32>, VoiceError> {
        let left = self.total_samples() - self.emitted;
        let want = frames.max(1).saturating_mul(self.hop).min(left);
        while self.ahead.len() < want {
            let audio = self.vocoder_pulse()?;
            let skip = self.to_skip.min(audio.len());
            self.to_skip -= skip;
            let take = (audio.len() - skip).min(left - self.ahead.len());
            self.ahead.extend_from_slice(&audio[skip..skip + take]);
        }
        let whole_frames = if self.ahead.len() == left { left } else { self.ahead.len() / self.hop * self.hop };
        let rest = self.ahead.split_off(whole_frames);
        let out = core::mem::replace(&mut self.ahead, rest);
        self.emitted += out.len();
        Ok(out)
    }

    /// Runs the flow until `z` is filled up to frame `upto` (at most the utterance's end).
    fn fill_z(&mut self, upto: usize) -> Result<(), VoiceError> {
        let (p, frames, channels) = (self.flow_pulse, self.z_p.frames, self.z_p.channels);
        while self.made < upto.min(frames) {
            let start = self.flow_fed.min(frames);
            let real = frames.saturating_sub(self.flow_fed).min(p);
            self.z_p.window_into(start, real, p, &mut self.scratch);
            let mask = tract_ndarray::Array3::<f32>::from_shape_fn((1, 1, p), |(_, _, t)| if t < real { 1.0 } else { 0.0 });
            let mut inputs = tvec![self.pulse_input(channels, p, "z_p pulse")?, Tensor::from(mask).into()];
            inputs.extend(self.speaker.clone());
            let out =
                run_pulse(&mut self.flow, &self.frames_symbol, frames, inputs).map_err(VoiceError::tract("run the streaming flow"))?;
            if out.len() != channels * p {
                return Err(crate::Error::BadShape("streaming flow output is not channels × pulse").into());
            }
            self.flow_fed += p;
            let skip = self.flow_skip.min(p);
            self.flow_skip -= skip;
            let take = (p - skip).min(frames - self.made);
            for c in 0..channels {
                let row = &out[c * p + skip..c * p + skip + take];
                self.z.data[c * frames + self.made..][..take].copy_from_slice(row);
            }
            self.made += take;
        }
        Ok(())
    }

    /// Feeds the vocoder its next pulse of frames and returns what it gives for them.
    fn vocoder_pulse(&mut self) -> Result<Vec<f32>, VoiceError> {
        let (p, frames, channels) = (self.pulse, self.z.frames, self.z.channels);
        let start = self.fed.min(frames);
        let real = frames.saturating_sub(self.fed).min(p);
        self.fill_z(start + real)?;
        self.z.window_into(start, real, p, &mut self.scratch);
        let mut inputs = tvec![self.pulse_input(channels, p, "z pulse")?];
        inputs.extend(self.speaker.clone());
        let audio =
            run_pulse(&mut self.vocoder, &self.frames_symbol, frames, inputs).map_err(VoiceError::tract("run the streaming decoder"))?;
        if audio.len() != p * self.hop {
            return Err(crate::Error::BadShape("streaming decoder output is not pulse × hop").into());
        }
        self.fed += p;
        Ok(audio)
    }

    /// `scratch` (a `channels × p` window) as a `[1, channels, p]` input.
    fn pulse_input(&mut self, channels: usize, p: usize, what: &'static str) -> Result<TValue, VoiceError> {
        let x = tract_ndarray::Array3::from_shape_vec((1, channels, p), core::mem::take(&mut self.scratch))
            .map_err(|_| crate::Error::BadShape(what))?;
        Ok(Tensor::from(x).into())
    }
}

/// Runs one pulse through a pulsed plan's state, telling it the utterance's length in frames
/// (which the delay lines need to pad the end as whole-utterance decoding does).
fn run_pulse(state: &mut TypedSimpleState, frames_symbol: &Symbol, frames: usize, inputs: TVec<TValue>) -> TractResult<Vec<f32>> {
    state.set_inputs(inputs)?;
    state.turn_state.resolved_symbols.set(frames_symbol, frames as i64);
    state.exec()?;
    let out = state.outputs()?;
    state.reset_turn()?;
    Ok(out[0].to_plain_array_view::<f32>()?.iter().copied().collect())
}

/// The flow's channel flips (`Downsample` with stride −1 on the channel axis) as `Gather`s.
fn reverse_channels_by_gather(model: &mut TypedModel) -> TractResult<()> {
    for id in model.eval_order()? {
        let node = model.node(id).clone();
        let Some(ds) = node.op_as::<Downsample>() else { continue };
        if ds.stride != -1 || ds.modulo != 0 {
            continue;
        }
        let channels = model.outlet_fact(node.inputs[0])?.shape[ds.axis].to_usize()?;
        let reversed = tensor1(&(0..channels as i64).rev().collect::<Vec<_>>());
        let mut patch = TypedModelPatch::default();
        let x = patch.tap_model(model, node.inputs[0])?;
        let indices = patch.add_const(format!("{}.reversed", node.name), reversed)?;
        let out = patch.wire_node(&node.name, Gather::new(ds.axis), &[x, indices])?;
        patch.shunt_outside(model, id.into(), out[0])?;
        patch.apply(model)?;
    }
    Ok(())
}

/// tract-pulse's own rule for `Deconv`, kept to be called from the corrected one.
static STOCK_DECONV: OnceLock<OpPulsifier> = OnceLock::new();

/// Replaces tract-pulse's `Deconv` rule (process-wide, once) with one that scales the delay.
fn fix_strided_deconv_delay() -> TractResult<()> {
    if STOCK_DECONV.get().is_some() {
        return Ok(());
    }
    let inventory = OpPulsifier::inventory();
    let stock = {
        let rules = inventory.read().map_err(|_| anyhow!("tract-pulse rule table poisoned"))?;
        let rule = rules.get(&TypeId::of::<Deconv>()).context("tract-pulse has no Deconv rule")?;
        OpPulsifier { type_id: rule.type_id, name: rule.name, func: rule.func }
    };
    if STOCK_DECONV.set(stock).is_ok() {
        OpPulsifier::register::<Deconv>(pulsify_deconv)?;
    }
    Ok(())
}

fn pulsify_deconv(
    source: &TypedModel,
    node: &TypedNode,
    target: &mut PulsedModel,
    mapping: &HashMap<OutletId, OutletId>,
    symbol: &Symbol,
    pulse: &TDim,
) -> TractResult<Option<TVec<OutletId>>> {
    let stock = STOCK_DECONV.get().context("stock Deconv rule")?;
    let op = node.op_as::<Deconv>().context("not a Deconv")?;
    let input_delay = target.outlet_fact(mapping[&node.inputs[0]])?.stream.as_ref().map_or(0, |s| s.delay);
    let first_new = target.nodes().len();
    let Some(wires) = (stock.func)(source, node, target, mapping, symbol, pulse)? else { return Ok(None) };
    let Some(dd) = (first_new..target.nodes().len()).find(|&n| target.node(n).op_as::<DeconvDelay>().is_some()) else {
        return Ok(Some(wires));
    };
    let mut fixed = target.node(dd).op_as::<DeconvDelay>().context("DeconvDelay")?.clone();
    let stride = op.pool_spec.stride(fixed.axis - op.pool_spec.data_format.h_axis());
    let extra = input_delay * (stride - 1);
    if extra > 0 {
        fixed.delay += extra;
        target.node_mut(dd).op = Box::new(fixed);
        // Everything the stock rule wired after the DeconvDelay inherited the short delay.
        for n in dd..target.nodes().len() {
            for outlet in target.node_mut(n).outputs.iter_mut() {
                if let Some(stream) = outlet.fact.stream.as_mut() {
                    stream.delay += extra;
                }
            }
        }
    }
    Ok(Some(wires))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::tract_core::ops::math;

    /// A decoder-shaped model: `z_p`, `y_mask` → a "flow" → a first vocoder node named `first`
    /// that reads the flow and, if `reads_mask`, the mask too.
    fn decoder(first: &str, reads_mask: bool) -> TypedModel {
        let mut m = TypedModel::default();
        let z = m.add_source("z_p", f32::fact([1, 4, 8])).unwrap();
        let mask = m.add_source("y_mask", f32::fact([1, 1, 8])).unwrap();
        let flow = m.wire_node("/flow/mul", math::mul(), &[z, mask]).unwrap()[0];
        let other = if reads_mask { mask } else { flow };
        let out = m.wire_node(first, math::add(), &[flow, other]).unwrap()[0];
        m.select_output_outlets(&[out]).unwrap();
        m
    }

    #[test]
    fn the_decoder_splits_at_the_vocoder_or_says_why_not() {
        let (flow, vocoder) = split_at_vocoder(&decoder("/dec/conv_pre/Conv", false)).unwrap();
        assert_eq!((flow.input_outlets().unwrap().len(), flow.output_outlets().unwrap().len()), (2, 1));
        assert_eq!(vocoder.input_outlets().unwrap().len(), 1, "the vocoder takes the flow's output only");

        let e = split_at_vocoder(&decoder("/dec/other", false)).unwrap_err();
        assert!(format!("{e:#}").contains("no /dec/conv_pre"), "{e:#}");
        let e = split_at_vocoder(&decoder("/dec/conv_pre/Conv", true)).unwrap_err();
        assert!(format!("{e:#}").contains("cannot stream on its own"), "{e:#}");
    }
}
