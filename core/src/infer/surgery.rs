//! Graph surgery on a Piper ONNX export, so tract can run it.
//!
//! tract cannot type Piper's text encoder as exported: the windowed relative-position attention
//! turns relative logits into absolute ones with pads and reshapes whose sizes it cannot prove.
//! This module rewrites that skew as a contraction with a band matrix
//! `M[i, j, k] = (j − i == k − W)` (same maths: the padded embedding rows are zero), replaces the
//! duration predictor's random source with an input (so noise comes from our seeded RNG), and
//! splits the model at `z_p` into an encoder and a decoder:
//!
//! - encoder: `input`, `input_lengths`, `scales`, \[`sid`\], `dp_noise` → `m_p`, `logs_p`, `w_ceil`
//! - decoder: `z_p`, `y_mask`, \[`sid`\] → audio
//!
//! Everything is found from the graph's structure (op types and module names that every Piper
//! export shares), not from numbered tensor names.

use std::collections::{HashMap, HashSet};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use tract_onnx::pb::{
    self, attribute_proto::AttributeType, tensor_proto::DataType,
    AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto,
};

/// The graph input that carries the duration predictor's noise, `[1, 2, L]`.
pub const DP_NOISE: &str = "parla_dp_noise";

/// Why a file is not a Piper voice this engine can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPiper(pub String);

impl core::fmt::Display for NotPiper {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "not a Piper VITS export: {}", self.0)
    }
}

impl std::error::Error for NotPiper {}

type Result<T> = core::result::Result<T, NotPiper>;

fn bad<T>(why: impl Into<String>) -> Result<T> {
    Err(NotPiper(why.into()))
}

/// The two halves of a Piper voice.
pub struct Halves {
    /// Phoneme ids → `m_p`, `logs_p`, `w_ceil`.
    pub encoder: ModelProto,
    /// `z_p`, `y_mask` → audio.
    pub decoder: ModelProto,
    /// Whether the voice takes a speaker id (`sid`), in both halves' inputs.
    pub multi_speaker: bool,
    /// Channels of the prior (`m_p`, `logs_p`, `z_p`): what the halves exchange per frame.
    /// Read from the weight of the convolution that projects to both, so a half can be
    /// prepared without the other.
    pub channels: usize,
    /// How many of the duration predictor's splines became one op ([`super::spline`]).
    pub fused_splines: usize,
    /// How many layer norms became one op ([`super::norm`]).
    pub fused_norms: usize,
}

/// Names of the encoder's inputs, in order (`sid` only for multi-speaker voices).
pub fn encoder_inputs(multi_speaker: bool) -> Vec<&'static str> {
    let mut v = vec!["input", "input_lengths", "scales"];
    if multi_speaker {
        v.push("sid");
    }
    v.push(DP_NOISE);
    v
}

/// Names of the decoder's inputs, in order.
pub fn decoder_inputs(multi_speaker: bool) -> Vec<&'static str> {
    let mut v = vec!["z_p", "y_mask"];
    if multi_speaker {
        v.push("sid");
    }
    v
}

/// Who produces and who consumes each tensor.
struct Index {
    producer: HashMap<String, usize>,
    consumers: HashMap<String, Vec<usize>>,
    initializers: HashSet<String>,
}

impl Index {
    fn new(g: &GraphProto) -> Index {
        let mut producer = HashMap::new();
        let mut consumers: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            for o in &n.output {
                producer.insert(o.clone(), i);
            }
            for t in &n.input {
                consumers.entry(t.clone()).or_default().push(i);
            }
        }
        let initializers = g.initializer.iter().map(|t| t.name.clone()).collect();
        Index { producer, consumers, initializers }
    }

    fn only_consumer<'g>(&self, g: &'g GraphProto, tensor: &str) -> Result<&'g NodeProto> {
        match self.consumers.get(tensor).map(Vec::as_slice) {
            Some([one]) => Ok(&g.node[*one]),
            _ => bad(format!("expected one consumer of `{tensor}`")),
        }
    }

    /// The one node that reads `tensor` as data (its first input), ignoring shape queries.
    fn data_consumer<'g>(&self, g: &'g GraphProto, tensor: &str) -> Result<&'g NodeProto> {
        let mut it = self.consumers.get(tensor).into_iter().flatten().map(|&i| &g.node[i]).filter(|n| {
            n.op_type != "Shape" && (n.input.first().map(String::as_str) == Some(tensor) || n.op_type == "Add")
        });
        match (it.next(), it.next()) {
            (Some(one), None) => Ok(one),
            _ => bad(format!("expected one data consumer of `{tensor}`")),
        }
    }

    fn producer<'g>(&self, g: &'g GraphProto, tensor: &str) -> Option<&'g NodeProto> {
        self.producer.get(tensor).map(|&i| &g.node[i])
    }
}

