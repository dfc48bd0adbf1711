//! Decoding a voice file with its weights left where they are, to copy out only those of the
//! halves being prepared.
//!
//! Decoding the whole protobuf copies every weight out of the file (63 MB for the default voice)
//! while the file is still held, and in WebAssembly, whose memory never shrinks, that peak stays
//! taken for good. A worker preparing one half ([`super::Part`]) needs about half the weights.
//! So the file is first scanned, and decoded without the raw data of its large initializers
//! (each is remembered by name and place); the surgery, which reads only shapes and scalars,
//! splits that light model; then each half to prepare gets its weights copied in from the file.
//!
//! A file the scan does not understand is decoded whole, as before, so prost still reports
//! what is wrong with a broken one.

use std::collections::HashMap;
use std::ops::Range;
use std::string::String;
use std::vec::Vec;

use prost::Message;
use tract_onnx::pb::ModelProto;

/// Raw data shorter than this stays in the decoded model: scalars the surgery reads among them.
const MIN_CUT: usize = 1024;

/// Protobuf field numbers on the path to a weight's bytes.
const MODEL_GRAPH: u64 = 7;
const GRAPH_INITIALIZER: u64 = 5;
const TENSOR_NAME: u64 = 8;
const TENSOR_RAW_DATA: u64 = 9;

const LEN: u64 = 2;

/// Where the raw data left in the file is, by initializer name.
#[derive(Debug, Default)]
pub(crate) struct Weights {
    places: HashMap<String, Range<usize>>,
}

impl Weights {
    /// Copies from `file` the raw data of `model`'s initializers that [`decode`] left in it.
    pub(crate) fn fill(&self, model: &mut ModelProto, file: &[u8]) {
        let tensors = model.graph.iter_mut().flat_map(|g| g.initializer.iter_mut());
        for t in tensors.filter(|t| t.raw_data.is_empty()) {
            if let Some(range) = self.places.get(&t.name) {
                t.raw_data = file[range.clone()].to_vec();
            }
        }
    }
}

/// Decodes `file` as an ONNX model whose large initializers have no raw data yet: see
/// [`Weights::fill`].
pub(crate) fn decode(file: &[u8]) -> Result<(ModelProto, Weights), prost::DecodeError> {
    let mut weights = Weights::default();
    match light_model(file, &mut weights) {
        Some(light) => Ok((ModelProto::decode(&light[..])?, weights)),
        None => Ok((ModelProto::decode(file)?, Weights::default())),
    }
}

/// One field of a protobuf message: its number, wire type, all its bytes and (for a
/// length-delimited field) its content's.
struct Field {
    number: u64,
    wire: u64,
    all: Range<usize>,
    body: Range<usize>,
}

fn varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The fields of the message in `buf[range]`, or `None` if they do not parse.
fn fields(buf: &[u8], range: Range<usize>) -> Option<Vec<Field>> {
    let mut out = Vec::new();
    let mut at = range.start;
    while at < range.end {
        let start = at;
        let key = varint(buf, &mut at)?;
        let (number, wire) = (key >> 3, key & 7);
        let len = match wire {
            0 => varint(buf, &mut at).map(|_| 0)?,
            1 => 8,
            LEN => usize::try_from(varint(buf, &mut at)?).ok()?,
            5 => 4,
            _ => return None, // groups: not in ONNX files
        };
        let body = at..at.checked_add(len)?;
        if body.end > range.end {
            return None;
        }
        at = body.end;
        out.push(Field { number, wire, all: start..at, body });
    }
    Some(out)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_message(out: &mut Vec<u8>, number: u64, content: &[u8]) {
    put_varint(out, number << 3 | LEN);
    put_varint(out, content.len() as u64);
    out.extend_from_slice(content);
}

/// The model's bytes with the graph's large weights cut out (their places go to `weights`).
fn light_model(file: &[u8], weights: &mut Weights) -> Option<Vec<u8>> {
    rewrite(file, 0..file.len(), MODEL_GRAPH, |graph| rewrite(file, graph, GRAPH_INITIALIZER, |t| light_tensor(file, t, weights)))
}

/// The message in `file[range]` with the content of each length-delimited field `number`
/// replaced by what `content` makes of it.
fn rewrite(file: &[u8], range: Range<usize>, number: u64, mut content: impl FnMut(Range<usize>) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for f in fields(file, range)? {
        if f.number == number && f.wire == LEN {
            put_message(&mut out, number, &content(f.body)?);
        } else {
            out.extend_from_slice(&file[f.all]);
        }
    }
    Some(out)
}

fn light_tensor(file: &[u8], range: Range<usize>, weights: &mut Weights) -> Option<Vec<u8>> {
    let fields = fields(file, range.clone())?;
    let raw = fields.iter().find(|f| f.number == TENSOR_RAW_DATA && f.wire == LEN && f.body.len() >= MIN_CUT);
    let name = fields.iter().find(|f| f.number == TENSOR_NAME && f.wire == LEN);
    let (Some(raw), Some(name)) = (raw, name) else { return Some(file[range].to_vec()) };
    let name = String::from_utf8(file[name.body.clone()].to_vec()).ok()?;
    if weights.places.insert(name, raw.body.clone()).is_some() {
        return None; // two weights of one name: decode the file as it is
    }
    let mut out = Vec::with_capacity(range.len() - raw.all.len());
    for f in fields.iter().filter(|f| f.all != raw.all) {
        out.extend_from_slice(&file[f.all.clone()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use tract_onnx::pb::{GraphProto, TensorProto};

    fn tensor(name: &str, bytes: usize) -> TensorProto {
        TensorProto { name: name.into(), dims: vec![bytes as i64 / 4], data_type: 1, raw_data: vec![7; bytes], ..Default::default() }
    }

    fn model() -> ModelProto {
        let graph = GraphProto {
            name: "g".into(),
            initializer: vec![tensor("big", 4096), tensor("small", 8), tensor("other", 2048)],
            ..Default::default()
        };
        ModelProto { ir_version: 8, producer_name: "test".into(), graph: Some(graph), ..Default::default() }
    }

    #[test]
    fn large_weights_stay_in_the_file_until_filled() {
        let original = model();
        let file = original.encode_to_vec();
        let (mut light, weights) = decode(&file).unwrap();
        assert_eq!(weights.places.len(), 2);
        let sizes: Vec<usize> = light.graph.as_ref().unwrap().initializer.iter().map(|t| t.raw_data.len()).collect();
        assert_eq!(sizes, [0, 8, 0], "only the small one decoded");
        weights.fill(&mut light, &file);
        assert_eq!(light, original);
    }

    #[test]
    fn a_broken_file_gets_prosts_error() {
        let file = model().encode_to_vec();
        for cut in [1, 10, file.len() / 2, file.len() - 1] {
            let err = decode(&file[..cut]).unwrap_err();
            assert_eq!(Some(err), ModelProto::decode(&file[..cut]).err(), "cut at {cut}");
        }
    }
}
