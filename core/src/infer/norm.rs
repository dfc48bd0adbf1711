//! The text encoder's layer norm over channels, as one tract op.
//!
//! Piper's encoder normalises `[1, C, L]` activations over their channels at every position
//! (twice per attention layer, and in every convolution block of the duration predictor: 36
//! times in the default voice). The ONNX export spells each one out in eleven nodes: a
//! transpose to channels-last, a mean, a subtraction, a square, a second mean, the epsilon, a
//! square root, a division, the scale, the shift and a transpose back. tract's declutter pushes
//! those transposes through the graph and rewrites the arithmetic at every load. As one op each,
//! the default voice's model is prepared natively in about 0.39 s instead of 0.49 s (the encoder
//! in 0.16 s instead of 0.25 s), in wasmtime in 0.64–0.70 s instead of 0.86–0.93 s, and in
//! headless Chromium in 0.60–0.65 s instead of 0.80–0.91 s.
//!
//! [`super::surgery`] replaces each such subgraph with one node of type [`OP_TYPE`] (inputs
//! `x`, `[N, C, L]`, and the scale and shift, `[C]` each; attribute `epsilon`); the ONNX loader
//! of [`super::Voice`] builds it as [`ChannelNorm`]. It computes what the subgraph computes, in
//! the same order of operations, in `f32`; tract sums in another order, so the two agree to
//! rounding, not bit for bit.

use std::boxed::Box;
use std::vec::Vec;
use std::{format, vec};

use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_hir::internal::{
    check_input_arity, check_output_arity, expand, Expansion, InferenceOp, InferenceResult, Solver, TensorProxy,
};

/// The ONNX op type [`super::surgery`] writes and the loader reads.
pub const OP_TYPE: &str = "ParlaChannelNorm";

/// Layer norm over axis 1 of an `[N, C, L]` tensor: `(x − mean) / √(var + ε) · scale + shift`,
/// with the mean and the (biased) variance taken over the `C` channels at each position.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelNorm {
    /// Added to the variance before its square root.
    pub epsilon: f32,
}

impl Eq for ChannelNorm {}

impl ChannelNorm {
    /// Normalises one `[C, L]` slab, channel-major, into `out`. Works a row at a time so every
    /// pass reads memory in order.
    fn slab(&self, x: &[f32], scale: &[f32], shift: &[f32], len: usize, out: &mut [f32]) {
        let channels = scale.len() as f32;
        let mut mean = vec![0f32; len];
        for row in x.chunks_exact(len) {
            mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v);
        }
        mean.iter_mut().for_each(|m| *m /= channels);
        let mut var = vec![0f32; len];
        for (row, o) in x.chunks_exact(len).zip(out.chunks_exact_mut(len)) {
            for ((o, (&v, &m)), s) in o.iter_mut().zip(row.iter().zip(&mean)).zip(var.iter_mut()) {
                *o = v - m;
                *s += *o * *o;
            }
        }
        let root: Vec<f32> = var.iter().map(|s| (s / channels + self.epsilon).sqrt()).collect();
        for ((o, &g), &b) in out.chunks_exact_mut(len).zip(scale).zip(shift) {
            o.iter_mut().zip(&root).for_each(|(o, &r)| *o = *o / r * g + b);
        }
    }
}

impl Op for ChannelNorm {
    fn name(&self) -> StaticName {
        OP_TYPE.into()
    }

    op_as_typed_op!();
}

impl EvalOp for ChannelNorm {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (x, scale, shift) = args_3!(inputs);
        let (batch, channels, len) = match *x.shape() {
            [n, c, l] => (n, c, l),
            _ => bail!("{OP_TYPE}: input {:?} is not [N, C, L]", x.shape()),
        };
        if scale.len() != channels || shift.len() != channels {
            bail!("{OP_TYPE}: {channels} channels, scale of {} and shift of {}", scale.len(), shift.len());
        }
        let (x, scale, shift) = (x.to_plain_array_view::<f32>()?, scale.to_plain_array_view::<f32>()?, shift.to_plain_array_view::<f32>()?);
        let contiguous = || format_err!("{OP_TYPE}: an input is not contiguous");
        let (x, scale, shift) =
            (x.as_slice().ok_or_else(contiguous)?, scale.as_slice().ok_or_else(contiguous)?, shift.as_slice().ok_or_else(contiguous)?);
        let mut out = vec![0f32; x.len()];
        let slab = channels * len;
        if slab > 0 {
            for (x, out) in x.chunks_exact(slab).zip(out.chunks_exact_mut(slab)) {
                self.slab(x, scale, shift, len, out);
            }
        }
        Ok(tvec!(tensor1(&out).into_shape(&[batch, channels, len])?.into_tvalue()))
    }
}

impl TypedOp for ChannelNorm {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        if inputs[0].rank() != 3 {
            bail!("{OP_TYPE}: input of rank {}, not [N, C, L]", inputs[0].rank());
        }
        Ok(tvec!(f32::fact(inputs[0].shape.clone())))
    }
}

/// The op as the ONNX loader sees it, before typing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OnnxChannelNorm {
    epsilon_bits: u32,
}