/// Which subgraphs the export spells out node by node are rewritten as one op each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fusions {
    /// The duration predictor's rational-quadratic splines ([`super::spline`]).
    pub splines: bool,
    /// The layer norms over channels ([`super::norm`]).
    pub norms: bool,
}

impl Fusions {
    /// Every fusion: the quickest to prepare and to run.
    pub const ALL: Fusions = Fusions { splines: true, norms: true };
    /// The graph as exported, to check the fused ops against.
    pub const NONE: Fusions = Fusions { splines: false, norms: false };
}

/// Splits and rewrites a Piper model, its splines and layer norms fused. Consumes the proto so
/// the weights move, not copy.
pub fn split(model: ModelProto) -> Result<Halves> {
    split_with(model, Fusions::ALL)
}

/// [`split`], with the chosen subgraphs fused into one op each and the rest left as exported.
pub fn split_with(mut model: ModelProto, fuse: Fusions) -> Result<Halves> {
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .unwrap_or(0);
    if opset < 13 {
        return bad(format!("ONNX opset {opset} is older than 13"));
    }
    let mut graph = model.graph.take().ok_or_else(|| NotPiper("the model has no graph".into()))?;
    // A speaker input; a weight that happens to be called `sid` (some exports) is not one.
    let multi_speaker = graph.input.iter().any(|i| i.name == "sid")
        && !graph.initializer.iter().any(|t| t.name == "sid");
    for needed in ["input", "input_lengths", "scales"] {
        if !graph.input.iter().any(|i| i.name == needed) {
            return bad(format!("no graph input `{needed}`"));
        }
    }

    let anchors = Anchors::find(&graph)?;
    rewrite_attention(&mut graph)?;
    let fused_splines = if fuse.splines { fuse_splines(&mut graph) } else { 0 };
    let fused_norms = if fuse.norms { fuse_norms(&mut graph) } else { 0 };
    // The duration predictor's noise becomes an input; the prior's noise is replaced by ours.
    for n in &mut graph.node {
        for t in &mut n.input {
            if *t == anchors.dp_noise {
                *t = DP_NOISE.to_string();
            }
        }
    }
    graph.node.retain(|n| n.op_type != "RandomNormalLike");
    rename_tensor(&mut graph, &anchors.z_p, "z_p");
    rename_tensor(&mut graph, &anchors.y_mask, "y_mask");

    let enc_outputs = [anchors.m_p.as_str(), anchors.logs_p.as_str(), anchors.w_ceil.as_str()];
    let enc_sources = encoder_inputs(multi_speaker);
    let dec_sources = decoder_inputs(multi_speaker);
    let enc_keep = reachable(&graph, &enc_outputs, &enc_sources)?;
    let dec_keep = reachable(&graph, &["output"], &dec_sources)?;

    let mut encoder = GraphProto { name: "parla-encoder".into(), ..Default::default() };
    let mut decoder = GraphProto { name: "parla-decoder".into(), ..Default::default() };
    let nodes = std::mem::take(&mut graph.node).into_iter().enumerate();
    let (enc_nodes, dec_nodes) = distribute(nodes, |(i, _)| (enc_keep.nodes.contains(i), dec_keep.nodes.contains(i)));
    encoder.node = enc_nodes.into_iter().map(|(_, n)| n).collect();
    decoder.node = dec_nodes.into_iter().map(|(_, n)| n).collect();
    let weights = std::mem::take(&mut graph.initializer);
    (encoder.initializer, decoder.initializer) =
        distribute(weights, |t| (enc_keep.tensors.contains(&t.name), dec_keep.tensors.contains(&t.name)));
    encoder.input = enc_sources.iter().map(|n| untyped_input(n, input_type(n))).collect();
    decoder.input = dec_sources.iter().map(|n| untyped_input(n, input_type(n))).collect();
    encoder.output = enc_outputs.iter().map(|n| output(n)).collect();
    decoder.output = vec![output("output")];

    let half = |g: GraphProto| ModelProto {
        ir_version: model.ir_version,
        opset_import: model.opset_import.clone(),
        producer_name: "parla".into(),
        graph: Some(g),
        ..Default::default()
    };
    let channels = anchors.channels;
    Ok(Halves { encoder: half(encoder), decoder: half(decoder), multi_speaker, channels, fused_splines, fused_norms })
}

/// Sends each item to the encoder, the decoder, both (cloned) or neither, moving rather than
/// copying wherever it can: weights are most of a voice's size.
fn distribute<T: Clone>(items: impl IntoIterator<Item = T>, wanted: impl Fn(&T) -> (bool, bool)) -> (Vec<T>, Vec<T>) {
    let (mut enc, mut dec) = (Vec::new(), Vec::new());
    for item in items {
        match wanted(&item) {
            (true, true) => {
                enc.push(item.clone());
                dec.push(item);
            }
            (true, false) => enc.push(item),
            (false, true) => dec.push(item),
            (false, false) => {}
        }
    }
    (enc, dec)
}

