//! What a loaded voice costs in memory. The server keeps a copy of the voice in each wasm
//! instance (two per core by default), and WebAssembly memory never shrinks: whatever loading
//! needed at its peak stays taken for as long as the instance lives.

use parla_core::chunk::Chunking;
use parla_core::config::VoiceConfig;
use parla_core::infer::Request;
use parla_host::engine::wasm::WasmEngine;
use parla_host::engine::Engine;
use parla_tests::*;

#[test]
fn a_wasm_instance_holds_the_default_voice_in_about_twice_its_file() {
    let (onnx, json) = default_voice_bytes();
    let mut engine = WasmEngine::load(&onnx, &json, Chunking::default()).unwrap();
    let loaded = engine.memory_bytes();
    // Speaking a sentence, its buffers and the decoder's state, adds little.
    let (handle, started, _) = engine
        .open("ðə kwˈɪk bɹˈaʊn fˈɑːks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɑːɡ.", &Request::defaults(&VoiceConfig::from_json(&json).unwrap()))
        .unwrap();
    let (mut out, mut samples) = (Vec::new(), 0);
    while samples < started.frames * engine.hop() {
        engine.next(handle, &mut out).unwrap();
        assert!(!out.is_empty(), "the stream ended after {samples} samples of {}", started.frames * engine.hop());
        samples += out.len();
    }
    let spoken = engine.memory_bytes();
    let mb = |b: usize| b as f64 / 1e6;
    eprintln!("file {:.0} MB; instance memory: {:.0} MB loaded, {:.0} MB after a sentence", mb(onnx.len()), mb(loaded), mb(spoken));
    // About 2.1 × the file (weights as tensors, and packed for each plan). Loading from the
    // borrowed file, which stayed alive through loading while each weight was copied twice,
    // left 3.0 ×.
    assert!(loaded < onnx.len() * 5 / 2, "{:.0} MB after loading a {:.0} MB voice", mb(loaded), mb(onnx.len()));
    assert!(spoken < loaded + (8 << 20), "{:.0} MB after a sentence, {:.0} MB before", mb(spoken), mb(loaded));
}
