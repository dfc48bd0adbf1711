//! The duration predictor's rational-quadratic spline, inverted, as one tract op.
//!
//! Each coupling flow of Piper's stochastic duration predictor ends in a monotonic
//! rational-quadratic spline (Durkan et al., "Neural Spline Flows", 2019) with linear tails,
//! applied to one channel with parameters a convolution computed for every phoneme. At
//! synthesis the flows run in reverse, so the spline is inverted: a quadratic solved per
//! phoneme. The ONNX export spells this out with boolean masks, `NonZero`, gathers and scatters:
//! about 330 nodes per flow, a thousand for the three flows, most of them shape arithmetic over
//! the symbolic phoneme count. That is about half of the encoder's graph. Natively, tract's
//! declutter of the encoder took 320 of the 750 ms the default voice took to load, nearly all of
//! it on these subgraphs (the text encoder's outputs alone declutter in 65–70 ms), for arithmetic
//! on a few numbers per phoneme.
//!
//! [`super::surgery`] replaces each flow's spline subgraph by one node of type [`OP_TYPE`]; the
//! ONNX loader of [`super::Voice`] builds it as [`RqSplineInverse`]. Its inputs are the flow's
//! parameters `h`, `[1, 3·bins − 1, L]` (the projection, already masked), and the channel to
//! transform, `[1, 1, L]`; its output has the channel's shape. It computes what Piper's
//! `piecewise_rational_quadratic_transform(…, inverse=True, tails="linear")` computes, in the
//! same order of operations, in `f32`.

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
pub const OP_TYPE: &str = "ParlaRqSplineInverse";

/// Smallest bin width, bin height and derivative, as in Piper's training code (where they are
/// the defaults, not stored in the model).
const MIN_BIN: f32 = 1e-3;
const MIN_DERIVATIVE: f32 = 1e-3;
/// Added to the last bin edge before the bin search, as Piper's `searchsorted` does.
const SEARCH_EPS: f32 = 1e-6;

/// The inverse of a rational-quadratic spline with linear tails outside `[-tail_bound,
/// tail_bound]`, over `bins` bins.
#[derive(Debug, Clone, PartialEq)]
pub struct RqSplineInverse {
    /// Bins in the spline; the parameters have `3·bins − 1` channels.
    pub bins: usize,
    /// The spline covers `[-tail_bound, tail_bound]`; outside it the transform is the identity.
    pub tail_bound: f32,
    /// The flow's filter channels: the width and height logits are divided by its square root.
    pub filter_channels: usize,
}

impl Eq for RqSplineInverse {}

impl RqSplineInverse {
    /// The inverse transform of `y` under the spline whose unnormalised parameters, for one
    /// position, are `p[j] = h[j]` (widths, then heights, then inner derivatives).
    fn invert(&self, y: f32, p: impl Fn(usize) -> f32, scratch: &mut Scratch) -> f32 {
        let (bins, bound) = (self.bins, self.tail_bound);
        if !(y >= -bound && y <= bound) {
            return y;
        }
        let scale = (self.filter_channels as f32).sqrt();
        scratch.reset(bins);
        let Scratch { widths, heights, edges_x, edges_y, derivatives } = scratch;
        for j in 0..bins {
            widths[j] = p(j) / scale;
            heights[j] = p(bins + j) / scale;
        }
        bin_edges(widths, edges_x, bound);
        bin_edges(heights, edges_y, bound);
        // Linear tails: the outer derivatives are pinned so softplus gives 1 there.
        let tail = ((1.0 - MIN_DERIVATIVE).exp() - 1.0).ln();
        derivatives[0] = tail;
        derivatives[bins] = tail;
        for (j, d) in derivatives.iter_mut().enumerate().take(bins).skip(1) {
            *d = p(2 * bins + j - 1);
        }
        for d in derivatives.iter_mut() {
            *d = MIN_DERIVATIVE + softplus(*d);
        }
        // The bin whose output range holds y (the last edge nudged up, so y = bound falls in).
        let mut k = 0;
        for (j, &e) in edges_y.iter().enumerate() {
            let e = if j == bins { e + SEARCH_EPS } else { e };
            if y >= e {
                k = j;
            }
        }
        let k = k.min(bins - 1);
        let (x0, w) = (edges_x[k], widths[k]);
        let (y0, h) = (edges_y[k], heights[k]);
        let delta = h / w;
        let (d0, d1) = (derivatives[k], derivatives[k + 1]);
        let dy = y - y0;
        let a = dy * (d0 + d1 - 2.0 * delta) + h * (delta - d0);
        let b = h * d0 - dy * (d0 + d1 - 2.0 * delta);
        let c = -delta * dy;
        let discriminant = b * b - 4.0 * a * c;
        let root = (2.0 * c) / (-b - discriminant.sqrt());
        root * w + x0
    }
}

/// Per-position working memory, kept across positions so a run allocates once.
#[derive(Default)]
struct Scratch {
    widths: Vec<f32>,
    heights: Vec<f32>,
    edges_x: Vec<f32>,
    edges_y: Vec<f32>,
    derivatives: Vec<f32>,
}