fn input_type(name: &str) -> DataType {
    match name {
        "input" | "input_lengths" | "sid" => DataType::Int64,
        _ => DataType::Float,
    }
}

/// A graph input with an element type and no shape: the loader sets the shapes.
fn untyped_input(name: &str, dt: DataType) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: dt as i32,
                shape: None,
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn output(name: &str) -> ValueInfoProto {
    ValueInfoProto { name: name.into(), ..Default::default() }
}

fn rename_tensor(g: &mut GraphProto, from: &str, to: &str) {
    for n in &mut g.node {
        for t in n.input.iter_mut().chain(n.output.iter_mut()) {
            if t == from {
                *t = to.to_string();
            }
        }
    }
}

/// The tensors the split is made at.
#[derive(Debug)]
struct Anchors {
    m_p: String,
    logs_p: String,
    w_ceil: String,
    dp_noise: String,
    z_p: String,
    y_mask: String,
    channels: usize,
}

impl Anchors {
    fn find(g: &GraphProto) -> Result<Anchors> {
        let idx = Index::new(g);
        let ops = |op: &'static str| g.node.iter().filter(move |n| n.op_type == op);

        let ceil: Vec<_> = ops("Ceil").collect();
        let [ceil] = ceil.as_slice() else { return bad("expected exactly one Ceil (durations)") };
        let split = ops("Split")
            .find(|n| n.name.contains("enc_p") && n.output.len() == 2)
            .ok_or_else(|| NotPiper("no two-way Split in enc_p (m_p, logs_p)".into()))?;
        let (dp, prior): (Vec<_>, Vec<_>) =
            ops("RandomNormalLike").partition(|n| n.name.contains("/dp/"));
        let ([dp], [prior]) = (dp.as_slice(), prior.as_slice()) else {
            return bad("expected one RandomNormalLike in /dp/ and one for the prior");
        };
        // prior noise → × exp(logs_p) → × noise_scale → m_p + … = z_p
        let mul1 = idx.only_consumer(g, &prior.output[0])?;
        let mul2 = idx.only_consumer(g, &mul1.output[0])?;
        let add = idx.only_consumer(g, &mul2.output[0])?;
        if (mul1.op_type.as_str(), mul2.op_type.as_str(), add.op_type.as_str())
            != ("Mul", "Mul", "Add")
        {
            return bad("the prior's noise does not end in m_p + noise · exp(logs_p) · scale");
        }
        // y_mask: the one cast mask the flow reads from outside itself.
        let mut masks = HashSet::new();
        for n in g.node.iter().filter(|n| n.name.starts_with("/flow/")) {
            for t in &n.input {
                if let Some(p) = idx.producer(g, t) {
                    if p.op_type == "Cast" && !p.name.starts_with("/flow/") {
                        masks.insert(t.clone());
                    }
                }
            }
        }
        let masks: Vec<_> = masks.into_iter().collect();
        let [y_mask] = masks.as_slice() else { return bad("expected one mask input to /flow/") };
        let channels = prior_channels(g, &idx, split)?;
        Ok(Anchors {
            channels,
            m_p: split.output[0].clone(),
            logs_p: split.output[1].clone(),
            w_ceil: ceil.output[0].clone(),
            dp_noise: dp.output[0].clone(),
            z_p: add.output[0].clone(),
            y_mask: y_mask.clone(),
        })
    }
}

/// The channels of `m_p` and `logs_p`: half the output channels of the convolution whose
/// (masked) output `split` cuts in two, read from its weight's first dimension.
fn prior_channels(g: &GraphProto, idx: &Index, split: &NodeProto) -> Result<usize> {
    let mut t = split.input.first().cloned().unwrap_or_default();
    for _ in 0..4 {
        let Some(n) = idx.producer(g, &t) else { break };
        if n.op_type == "Conv" {
            let weight = n.input.get(1).and_then(|w| g.initializer.iter().find(|i| &i.name == w));
            return match weight.and_then(|w| w.dims.first()) {
                Some(&c) if c > 0 && c % 2 == 0 => Ok(c as usize / 2),
                _ => bad("the prior's projection has no weight of an even channel count"),
            };
        }
        // The projection is masked (`Mul`) before the split: follow the input a Conv makes,
        // else the first.
        if !matches!(n.op_type.as_str(), "Mul" | "Add") {
            break;
        }
        let from_conv = n.input.iter().find(|i| idx.producer(g, i).is_some_and(|p| p.op_type == "Conv"));
        t = from_conv.or(n.input.first()).cloned().unwrap_or_default();
    }
    bad("the prior's Split does not read a projection (Conv)")
}

