//! The encoder half as tract plans: one for any number of phoneme ids, and faster ones for a few
//! fixed numbers that shorter inputs are padded to.
//!
//! tract optimises a model whose length is symbolic less well than one whose shapes are known:
//! it cannot fuse the bias additions into the matrix products, and on x86 it picks matrix
//! kernels for an unknown width (64×3 on AVX-512, where a known width gets 32×6 or 16×12). On the
//! default voice, natively, the plan for any length took 14, 20, 35 and 66 ms for 16, 32, 64 and
//! 128 ids, and plans built for exactly those lengths 9, 13, 18 and 39 ms.
//!
//! Piper's encoder takes the true length as an input (`input_lengths`) and masks every position
//! past it (in the attention, the convolutions and the duration predictor), so ids padded up to
//! a fixed length leave the first ones' outputs as they were, up to rounding: at most 6·10⁻⁶ on
//! `m_p` and `logs_p`, durations equal (measured for 13, 24, 64 and 109 ids). Each fixed plan
//! starts from the decluttered model the plan for any length is built from; the four of
//! [`FIXED_LENGTHS`] added 0.6–0.7 s (743 → 1362–1486 ms) and 122 MiB to loading the default
//! voice natively, and 0.4–0.55 s (585–740 → 1109–1178 ms) once the duration predictor's
//! splines were fused ([`super::spline`]). That pays off only for a voice that stays loaded,
//! hence [`LoadOptions::serving`].
//!
//! In wasm the gain is small: one matrix kernel serves every width there (tract's 8×8 when this
//! was measured, Parla's `infer::kernel` now), so only the fusions remain. Measured in wasmtime,
//! interleaved: 16–17 against 18–20 ms for 13 ids, 25–27 against 28–30 ms for 27, and 87–101
//! against 83–90 ms for 109 (padded to 128).
//! That is not worth 120 MB more per instance, so [`LoadOptions::serving`] asks for fixed plans
//! only in native builds.
//!
//! [`LoadOptions::serving`]: super::LoadOptions::serving

use std::vec;
use std::vec::Vec;

use tract_onnx::prelude::*;

use super::link::{EncoderInput, EncoderOutput};
use super::{plan_for_length, Plan, VoiceError};

/// Phoneme-id counts the encoder gets a plan of its own for by default: 16 covers a first clause
/// such as "Sure," (13 ids), 128 a 50-character one. Longer inputs run in the plan for any
/// length; one that fits is padded to the smallest of these that holds it.
pub const FIXED_LENGTHS: &[usize] = &[16, 32, 64, 128];

/// The encoder's plans.
pub(crate) struct Encoder {
    any: Plan,
    /// Plans for exactly these many ids, shortest first.
    fixed: Vec<(usize, Plan)>,
}

impl Encoder {
    /// Builds the plans from the typed encoder, whose inputs are `[1, length]` ids, `[1]`
    /// lengths, `[3]` scales, an optional `[1]` speaker and `[1, 2, length]` noise.
    pub(crate) fn build(model: TypedModel, length: &Symbol, fixed: &[usize]) -> Result<Encoder, VoiceError> {
        let model = model.into_decluttered().map_err(VoiceError::tract("declutter the encoder"))?;
        let mut lengths: Vec<usize> = fixed.iter().copied().filter(|&n| n > 0).collect();
        lengths.sort_unstable();
        lengths.dedup();
        let mut plans = Vec::with_capacity(lengths.len());
        for n in lengths {
            plans.push((n, plan_for_length(&model, length, n, "optimise a fixed-length encoder")?));
        }
        let any = model.into_optimized().and_then(|m| m.into_runnable()).map_err(VoiceError::tract("optimise the encoder"))?;
        Ok(Encoder { any, fixed: plans })
    }

    /// The fixed lengths this encoder has plans for, shortest first.
    pub(crate) fn fixed_lengths(&self) -> impl Iterator<Item = usize> + '_ {
        self.fixed.iter().map(|(n, _)| *n)
    }

    /// Runs the encoder on `input`, its ids padded to the shortest fixed length that holds them;
    /// the outputs are trimmed to the ids.
    pub(crate) fn run(&self, input: &EncoderInput<'_>) -> Result<EncoderOutput, VoiceError> {
        let EncoderInput { ids, scales, speaker, noise } = *input;
        let n = ids.len();
        if n == 0 {
            return Err(crate::Error::Empty.into());
        }
        if noise.len() != 2 * n {
            return Err(crate::Error::BadShape("noise").into());
        }
        let (plan, len) = match self.fixed.iter().find(|(l, _)| *l >= n) {
            Some((l, plan)) => (plan, *l),
            None => (&self.any, n),
        };
        let mut padded_ids = ids.to_vec();
        padded_ids.resize(len, 0);
        let mut padded_noise = vec![0f32; 2 * len];
        for (row, values) in noise.chunks(n).enumerate() {
            padded_noise[row * len..row * len + values.len()].copy_from_slice(values);
        }
        let mut inputs: TVec<TValue> = tvec![tensor_of(padded_ids, &[1, len])?, tensor1(&[n as i64]).into(), tensor1(&scales).into()];
        inputs.extend(speaker.map(|s| tensor1(&[s]).into()));
        inputs.push(tensor_of(padded_noise, &[1, 2, len])?);
        let out = plan.run(inputs).map_err(VoiceError::tract("run the encoder"))?;
        let trimmed = |i: usize| -> Result<Vec<f32>, VoiceError> {
            let values = out[i].to_plain_array_view::<f32>().map_err(VoiceError::tract("read the encoder output"))?;
            if values.shape().last() != Some(&len) {
                return Err(crate::Error::BadShape("encoder outputs do not match the phoneme count").into());
            }
            let values = values.as_slice().ok_or(crate::Error::BadShape("encoder output is not contiguous"))?;
            Ok(values.chunks(len).flat_map(|row| &row[..n]).copied().collect())
        };
        Ok(EncoderOutput { m_p: trimmed(0)?, logs_p: trimmed(1)?, w_ceil: trimmed(2)? })
    }
}

fn tensor_of<T: Datum>(values: Vec<T>, shape: &[usize]) -> Result<TValue, VoiceError> {
    tract_ndarray::ArrayD::from_shape_vec(shape, values)
        .map(|a| Tensor::from(a).into())
        .map_err(|_| crate::Error::BadShape("encoder input").into())
}