impl Scratch {
    fn reset(&mut self, bins: usize) {
        self.widths.resize(bins, 0.0);
        self.heights.resize(bins, 0.0);
        for v in [&mut self.edges_x, &mut self.edges_y, &mut self.derivatives] {
            v.resize(bins + 1, 0.0);
        }
    }
}

/// Turns logits into bin sizes (softmax, floored at [`MIN_BIN`]) over `[-bound, bound]`:
/// `sizes` becomes the bins' sizes and `edges` their `bins + 1` edges, computed as Piper does
/// (cumulative sum, scaled, ends pinned, sizes taken back as differences of edges).
fn bin_edges(sizes: &mut [f32], edges: &mut [f32], bound: f32) {
    let bins = sizes.len();
    let max = sizes.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in sizes.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    let mut cumulative = 0.0;
    edges[0] = -bound;
    for j in 0..bins {
        let size = MIN_BIN + (1.0 - MIN_BIN * bins as f32) * (sizes[j] / sum);
        cumulative += size;
        edges[j + 1] = 2.0 * bound * cumulative - bound;
    }
    edges[bins] = bound;
    for j in 0..bins {
        sizes[j] = edges[j + 1] - edges[j];
    }
}

fn softplus(x: f32) -> f32 {
    (x.exp() + 1.0).ln()
}

impl Op for RqSplineInverse {
    fn name(&self) -> StaticName {
        OP_TYPE.into()
    }

    op_as_typed_op!();
}

impl EvalOp for RqSplineInverse {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (h, y) = args_2!(inputs);
        let h = h.to_plain_array_view::<f32>()?;
        let y = y.to_plain_array_view::<f32>()?;
        let (params, len) = match *h.shape() {
            [1, params, len] => (params, len),
            _ => bail!("spline parameters are not [1, P, L]"),
        };
        if Some(params) != self.bins.checked_mul(3).map(|n| n - 1) || y.shape() != [1, 1, len] {
            bail!("spline shapes: parameters {:?}, input {:?}, {} bins", h.shape(), y.shape(), self.bins);
        }
        let mut scratch = Scratch::default();
        let out: Vec<f32> = (0..len).map(|t| self.invert(y[[0, 0, t]], |j| h[[0, j, t]], &mut scratch)).collect();
        Ok(tvec!(tensor1(&out).into_shape(&[1, 1, len])?.into_tvalue()))
    }
}

impl TypedOp for RqSplineInverse {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(inputs[1].shape.clone())))
    }
}

/// The op as the ONNX loader sees it (typing rules, then [`RqSplineInverse`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OnnxSpline {
    bins: usize,
    tail_bound_bits: u32,
    filter_channels: usize,
}

impl Expansion for OnnxSpline {
    fn name(&self) -> StaticName {
        OP_TYPE.into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(&'s self, s: &mut Solver<'r>, inputs: &'p [TensorProxy], outputs: &'p [TensorProxy]) -> InferenceResult {
        check_input_arity(inputs, 2)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].datum_type, f32::datum_type())?;
        s.equals(&inputs[1].datum_type, f32::datum_type())?;
        s.equals(&outputs[0].datum_type, f32::datum_type())?;
        s.equals(&inputs[1].shape, &outputs[0].shape)?;
        Ok(())
    }

    fn wire(&self, name: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        let op =
            RqSplineInverse { bins: self.bins, tail_bound: f32::from_bits(self.tail_bound_bits), filter_channels: self.filter_channels };
        model.wire_node(name, op, inputs)
    }
}

/// Most bins a spline may have (Piper's have 10): a file that asks for more is refused at load
/// rather than trusted with per-position buffers of that size.
const MAX_BINS: usize = 1024;

/// Builds the op from its ONNX node (attributes `bins`, `tail_bound`, `filter_channels`);
/// registered with the loader under [`OP_TYPE`].
pub(crate) fn onnx_op(
    _ctx: &tract_onnx::model::ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<std::string::String>)> {
    Ok((expand(from_attributes(node)?), Vec::new()))
}