/// Nodes (by index) and tensors needed to compute some outputs from some sources.
struct Reach {
    nodes: HashSet<usize>,
    tensors: HashSet<String>,
}

fn reachable(g: &GraphProto, outputs: &[&str], sources: &[&str]) -> Result<Reach> {
    let idx = Index::new(g);
    let mut reach = Reach { nodes: HashSet::new(), tensors: HashSet::new() };
    let mut stack: Vec<String> = outputs.iter().map(|s| s.to_string()).collect();
    while let Some(t) = stack.pop() {
        if t.is_empty() || !reach.tensors.insert(t.clone()) {
            continue;
        }
        if sources.contains(&t.as_str()) || idx.initializers.contains(&t) {
            continue;
        }
        match idx.producer.get(&t) {
            Some(&i) => {
                if reach.nodes.insert(i) {
                    stack.extend(g.node[i].input.iter().cloned());
                }
            }
            None => return bad(format!("tensor `{t}` has no producer")),
        }
    }
    Ok(reach)
}

/// Rewrites every relative-position attention layer (found by its `*.emb_rel_k` weight).
fn rewrite_attention(g: &mut GraphProto) -> Result<()> {
    let layers: Vec<(String, Vec<i64>)> = g
        .initializer
        .iter()
        .filter(|t| t.name.ends_with(".emb_rel_k"))
        .map(|t| (t.name.trim_end_matches(".emb_rel_k").to_string(), t.dims.clone()))
        .collect();
    if layers.is_empty() {
        return bad("no relative-position attention (`*.emb_rel_k`) in the encoder");
    }
    let mut band: Option<(i64, String)> = None;
    for (n, (prefix, dims)) in layers.iter().enumerate() {
        let &[1, rows, _] = dims.as_slice() else {
            return bad(format!("{prefix}.emb_rel_k has shape {dims:?}, expected [1, 2W+1, d]"));
        };
        if rows < 1 || rows % 2 == 0 {
            return bad(format!("{prefix}.emb_rel_k has {rows} rows, expected 2W+1"));
        }
        let m = match &band {
            Some((r, m)) if *r == rows => m.clone(),
            Some(_) => return bad("attention layers disagree on the window size"),
            None => {
                let m = add_band_matrix(g, rows);
                band = Some((rows, m.clone()));
                m
            }
        };
        rewrite_layer(g, n, prefix, &m)?;
    }
    Ok(())
}

/// Wires `M[i, j, k] = (j − i == k − W)`, `[L, L, 2W+1]` f32, from the length of `input`.
fn add_band_matrix(g: &mut GraphProto, rows: i64) -> String {
    let p = "/parla/band";
    let w = rows / 2;
    g.initializer.push(int64(&format!("{p}/one"), &[], &[1]));
    g.initializer.push(int64(&format!("{p}/zero"), &[], &[0]));
    g.initializer.push(int64(&format!("{p}/ax0"), &[1], &[0]));
    g.initializer.push(int64(&format!("{p}/ax1"), &[1], &[1]));
    g.initializer.push(int64(&format!("{p}/ax2"), &[1], &[2]));
    let offsets: Vec<i64> = (-w..=w).collect();
    g.initializer.push(int64(&format!("{p}/k"), &[rows], &offsets));
    let t = |s: &str| format!("{p}/{s}");
    let nodes = [
        node("Shape", &t("shape"), &["input"], &[]),
        node("Gather", &t("len"), &[&t("shape"), &t("one")], &[attr_int("axis", 0)]),
        node("Range", &t("range"), &[&t("zero"), &t("len"), &t("one")], &[]),
        node("Unsqueeze", &t("col"), &[&t("range"), &t("ax1")], &[]),
        node("Unsqueeze", &t("row"), &[&t("range"), &t("ax0")], &[]),
        node("Sub", &t("diff"), &[&t("row"), &t("col")], &[]),
        node("Unsqueeze", &t("diff3"), &[&t("diff"), &t("ax2")], &[]),
        node("Equal", &t("eq"), &[&t("diff3"), &t("k")], &[]),
        node("Cast", &t("m"), &[&t("eq")], &[attr_int("to", DataType::Float as i64)]),
    ];
    // Put them first: they depend on the graph input only.
    g.node.splice(0..0, nodes);
    t("m")
}

