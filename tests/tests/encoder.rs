//! The fixed-length encoder plans (ids padded up to 16, 32, 64 or 128) give what the plan for any
//! length gives: the same durations, and priors equal up to rounding, on either side of every
//! fixed length and past the longest. The duration predictor's splines run as one op each and
//! give what the exported subgraphs they replace give, bit for bit.

use parla_core::chunk::Chunking;
use parla_core::infer::encoder::FIXED_LENGTHS;
use parla_core::infer::{Fusions, LoadOptions, Request, Voice};
use parla_core::phonemes::PhonemeIds;
use parla_core::rng::Rng;
use parla_tests::*;

/// A long clause: its prefixes cover 3 to about 170 ids.
const IPA: &str = "ðə kwˈɪk bɹˈaʊn fˈɑːks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɔːɡ, ænd ðˈɛn ɪt ɹˈʌnz fˈɑːɹ ɐwˈeɪ ˌɪntʊ ðə kwˈaɪət fˈɔːɹɪst.";

#[test]
fn padded_fixed_lengths_encode_as_the_plan_for_any_length() {
    let padded = native_voice();
    let (onnx, json) = default_voice_bytes();
    let any = Voice::load(&onnx, &json, &LoadOptions { encoder_lengths: Vec::new(), ..LoadOptions::new(Chunking::default()) }).unwrap();
    assert!(format!("{padded:?}").contains(&format!("encoder_lengths: {FIXED_LENGTHS:?}")), "{padded:?}");
    assert!(format!("{any:?}").contains("encoder_lengths: []"), "{any:?}");

    let request = Request::defaults(padded.config());
    let mut lengths = Vec::new();
    let chars: Vec<char> = IPA.chars().collect();
    for end in 1..=chars.len() {
        let ipa: String = chars[..end].iter().collect();
        let ids = PhonemeIds::from_ipa(padded.config(), &ipa).unwrap();
        let n = ids.ids.len();
        // Every id count next to a fixed length, and a few others.
        if !FIXED_LENGTHS.iter().any(|&l| n.abs_diff(l) <= 1) && end % 9 != 0 {
            continue;
        }
        let a = padded.encode(&ids, &request, &mut Rng::new(7)).unwrap();
        let b = any.encode(&ids, &request, &mut Rng::new(7)).unwrap();
        assert_eq!(a.durations, b.durations, "durations for {n} ids");
        let worst = a.m_p.iter().zip(&b.m_p).chain(a.logs_p.iter().zip(&b.logs_p)).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert_eq!(a.m_p.len(), b.m_p.len());
        assert!(worst < 1e-4, "{n} ids: priors differ by {worst}");
        lengths.push(n);
    }
    // No ids at all: an error from either, not a panic or an empty utterance.
    for voice in [&padded, &any] {
        let none = PhonemeIds { ids: Vec::new(), skipped: Vec::new(), words: Vec::new() };
        assert!(voice.encode(&none, &request, &mut Rng::new(7)).is_err());
    }
    for l in FIXED_LENGTHS {
        let fits = lengths.iter().any(|&n| n <= *l && l - n <= 1);
        assert!(fits && lengths.iter().any(|&n| n > *l), "no input just inside and just past {l} ids: {lengths:?}");
    }
}

#[test]
fn fused_subgraphs_encode_as_the_exported_graph() {
    let (onnx, json) = default_voice_bytes();
    let load = |fuse| Voice::load(&onnx, &json, &LoadOptions { fuse, ..LoadOptions::new(Chunking::default()) }).unwrap();
    let fused = load(Fusions::ALL);
    let splines = load(Fusions { splines: true, norms: false });
    let exported = load(Fusions::NONE);
    assert!(format!("{fused:?}").contains("fused_splines: 3, fused_norms: 36"), "{fused:?}");
    assert!(format!("{splines:?}").contains("fused_splines: 3, fused_norms: 0"), "{splines:?}");
    assert!(format!("{exported:?}").contains("fused_splines: 0, fused_norms: 0"), "{exported:?}");

    let mut request = Request::defaults(fused.config());
    let chars: Vec<char> = IPA.chars().collect();
    let (mut frames, mut worst) = (0, 0f32);
    for (end, seed) in (1..=chars.len()).step_by(5).zip(0u64..) {
        let ipa: String = chars[..end].iter().collect();
        let ids = PhonemeIds::from_ipa(fused.config(), &ipa).unwrap();
        // Noise on (two strengths) and off: the splines see values across their range.
        request.scales.noise_w = [0.8, 1.6, 0.0][seed as usize % 3];
        let [a, s, b] = [&fused, &splines, &exported].map(|v| v.encode(&ids, &request, &mut Rng::new(seed)).unwrap());
        let what = format!("{} ids, noise_w {}", ids.ids.len(), request.scales.noise_w);
        // The spline op does the export's arithmetic in its order: the same bits.
        let same = s.durations == b.durations && s.m_p == b.m_p && s.logs_p == b.logs_p;
        assert!(same, "splines fused, {what}: not the exported graph's outputs bit for bit");
        assert_eq!(a.durations, b.durations, "durations for {what}");
        // The norms sum in another order than tract does: equal to rounding.
        for (x, y) in a.m_p.iter().chain(&a.logs_p).zip(b.m_p.iter().chain(&b.logs_p)) {
            worst = worst.max((x - y).abs());
        }
        frames += a.durations.iter().sum::<u32>();
    }
    assert!(worst < 1e-4, "priors differ by {worst}");
    assert!(frames > 1000, "only {frames} frames: the inputs are too short to test anything");
}