/// The op's attributes, checked: a voice file may carry this op type with any attributes.
fn from_attributes(node: &NodeProto) -> TractResult<OnnxSpline> {
    let int = |name: &str| -> TractResult<usize> {
        let a = node.attribute.iter().find(|a| a.name == name).with_context(|| format!("{OP_TYPE} without `{name}`"))?;
        usize::try_from(a.i).map_err(|_| format_err!("{OP_TYPE}: `{name}` is negative"))
    };
    let bound = node.attribute.iter().find(|a| a.name == "tail_bound").map(|a| a.f).context("no tail_bound")?;
    let bins = int("bins")?;
    let filter_channels = int("filter_channels")?;
    if !(2..=MAX_BINS).contains(&bins) || filter_channels == 0 || !bound.is_finite() || bound <= 0.0 {
        bail!("{OP_TYPE}: {bins} bins, {filter_channels} filter channels, tail bound {bound}");
    }
    Ok(OnnxSpline { bins, tail_bound_bits: bound.to_bits(), filter_channels })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spline() -> RqSplineInverse {
        RqSplineInverse { bins: 10, tail_bound: 5.0, filter_channels: 192 }
    }

    /// The forward spline, written from the paper's formula, to check the inverse against.
    fn forward(op: &RqSplineInverse, x: f32, p: &[f32]) -> f32 {
        let mut s = Scratch::default();
        s.reset(op.bins);
        let scale = (op.filter_channels as f32).sqrt();
        for j in 0..op.bins {
            s.widths[j] = p[j] / scale;
            s.heights[j] = p[op.bins + j] / scale;
        }
        bin_edges(&mut s.widths, &mut s.edges_x, op.tail_bound);
        bin_edges(&mut s.heights, &mut s.edges_y, op.tail_bound);
        let tail = ((1.0 - MIN_DERIVATIVE).exp() - 1.0).ln();
        let mut d: Vec<f32> = core::iter::once(tail).chain(p[2 * op.bins..].iter().copied()).chain(core::iter::once(tail)).collect();
        d.iter_mut().for_each(|v| *v = MIN_DERIVATIVE + softplus(*v));
        let k = (0..op.bins).rev().find(|&k| x >= s.edges_x[k]).unwrap();
        let theta = (x - s.edges_x[k]) / s.widths[k];
        let delta = s.heights[k] / s.widths[k];
        let num = s.heights[k] * (delta * theta * theta + d[k] * theta * (1.0 - theta));
        let den = delta + (d[k] + d[k + 1] - 2.0 * delta) * theta * (1.0 - theta);
        s.edges_y[k] + num / den
    }

    fn params(seed: u32) -> Vec<f32> {
        // A small deterministic spread of logits, some large (narrow and wide bins).
        (0..29).map(|j| (((j as u32 * 2654435761u32) ^ seed.wrapping_mul(40503)) % 1000) as f32 / 50.0 - 10.0).collect()
    }

    #[test]
    fn inverts_the_forward_spline() {
        let op = spline();
        let mut scratch = Scratch::default();
        for seed in 0..20 {
            let p = params(seed);
            for i in 0..=100 {
                let x = -4.99 + 9.98 * i as f32 / 100.0;
                let y = forward(&op, x, &p);
                let back = op.invert(y, |j| p[j], &mut scratch);
                assert!((back - x).abs() < 2e-3, "seed {seed}: x {x} → y {y} → {back}");
            }
        }
    }

    #[test]
    fn odd_attributes_and_shapes_are_errors() {
        use tract_onnx::pb::{attribute_proto::AttributeType, AttributeProto};
        let int = |name: &str, i: i64| AttributeProto { name: name.into(), r#type: AttributeType::Int as i32, i, ..Default::default() };
        let float = |f: f32| AttributeProto { name: "tail_bound".into(), r#type: AttributeType::Float as i32, f, ..Default::default() };
        let node = |attribute: Vec<AttributeProto>| NodeProto { op_type: OP_TYPE.into(), attribute, ..Default::default() };
        let good = || vec![int("bins", 10), int("filter_channels", 192), float(5.0)];
        assert!(from_attributes(&node(good())).is_ok());
        for (i, bad) in [int("bins", 1), int("bins", -3), int("bins", 1 << 40), int("filter_channels", 0), float(f32::NAN), float(-5.0)]
            .into_iter()
            .enumerate()
        {
            let mut attrs: Vec<AttributeProto> = good().into_iter().filter(|a| a.name != bad.name).collect();
            attrs.push(bad);
            assert!(from_attributes(&node(attrs)).is_err(), "case {i}");
        }
        assert!(from_attributes(&node(good()[1..].to_vec())).is_err(), "no bins");

        let op = spline();
        let run = |params: usize, len: usize, ylen: usize| {
            let h = Tensor::zero::<f32>(&[1, params, len]).unwrap();
            let y = Tensor::zero::<f32>(&[1, 1, ylen]).unwrap();
            op.eval(&EvalContext::out_of_plan(), tvec![h.into_tvalue(), y.into_tvalue()])
        };
        assert_eq!(run(29, 7, 7).unwrap()[0].shape(), &[1, 1, 7]);
        assert!(run(28, 7, 7).is_err(), "parameters for another bin count");
        assert!(run(29, 7, 6).is_err(), "lengths disagree");
    }

    #[test]
    fn is_the_identity_outside_the_tails_and_monotonic_inside() {
        let op = spline();
        let p = params(7);
        let mut scratch = Scratch::default();
        for y in [-9.0, -5.001, 5.001, 12.5] {
            assert_eq!(op.invert(y, |j| p[j], &mut scratch), y);
        }
        let xs: Vec<f32> = (0..=200).map(|i| op.invert(-5.0 + i as f32 / 20.0, |j| p[j], &mut scratch)).collect();
        assert!(xs.windows(2).all(|w| w[1] >= w[0]), "{xs:?}");
        assert!((xs[0] + 5.0).abs() < 1e-4 && (xs[200] - 5.0).abs() < 1e-4, "ends {} {}", xs[0], xs[200]);
    }
}