fn rewrite_layer(g: &mut GraphProto, n: usize, prefix: &str, band: &str) -> Result<()> {
    let idx = Index::new(g);
    let emb_k = format!("{prefix}.emb_rel_k");
    let emb_v = format!("{prefix}.emb_rel_v");
    if !idx.initializers.contains(&emb_v) {
        return bad(format!("{emb_v} is missing"));
    }
    // Keys: emb_rel_k → Pad → Slice → … → MatMul(q, ·) → skew … → Add(scores, ·).
    let k_mm = follow_to(g, &idx, &emb_k, "MatMul")?;
    let q = k_mm.input[0].clone();
    let (k_skewed, k_add) = skew_end(g, &idx, &k_mm.output[0])?;
    // Values: p_attn → skew … → MatMul(·, emb_rel_v …) → Add(out, ·).
    let v_mm = follow_to(g, &idx, &emb_v, "MatMul")?;
    let mut p = v_mm.input[0].clone();
    while let Some(prod) = idx.producer(g, &p) {
        if !is_skew_op(&prod.op_type) {
            break;
        }
        p = prod.input[0].clone();
    }
    let v_out = v_mm.output[0].clone();
    let v_add = idx.only_consumer(g, &v_out)?.name.clone();
    if idx.producer(g, &p).is_none_or(|n| n.op_type != "Softmax") {
        return bad(format!("{prefix}: relative values do not start from the softmax"));
    }

    let t = |s: &str| format!("/parla/attn{n}/{s}");
    let new = [
        node("Transpose", &t("ek_t"), &[&emb_k], &[attr_ints("perm", &[0, 2, 1])]),
        node("MatMul", &t("rel_logits"), &[&q, &t("ek_t")], &[]),
        node("Einsum", &t("local"), &[&t("rel_logits"), band], &[attr_str("equation", "bhik,ijk->bhij")]),
        node("Einsum", &t("rel_w"), &[&p, band], &[attr_str("equation", "bhij,ijk->bhik")]),
        node("MatMul", &t("rel_v"), &[&t("rel_w"), &emb_v], &[]),
    ];
    for node in &mut g.node {
        if node.name == k_add {
            replace_input(node, &k_skewed, &t("local"));
        } else if node.name == v_add {
            replace_input(node, &v_out, &t("rel_v"));
        }
    }
    // After the later of the two Adds' inputs exist: just before the value Add.
    let at = g.node.iter().position(|x| x.name == v_add).unwrap_or(g.node.len());
    g.node.splice(at..at, new);
    Ok(())
}

/// Replaces the spline at the end of each of the duration predictor's coupling flows by one
/// node of [`super::spline::OP_TYPE`], where the flow has the shape Piper's exports give it: a
/// two-way `Split` of the flow's input `(x0, x1)`, parameters from the flow's `proj` convolution
/// times the mask, the spline's bounds tested on `x1`, and `Concat(x0, spline(x1))`. A flow of
/// another shape keeps its subgraph, which tract runs as before. Returns how many were fused.
/// The replaced nodes are left unreferenced, and the split leaves them out.
fn fuse_splines(g: &mut GraphProto) -> usize {
    let idx = Index::new(g);
    let consumers = |t: &str| idx.consumers.get(t).into_iter().flatten().map(|&i| &g.node[i]);
    let mut fused = Vec::new();
    for split in g.node.iter().filter(|n| n.op_type == "Split" && n.output.len() == 2 && n.name.starts_with("/dp/flows.")) {
        let flow = &split.name[..split.name.rfind('/').map_or(0, |i| i + 1)];
        let (x0, x1) = (&split.output[0], &split.output[1]);
        let Some(proj) = g.node.iter().find(|n| n.op_type == "Conv" && n.name == format!("{flow}proj/Conv")) else { continue };
        let Ok(params) = idx.only_consumer(g, &proj.output[0]) else { continue };
        let Some(weight) = proj.input.get(1).and_then(|w| g.initializer.iter().find(|t| &t.name == w)) else { continue };
        let is_concat = |&i: &usize| g.node[i].op_type == "Concat" && g.node[i].input.len() == 2 && g.node[i].input[0] == *x0;
        let Some(concat) = idx.consumers.get(x0).into_iter().flatten().copied().find(is_concat) else { continue };
        let bound =
            consumers(x1).find(|n| n.op_type == "LessOrEqual" && n.input[0] == *x1).and_then(|n| constant_f32(g, &idx, n.input.get(1)?));
        let (Some(bound), &[p, filter, 1]) = (bound, weight.dims.as_slice()) else { continue };
        // The op wants at least two bins (five parameters).
        if params.op_type != "Mul" || p % 3 != 2 || p < 5 || filter < 1 || !bound.is_finite() || bound <= 0.0 {
            continue;
        }
        let name = format!("/parla/spline{}", fused.len());
        let attrs = [attr_int("bins", (p + 1) / 3), attr_int("filter_channels", filter), attr_f32("tail_bound", bound)];
        let op = node(super::spline::OP_TYPE, &name, &[&params.output[0], x1], &attrs);
        fused.push((concat, op));
    }
    // Each op goes just before its Concat; from the last, so earlier indices stay valid.
    fused.sort_by_key(|(at, _)| core::cmp::Reverse(*at));
    fused.dedup_by_key(|(at, _)| *at);
    let fused_count = fused.len();
    for (at, op) in fused {
        g.node[at].input[1] = op.output[0].clone();
        g.node.insert(at, op);
    }
    fused_count
}