impl Expansion for OnnxChannelNorm {
    fn name(&self) -> StaticName {
        OP_TYPE.into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(&'s self, s: &mut Solver<'r>, inputs: &'p [TensorProxy], outputs: &'p [TensorProxy]) -> InferenceResult {
        check_input_arity(inputs, 3)?;
        check_output_arity(outputs, 1)?;
        for t in inputs.iter().chain(outputs) {
            s.equals(&t.datum_type, f32::datum_type())?;
        }
        s.equals(&inputs[0].rank, 3)?;
        s.equals(&inputs[1].rank, 1)?;
        s.equals(&inputs[2].rank, 1)?;
        s.equals(&inputs[0].shape[1], &inputs[1].shape[0])?;
        s.equals(&inputs[0].shape[1], &inputs[2].shape[0])?;
        s.equals(&inputs[0].shape, &outputs[0].shape)?;
        Ok(())
    }

    fn wire(&self, name: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        model.wire_node(name, ChannelNorm { epsilon: f32::from_bits(self.epsilon_bits) }, inputs)
    }
}

/// Builds the op from its ONNX node (registered with the loader under [`OP_TYPE`]).
pub(crate) fn onnx_op(
    _ctx: &tract_onnx::model::ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<std::string::String>)> {
    Ok((expand(from_attributes(node)?), Vec::new()))
}

fn from_attributes(node: &NodeProto) -> TractResult<OnnxChannelNorm> {
    let epsilon =
        node.attribute.iter().find(|a| a.name == "epsilon").map(|a| a.f).with_context(|| format!("{OP_TYPE} without `epsilon`"))?;
    if !(epsilon.is_finite() && epsilon >= 0.0) {
        bail!("{OP_TYPE}: epsilon {epsilon}");
    }
    Ok(OnnxChannelNorm { epsilon_bits: epsilon.to_bits() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(x: Tensor, scale: &[f32], shift: &[f32]) -> TractResult<Tensor> {
        let op = ChannelNorm { epsilon: 1e-5 };
        let out =
            op.eval(&EvalContext::out_of_plan(), tvec![x.into_tvalue(), tensor1(scale).into_tvalue(), tensor1(shift).into_tvalue()])?;
        Ok(out[0].clone().into_tensor())
    }

    #[test]
    fn normalises_each_position_over_the_channels() {
        let (n, c, l) = (2, 5, 7);
        let values: Vec<f32> = (0..n * c * l).map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.7).collect();
        let scale = [0.5, 1.0, 1.5, 2.0, -1.0];
        let shift = [0.1, -0.2, 0.3, 0.0, 1.0];
        let x = tensor1(&values).into_shape(&[n, c, l]).unwrap();
        let out = run(x, &scale, &shift).unwrap();
        let out = out.to_plain_array_view::<f32>().unwrap();
        for b in 0..n {
            for t in 0..l {
                let at = |ch: usize| f64::from(values[(b * c + ch) * l + t]);
                let mean = (0..c).map(at).sum::<f64>() / c as f64;
                let var = (0..c).map(|ch| (at(ch) - mean).powi(2)).sum::<f64>() / c as f64;
                for ch in 0..c {
                    let want = (at(ch) - mean) / (var + 1e-5).sqrt() * f64::from(scale[ch]) + f64::from(shift[ch]);
                    let got = f64::from(out[[b, ch, t]]);
                    assert!((got - want).abs() < 1e-5, "[{b}, {ch}, {t}]: {got} against {want}");
                }
            }
        }
    }

    #[test]
    fn odd_shapes_and_attributes_are_errors() {
        let x = |shape: &[usize]| Tensor::zero::<f32>(shape).unwrap();
        assert_eq!(run(x(&[1, 3, 4]), &[1.0; 3], &[0.0; 3]).unwrap().shape(), &[1, 3, 4]);
        assert_eq!(run(x(&[1, 3, 0]), &[1.0; 3], &[0.0; 3]).unwrap().shape(), &[1, 3, 0], "no positions");
        assert!(run(x(&[1, 3, 4]), &[1.0; 2], &[0.0; 3]).is_err(), "scale of the wrong length");
        assert!(run(x(&[1, 3, 4]), &[1.0; 3], &[0.0; 4]).is_err(), "shift of the wrong length");
        assert!(run(x(&[3, 4]), &[1.0; 3], &[0.0; 3]).is_err(), "rank 2");

        use tract_onnx::pb::{attribute_proto::AttributeType, AttributeProto};
        let node = |f: Option<f32>| NodeProto {
            op_type: OP_TYPE.into(),
            attribute: f
                .map(|f| AttributeProto { name: "epsilon".into(), r#type: AttributeType::Float as i32, f, ..Default::default() })
                .into_iter()
                .collect(),
            ..Default::default()
        };
        assert!(from_attributes(&node(Some(1e-5))).is_ok());
        for bad in [None, Some(f32::NAN), Some(-1e-5), Some(f32::INFINITY)] {
            assert!(from_attributes(&node(bad)).is_err(), "{bad:?}");
        }
    }
}
