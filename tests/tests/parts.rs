//! A voice prepared in two parts (its encoder in one place, its decoder in another, linked)
//! speaks exactly as the whole voice does, and each part refuses clearly what only the other
//! half can do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parla_core::chunk::Chunking;
use parla_core::infer::{EncoderInput, EncoderLink, EncoderOutput, LoadOptions, Part, Request, Voice, VoiceError};
use parla_core::phonemes::PhonemeIds;
use parla_tests::*;

/// As a browser page loads its voice: the general decoder plan deferred.
fn options(part: Part) -> LoadOptions {
    LoadOptions { defer_general: true, part, ..LoadOptions::new(Chunking::default()) }
}

/// Sends each input to an encoder-only voice through the flat buffer a worker would exchange.
struct Flat {
    encoder: Arc<Voice>,
    calls: AtomicUsize,
}

impl EncoderLink for Flat {
    fn encode(&self, input: &EncoderInput<'_>) -> Result<EncoderOutput, VoiceError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let flat = self.encoder.run_encoder(input)?.to_flat();
        Ok(EncoderOutput::from_flat(&flat, input.ids.len()).expect("a whole number of channels"))
    }
}

/// Answers every input with the outputs for one id fewer, or with an error.
struct Broken {
    encoder: Arc<Voice>,
    fail: bool,
}

impl EncoderLink for Broken {
    fn encode(&self, input: &EncoderInput<'_>) -> Result<EncoderOutput, VoiceError> {
        if self.fail {
            return Err(VoiceError::Link("the encoder worker stopped".into()));
        }
        let n = input.ids.len() - 1;
        let short = EncoderInput { ids: &input.ids[..n], noise: &input.noise[..2 * n], ..*input };
        self.encoder.run_encoder(&short)
    }
}

const CLAUSES: [&str; 2] = ["həlˈoʊ ðɛɹ,", "ðə kwˈɪk bɹˈaʊn fˈɑːks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɑːɡ."];

fn speak(voice: &Arc<Voice>, ipa: &str, seed: u64) -> Result<Vec<f32>, VoiceError> {
    let ids = PhonemeIds::from_ipa(voice.config(), ipa).unwrap();
    let request = Request { seed, ..Request::defaults(voice.config()) };
    voice.synthesize(&ids, &request)?.collect_all()
}

#[test]
fn a_voice_in_two_parts_speaks_as_the_whole_voice() {
    let (onnx, json) = default_voice_bytes();
    let whole = Voice::load(&onnx, &json, &options(Part::Whole)).unwrap();
    let encoder = Voice::load(&onnx, &json, &options(Part::Encoder)).unwrap();
    let link = Arc::new(Flat { encoder, calls: AtomicUsize::new(0) });
    let decoder = Voice::load(&onnx, &json, &options(Part::Decoder(link.clone()))).unwrap();
    assert!(decoder.streams() && decoder.hop() == whole.hop());
    assert!(format!("{decoder:?}").contains("encoder_linked: true"), "{decoder:?}");

    for (i, ipa) in CLAUSES.iter().enumerate() {
        let a = speak(&whole, ipa, 11 + i as u64).unwrap();
        let b = speak(&decoder, ipa, 11 + i as u64).unwrap();
        assert!(a.len() > 20 * whole.hop(), "{ipa}: {} samples", a.len());
        assert!(a == b, "{ipa}: the linked voice's audio differs (SNR {:.1} dB)", snr_db(&a, &b));
    }
    assert_eq!(link.calls.load(Ordering::Relaxed), CLAUSES.len(), "one encoder run per utterance");
}

#[test]
fn each_part_refuses_the_other_halfs_work_clearly() {
    let (onnx, json) = default_voice_bytes();
    let encoder = Voice::load(&onnx, &json, &options(Part::Encoder)).unwrap();
    assert_eq!(encoder.hop(), 0);
    let e = speak(&encoder, CLAUSES[0], 1).unwrap_err();
    assert_eq!(e.to_string(), "this voice was loaded without its decoder");

    for fail in [true, false] {
        let link = Arc::new(Broken { encoder: encoder.clone(), fail });
        let decoder = Voice::load(&onnx, &json, &options(Part::Decoder(link))).unwrap();
        let e = speak(&decoder, CLAUSES[1], 1).unwrap_err().to_string();
        let expected =
            if fail { "the voice's encoder could not be reached: the encoder worker stopped" } else { "do not match the phoneme count" };
        assert!(e.contains(expected), "{e}");
    }
}