/// Replaces each layer norm over channels that the export spells out ([`super::norm`]) with one
/// node of [`super::norm::OP_TYPE`]. The op takes the place of the transpose back to
/// channels-first and keeps its output's name; a subgraph of another shape is kept, and tract
/// runs it as before. Returns how many were fused. The replaced nodes are left unreferenced,
/// and the split leaves them out.
fn fuse_norms(g: &mut GraphProto) -> usize {
    let idx = Index::new(g);
    let fused: Vec<(usize, NodeProto)> =
        g.node.iter().enumerate().filter_map(|(at, last)| Some((at, channel_norm(g, &idx, last)?))).collect();
    let count = fused.len();
    for (at, op) in fused {
        g.node[at] = op;
    }
    count
}

/// The fused op for the layer norm whose last node is `last`, if it is one: `Transpose(x)` to
/// channels-last, `ReduceMean` over the last axis, `Sub`, `Pow` 2, `ReduceMean`, `Add` ε, `Sqrt`,
/// `Div`, `Mul` by a `[C]` scale, `Add` a `[C]` shift, and `last`, the `Transpose` back.
fn channel_norm(g: &GraphProto, idx: &Index, last: &NodeProto) -> Option<NodeProto> {
    let swaps = |n: &NodeProto| n.op_type == "Transpose" && n.attribute.iter().any(|a| a.name == "perm" && a.ints == [0, 2, 1]);
    let from = |t: &str, op: &str| idx.producer(g, t).filter(|n| n.op_type == op && n.input.len() == 2);
    let mean_of = |t: &str| {
        let n = idx.producer(g, t).filter(|n| n.op_type == "ReduceMean" && n.input.len() == 1)?;
        let attr = |name: &str| n.attribute.iter().find(|a| a.name == name);
        let last_axis = attr("axes").is_some_and(|a| a.ints == [-1] || a.ints == [2]);
        (last_axis && attr("keepdims").is_none_or(|a| a.i == 1)).then_some(&n.input[0])
    };
    // One input a `[C]` initializer, the other the data: (data, initializer).
    let channel_param = |n: &NodeProto| -> Option<(String, String)> {
        let is_param = |t: &String| g.initializer.iter().any(|w| &w.name == t && w.dims.len() == 1);
        match (is_param(&n.input[0]), is_param(&n.input[1])) {
            (false, true) => Some((n.input[0].clone(), n.input[1].clone())),
            (true, false) => Some((n.input[1].clone(), n.input[0].clone())),
            _ => None,
        }
    };
    if !swaps(last) || last.input.len() != 1 {
        return None;
    }
    let (scaled, shift) = channel_param(from(&last.input[0], "Add")?)?;
    let (normed, scale) = channel_param(from(&scaled, "Mul")?)?;
    let div = from(&normed, "Div")?;
    let (centred, root) = (&div.input[0], &div.input[1]);
    let plus_eps = from(&idx.producer(g, root).filter(|n| n.op_type == "Sqrt")?.input[0], "Add")?;
    let (eps, var) = match (constant_f32(g, idx, &plus_eps.input[1]), constant_f32(g, idx, &plus_eps.input[0])) {
        (Some(eps), _) => (eps, &plus_eps.input[0]),
        (None, Some(eps)) => (eps, &plus_eps.input[1]),
        (None, None) => return None,
    };
    let square = from(mean_of(var)?, "Pow")?;
    let sub = from(centred, "Sub")?;
    let first = idx.producer(g, &sub.input[0]).filter(|n| swaps(n) && n.input.len() == 1)?;
    let same_input = square.input[0] == *centred && *mean_of(&sub.input[1])? == sub.input[0];
    if !same_input || constant_f32(g, idx, &square.input[1]) != Some(2.0) || !(eps.is_finite() && eps >= 0.0) {
        return None;
    }
    let mut op = node(super::norm::OP_TYPE, &last.name, &[&first.input[0], &scale, &shift], &[attr_f32("epsilon", eps)]);
    op.output = last.output.clone();
    Some(op)
}

