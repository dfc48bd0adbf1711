//! Broken voice files give a clear error: never a panic, never a hang, natively and in wasm.

use parla_core::chunk::Chunking;
use parla_core::infer::{LoadOptions, Voice, VoiceError};
use parla_host::engine::wasm::WasmEngine;
use parla_tests::*;
use prost::Message;
use tract_onnx::pb;

fn load(onnx: &[u8], json: &[u8]) -> Result<(), VoiceError> {
    Voice::load(onnx, json, &LoadOptions::default()).map(|_| ())
}

#[test]
fn truncated_model_is_a_decode_error() {
    let (onnx, json) = default_voice_bytes();
    for cut in [0, 1, 100, 65_536, onnx.len() / 2, onnx.len() - 1] {
        let err = load(&onnx[..cut], &json).expect_err("a truncated model must not load");
        let msg = err.to_string();
        eprintln!("cut at {cut}: {msg}");
        assert!(matches!(err, VoiceError::Decode(_) | VoiceError::NotPiper(_)), "cut at {cut}: {msg}");
    }
}

#[test]
fn config_given_as_model_and_model_as_config_are_errors() {
    let (onnx, json) = default_voice_bytes();
    assert!(load(&json, &json).is_err());
    let err = load(&onnx, &onnx[..4096]).expect_err("binary config");
    assert!(err.to_string().contains("voice config is not valid JSON"), "{err}");
}

#[test]
fn broken_config_is_an_error() {
    let (onnx, json) = default_voice_bytes();
    let text = String::from_utf8(json).unwrap();
    for bad in [text[..text.len() / 2].to_string(), text.replace("phoneme_id_map", "phoneme_map_x"), "{}".into()] {
        let err = load(&onnx, bad.as_bytes()).expect_err("broken config must not load");
        assert!(matches!(err, VoiceError::Core(_)), "{err}");
    }
}

#[test]
fn onnx_that_is_not_piper_is_named_as_such() {
    let input = pb::ValueInfoProto { name: "x".into(), ..Default::default() };
    let graph = pb::GraphProto {
        node: vec![pb::NodeProto {
            op_type: "Relu".into(),
            input: vec!["x".into()],
            output: vec!["y".into()],
            ..Default::default()
        }],
        input: vec![input],
        output: vec![pb::ValueInfoProto { name: "y".into(), ..Default::default() }],
        ..Default::default()
    };
    let model = pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 15 }],
        graph: Some(graph),
        ..Default::default()
    };
    let (_, json) = default_voice_bytes();
    let err = load(&model.encode_to_vec(), &json).expect_err("a Relu is not a voice");
    assert!(matches!(err, VoiceError::NotPiper(_)), "{err}");
    assert!(err.to_string().starts_with("not a Piper VITS export"), "{err}");
}

#[test]
fn flipped_bytes_in_the_graph_never_panic() {
    let (onnx, json) = default_voice_bytes();
    // The graph's nodes come first in the file; flip bytes there.
    for (i, at) in [17usize, 301, 4_099, 20_011, 77_777, 150_001].into_iter().enumerate() {
        let mut bad = onnx.clone();
        bad[at] ^= 0x5a + i as u8;
        match load(&bad, &json) {
            Ok(()) => eprintln!("flip at {at}: still loads"),
            Err(e) => {
                assert!(!e.to_string().is_empty());
                eprintln!("flip at {at}: {e}");
            }
        }
    }
}

#[test]
fn wasm_engine_reports_broken_voices_without_trapping() {
    let (onnx, json) = default_voice_bytes();
    let err = WasmEngine::load(&onnx[..onnx.len() / 3], &json, Chunking::default())
        .err()
        .expect("a truncated model must not load in wasm");
    assert!(err.to_string().contains("not a valid ONNX file"), "{err}");
    let err = WasmEngine::load(&onnx, b"{\"audio\":", Chunking::default()).err().expect("broken config");
    assert!(err.to_string().contains("voice config"), "{err}");
}

#[test]
fn a_wasm_guest_refuses_unknown_and_closed_stream_handles_and_goes_on() {
    use parla_core::infer::Request;
    use parla_host::error::HostError;
    let (onnx, json) = default_voice_bytes();
    let mut engine = WasmEngine::load(&onnx, &json, Chunking { first: 16, size: 16, context: 24 }).unwrap();
    let request = Request::defaults(&parla_core::config::VoiceConfig::from_json(&json).unwrap());
    let mut out = Vec::new();
    let err = engine.next(4242, &mut out).expect_err("no such stream");
    assert!(matches!(err, HostError::Guest(_)), "{err}");
    let (handle, started, _) = engine.open("həlˈoʊ ðˈɛɹ.", &request).unwrap();
    engine.close(handle).unwrap();
    engine.close(handle).unwrap(); // twice is harmless
    let err = engine.next(handle, &mut out).expect_err("a closed stream");
    assert!(matches!(err, HostError::Guest(_)), "{err}");
    assert_eq!(engine.open_streams().unwrap(), 0);
    // The instance still speaks.
    let (handle, _, _) = engine.open("həlˈoʊ ðˈɛɹ.", &request).unwrap();
    let mut audio = Vec::new();
    while audio.len() < started.frames * 256 {
        engine.next(handle, &mut out).unwrap();
        assert!(!out.is_empty(), "audio ended early");
        audio.extend_from_slice(&out);
    }
    assert_eq!(audio.len(), started.frames * 256, "the whole utterance, hop 256");
    assert!(audio.iter().any(|s| s.abs() > 0.01), "not silent");
    assert_eq!(engine.open_streams().unwrap(), 0, "closed by the guest after its last chunk");
}
