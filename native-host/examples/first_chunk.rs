//! Where the time to first audio goes, per engine: the encoder step, then the first and second
//! decoder chunks of one clause, four times each (the first run is cold), with the first chunk
//! the servers and the browser use (`chunk::FIRST_CHUNK`). Run from the
//! repository root after `just setup` and `just wasm`:
//! `cargo run --release -p parla-host --example first_chunk [IPA]` (default: a 109-id clause).

use parla_core::chunk::{Chunking, FIRST_CHUNK};
use parla_core::infer::Request;
use parla_host::backend::{Backend, NativeBackend, WasmBackend};
use std::time::Instant;
fn main() {
    let onnx = std::fs::read("models/voices/en_US-joe-medium.onnx").unwrap();
    let json = std::fs::read("models/voices/en_US-joe-medium.onnx.json").unwrap();
    let c = Chunking { first: FIRST_CHUNK, size: 64, context: 24 };
    let ipa = std::env::args().nth(1).unwrap_or_else(|| "ðə kwˈɪk bɹˈaʊn fˈɑːks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɑːɡ,".into());
    let ipa = ipa.as_str();
    let backends: Vec<(&str, Box<dyn Backend>)> = vec![
        ("native", Box::new(NativeBackend::load(&onnx, &json, &parla_core::infer::LoadOptions::serving(c)).unwrap())),
        ("wasm", Box::new(WasmBackend::load(&onnx, &json, c, 1).unwrap())),
    ];
    for (name, b) in &backends {
        let ids = parla_core::phonemes::PhonemeIds::from_ipa(b.config(), ipa).unwrap();
        let req = Request { chunking: c, ..Request::defaults(b.config()) };
        for _ in 0..4 {
            let t = Instant::now();
            let mut e = b.encode(ipa, &ids, &req, None).unwrap();
            let te = t.elapsed();
            let first = b.decode(&mut e.decoding, &req, None).unwrap();
            let tf = t.elapsed();
            let second = b.decode(&mut e.decoding, &req, None).unwrap();
            let ts = t.elapsed();
            let hop = b.hop();
            println!(
                "{name}: encode {:.0} ms, first chunk {:.0} ms ({} frames), second {:.0} ms ({} frames)",
                te.as_secs_f64() * 1e3,
                (tf - te).as_secs_f64() * 1e3,
                first.len() / hop,
                (ts - tf).as_secs_f64() * 1e3,
                second.len() / hop
            );
        }
    }
}