/// The value of `tensor` if it is one f32, from the initializers or a `Constant` node.
fn constant_f32(g: &GraphProto, idx: &Index, tensor: &str) -> Option<f32> {
    let t = match g.initializer.iter().find(|t| t.name == tensor) {
        Some(t) => t,
        None => {
            let n = idx.producer(g, tensor).filter(|n| n.op_type == "Constant")?;
            n.attribute.iter().find(|a| a.name == "value")?.t.as_ref()?
        }
    };
    if t.data_type != DataType::Float as i32 || t.dims.iter().product::<i64>() != 1 {
        return None;
    }
    match (t.float_data.first(), t.raw_data.get(..4)) {
        (Some(&v), _) => Some(v),
        (None, Some(b)) => Some(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        _ => None,
    }
}

fn is_skew_op(op: &str) -> bool {
    matches!(op, "Pad" | "Reshape" | "Slice" | "Unsqueeze" | "Transpose" | "Squeeze")
}

/// Follows single consumers from `start` through skew ops until an op of type `op`.
fn follow_to<'g>(g: &'g GraphProto, idx: &Index, start: &str, op: &str) -> Result<&'g NodeProto> {
    let mut t = start.to_string();
    for _ in 0..8 {
        let next = idx
            .consumers
            .get(&t)
            .and_then(|c| c.iter().map(|&i| &g.node[i]).find(|n| n.input.first() == Some(&t) || n.op_type == op))
            .ok_or_else(|| NotPiper(format!("`{start}` leads nowhere")))?;
        if next.op_type == op {
            return Ok(next);
        }
        if !is_skew_op(&next.op_type) {
            return bad(format!("`{start}` reaches {} before {op}", next.op_type));
        }
        t = next.output[0].clone();
    }
    bad(format!("`{start}` does not reach {op}"))
}

/// From relative logits, follows the skew ops to the Add that uses them. Returns the tensor that
/// enters the Add and the Add's node name.
fn skew_end(g: &GraphProto, idx: &Index, start: &str) -> Result<(String, String)> {
    let mut t = start.to_string();
    for _ in 0..12 {
        let next = idx.data_consumer(g, &t)?;
        if next.op_type == "Add" {
            return Ok((t, next.name.clone()));
        }
        if !is_skew_op(&next.op_type) {
            return bad(format!("relative logits reach {} before Add", next.op_type));
        }
        t = next.output[0].clone();
    }
    bad("relative logits never reach the scores")
}

fn replace_input(n: &mut NodeProto, from: &str, to: &str) {
    for t in &mut n.input {
        if t == from {
            *t = to.to_string();
        }
    }
}

fn node(op: &str, name: &str, inputs: &[&str], attrs: &[AttributeProto]) -> NodeProto {
    NodeProto {
        name: name.into(),
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![name.to_string()],
        attribute: attrs.to_vec(),
        ..Default::default()
    }
}

fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Int as i32, i, ..Default::default() }
}

fn attr_f32(name: &str, f: f32) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Float as i32, f, ..Default::default() }
}

fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: ints.to_vec(),
        ..Default::default()
    }
}

fn attr_str(name: &str, s: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: s.as_bytes().to_vec(),
        ..Default::default()
    }
}

fn int64(name: &str, dims: &[i64], values: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Int64 as i32,
        int64_data: values.to_vec(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One duration-predictor flow as Piper exports it, reduced to what `fuse_splines` reads:
    /// `Split(x) → (x0, x1)`, `proj(h) · mask`, a bound test on `x1`, a stand-in for the spline,
    /// and `Concat(x0, spline)`. `bound`: the tail bound the test compares with, if any.
    fn flow(bound: Option<f32>, proj_channels: i64) -> GraphProto {
        let p = "/dp/flows.3/";
        let t = |s: &str| format!("{p}{s}");
        let weight = TensorProto {
            name: t("proj.weight"),
            dims: vec![proj_channels, 192, 1],
            data_type: DataType::Float as i32,
            ..Default::default()
        };
        let mut initializer = vec![weight];
        let mut nodes = vec![
            NodeProto {
                name: t("Split"),
                op_type: "Split".into(),
                input: vec!["x".into()],
                output: vec![t("Split_output_0"), t("Split_output_1")],
                ..Default::default()
            },
            node("Conv", &t("proj/Conv"), &["h", &t("proj.weight")], &[]),
            node("Mul", &t("Mul"), &[&t("proj/Conv"), "mask"], &[]),
            node("Neg", &t("spline"), &[&t("Split_output_1"), &t("Mul")], &[]),
            node("Concat", &t("Concat"), &[&t("Split_output_0"), &t("spline")], &[attr_int("axis", 1)]),
        ];
        if let Some(b) = bound {
            initializer.push(TensorProto {
                name: t("bound"),
                data_type: DataType::Float as i32,
                float_data: vec![b],
                ..Default::default()
            });
            nodes.insert(3, node("LessOrEqual", &t("LessOrEqual"), &[&t("Split_output_1"), &t("bound")], &[]));
        }
        GraphProto { node: nodes, initializer, ..Default::default() }
    }

    /// A layer norm over channels as Piper exports it, reading `x` and read by `after`.
    /// `exponent`: the power the variance squares with (2 in a real one).
    fn layer_norm(exponent: f32, axes: &[i64]) -> GraphProto {
        let p = "/enc_p/encoder/norm_layers_1.0/";
        let t = |s: &str| format!("{p}{s}");
        let scalar =
            |name: String, v: f32| TensorProto { name, data_type: DataType::Float as i32, float_data: vec![v], ..Default::default() };
        let channels = |name: &str| TensorProto {
            name: name.into(),
            dims: vec![4],
            data_type: DataType::Float as i32,
            float_data: vec![1.0; 4],
            ..Default::default()
        };
        let swap = [attr_ints("perm", &[0, 2, 1])];
        let mean = [attr_ints("axes", axes)];
        let nodes = vec![
            node("Transpose", &t("Transpose"), &["x"], &swap),
            node("ReduceMean", &t("ReduceMean"), &[&t("Transpose")], &mean),
            node("Sub", &t("Sub"), &[&t("Transpose"), &t("ReduceMean")], &[]),
            node("Pow", &t("Pow"), &[&t("Sub"), &t("two")], &[]),
            node("ReduceMean", &t("ReduceMean_1"), &[&t("Pow")], &mean),
            node("Add", &t("Add"), &[&t("ReduceMean_1"), &t("eps")], &[]),
            node("Sqrt", &t("Sqrt"), &[&t("Add")], &[]),
            node("Div", &t("Div"), &[&t("Sub"), &t("Sqrt")], &[]),
            node("Mul", &t("Mul"), &[&t("Div"), "gamma"], &[]),
            node("Add", &t("Add_1"), &[&t("Mul"), "beta"], &[]),
            node("Transpose", &t("Transpose_1"), &[&t("Add_1")], &swap),
            node("Relu", "after", &[&t("Transpose_1")], &[]),
        ];
        let initializer = vec![scalar(t("two"), exponent), scalar(t("eps"), 1e-5), channels("gamma"), channels("beta")];
        GraphProto { node: nodes, initializer, ..Default::default() }
    }

    #[test]
    fn a_layer_norm_of_piper_shape_becomes_one_op() {
        for axes in [[-1], [2]] {
            let mut g = layer_norm(2.0, &axes);
            assert_eq!(fuse_norms(&mut g), 1);
            let op = g.node.iter().find(|n| n.op_type == super::super::norm::OP_TYPE).expect("the op");
            assert_eq!(op.input, ["x", "gamma", "beta"]);
            assert_eq!(op.attribute.iter().find(|a| a.name == "epsilon").map(|a| a.f), Some(1e-5));
            let after = g.node.iter().find(|n| n.name == "after").unwrap();
            assert_eq!(after.input, op.output, "its reader reads the op");
        }
    }

    #[test]
    fn a_norm_of_another_shape_keeps_its_subgraph() {
        let mut nan_epsilon = layer_norm(2.0, &[-1]);
        nan_epsilon.initializer.iter_mut().find(|t| t.name.ends_with("eps")).unwrap().float_data = vec![f32::NAN];
        for mut g in [layer_norm(3.0, &[-1]), layer_norm(2.0, &[1]), nan_epsilon] {
            let before = g.clone();
            assert_eq!(fuse_norms(&mut g), 0);
            // (Compared as text: a NaN is not equal to itself.)
            assert_eq!(format!("{g:?}"), format!("{before:?}"));
        }
    }

    #[test]
    fn a_flow_of_piper_shape_gets_one_spline_op() {
        let mut g = flow(Some(5.0), 29);
        assert_eq!(fuse_splines(&mut g), 1);
        let op = g.node.iter().find(|n| n.op_type == super::super::spline::OP_TYPE).expect("the op");
        assert_eq!(op.input, ["/dp/flows.3/Mul", "/dp/flows.3/Split_output_1"]);
        let attr = |name: &str| op.attribute.iter().find(|a| a.name == name).cloned().unwrap();
        assert_eq!((attr("bins").i, attr("filter_channels").i, attr("tail_bound").f), (10, 192, 5.0));
        let concat = g.node.iter().position(|n| n.op_type == "Concat").unwrap();
        assert_eq!(g.node[concat].input[1], op.output[0], "the Concat reads the op");
        assert_eq!(g.node[concat - 1].op_type, super::super::spline::OP_TYPE, "the op comes just before its reader");
    }

    #[test]
    fn a_flow_of_another_shape_keeps_its_subgraph() {
        for mut g in [flow(None, 29), flow(Some(5.0), 28), flow(Some(5.0), 2), flow(Some(f32::NAN), 29), flow(Some(-1.0), 29)] {
            let before = g.clone();
            assert_eq!(fuse_splines(&mut g), 0);
            // (Compared as text: a NaN bound is not equal to itself.)
            assert_eq!(format!("{g:?}"), format!("{before:?}"));
        }
    }
}
