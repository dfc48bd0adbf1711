//! Binding tests: `wasm-pack test --node` (with the real voice, read from models/voices) and
//! `wasm-pack test --headless --chrome` (text → IPA, events and error paths; no file system).

use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

use super::*;

#[wasm_bindgen(inline_js = r#"
export function read_file(path) {
    const fs = globalThis.process?.getBuiltinModule?.('fs');
    if (!fs || !fs.existsSync(path)) return undefined;
    return new Uint8Array(fs.readFileSync(path));
}
"#)]
extern "C" {
    fn read_file(path: &str) -> Option<Vec<u8>>;
}

const MINIMAL_JSON: &str = r#"{"audio":{"sample_rate":22050},
    "phoneme_id_map":{"_":[0],"^":[1],"$":[2]," ":[3]}}"#;

fn message(e: JsValue) -> String {
    js_sys::Error::from(e).message().into()
}

fn load_err(onnx: &[u8], json: &[u8]) -> String {
    match Voice::load(onnx.to_vec(), json, None, None, None) {
        Ok(_) => panic!("a broken voice loaded"),
        Err(e) => message(e.into()),
    }
}

#[wasm_bindgen_test]
fn text_becomes_ipa() {
    let ipa = phonemize("Hello, world.");
    assert!(ipa.contains("həlˈoʊ"), "{ipa}");
    assert!(ipa.ends_with('.'), "{ipa}");
    assert_eq!(normalize("Dr. Smith paid $3."), "doctor Smith paid three dollars.");
}

#[wasm_bindgen_test]
fn corrupt_voices_are_clear_errors() {
    let e = load_err(b"this is not an onnx file at all", MINIMAL_JSON.as_bytes());
    assert!(e.starts_with("voice file is not a Piper model: "), "{e}");
    let e = load_err(&[], MINIMAL_JSON.as_bytes());
    assert!(e.starts_with("voice file is not a Piper model: "), "{e}");
    let e = load_err(b"\x08\x07", b"{ not json");
    assert!(e.starts_with("voice config is not valid: "), "{e}");
}

#[wasm_bindgen_test]
fn written_words_are_found_in_the_stream() {
    let all = "Héllo  there, Dr. Smith!";
    let words = source_words(all, 0..all.len(), "Héllo there, Dr. Smith!");
    let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(texts, ["Héllo", "there", "Dr", "Smith"]);
    assert_eq!(words[0].range, Some((0, 5)));
    assert_eq!(words[1].range, Some((7, 12)));
    assert_eq!(words[3].range, Some((18, 23)));
}

fn real_voice() -> Option<Voice> {
    real_voice_with_first_chunk(16)
}

fn real_voice_with_first_chunk(frames: u32) -> Option<Voice> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/voices/en_US-joe-medium.onnx");
    let (Some(onnx), Some(json)) = (read_file(dir), read_file(&format!("{dir}.json"))) else {
        console_log!("no voice file here (browser, or `just voice` not run): skipping");
        return None;
    };
    Some(Voice::load(onnx, &json, Some(frames), None, None).map_err(|e| message(e.into())).expect("the voice loads"))
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

#[wasm_bindgen_test]
fn the_real_voice_speaks_with_word_events() {
    let Some(voice) = real_voice() else { return };
    assert_eq!(voice.sample_rate(), 22050);
    assert_eq!(voice.speakers(), 1);
    let mut speech = voice.start(Some("Hello there. This is Parla, in a browser.".into()), JsValue::UNDEFINED).unwrap();
    let (mut audio, mut events) = (Vec::new(), Vec::new());
    let mut first_len = None;
    while let Some(chunk) = speech.next_chunk().unwrap() {
        assert_eq!(chunk.start, audio.len(), "chunks are contiguous");
        first_len.get_or_insert(chunk.samples.len());
        audio.extend_from_slice(&chunk.samples);
        events.extend(chunk.events.iter().cloned());
    }
    assert!(speech.done());
    let seconds = audio.len() as f32 / 22050.0;
    assert!((1.5..6.0).contains(&seconds), "{seconds} s");
    assert!(rms(&audio) > 0.02, "audible: rms {}", rms(&audio));
    let first_len = first_len.unwrap();
    assert!(audio[0].abs() > parla_core::frames::QUIET, "the speech starts with sound, not {}", audio[0]);
    assert!((8 * 256..16 * 256).contains(&first_len), "the first chunk is 16 frames less the quiet lead: {first_len}");
    let segments: Vec<&str> = events.iter().filter(|e| e.kind == "segment").map(|e| e.text.as_str()).collect();
    assert_eq!(segments, ["Hello there.", "This is Parla,", "in a browser."]);
    let words: Vec<&Event> = events.iter().filter(|e| e.kind == "word").collect();
    let texts: Vec<&str> = words.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["Hello", "there", "This", "is", "Parla", "in", "a", "browser"]);
    for pair in words.windows(2) {
        assert!(pair[0].start <= pair[1].start && pair[0].start < pair[0].end, "{pair:?}");
    }
    assert!(words.last().unwrap().end <= audio.len());
    assert_eq!(words[4].range, Some((21, 26)), "Parla");
}

#[wasm_bindgen_test]
fn the_quiet_lead_leaves_the_cushion_asked_for() {
    let Some(voice) = real_voice() else { return };
    let first = |cushion: Option<u32>| {
        let mut speech = voice.start(Some("Hello there.".into()), JsValue::UNDEFINED).unwrap();
        if let Some(c) = cushion {
            speech.set_lead_cushion(c);
        }
        let chunk = speech.next_chunk().unwrap().unwrap();
        let words: Vec<usize> = chunk.events.iter().filter(|e| e.kind == "word").map(|e| e.start).collect();
        (chunk.samples, words)
    };
    let (whole, whole_words) = first(Some(16 * 256));
    assert_eq!(whole.len(), 16 * 256, "a full cushion keeps the whole chunk");
    let quiet = parla_core::frames::quiet_lead(&whole);
    assert!(quiet > 0, "\"Hello\" starts quietly");
    let (cut, cut_words) = first(None);
    assert_eq!(cut[..], whole[quiet..], "without a cushion the quiet lead goes, and nothing else");
    let moved: Vec<usize> = whole_words.iter().map(|w| w.saturating_sub(quiet)).collect();
    assert_eq!(cut_words, moved, "words move back with the audio");
    let (part, _) = first(Some(16 * 256 - 100));
    assert_eq!(part[..], whole[quiet.min(100)..], "at most the chunk less the cushion goes");
}

#[wasm_bindgen_test]
fn silence_asked_for_at_the_start_is_kept() {
    let Some(voice) = real_voice() else { return };
    let mut speech = voice.start(Some(r#"<break time="100ms"/>Hello there."#.into()), JsValue::UNDEFINED).unwrap();
    let first = speech.next_chunk().unwrap().expect("the break");
    assert_eq!(first.samples.len(), 2205, "100 ms at 22 050 Hz");
    let second = speech.next_chunk().unwrap().expect("the clause");
    assert_eq!(second.samples.len(), 16 * 256, "nothing is cut after the break");
}

#[wasm_bindgen_test]
fn a_stream_speaks_as_text_arrives_and_cancels() {
    let Some(voice) = real_voice() else { return };
    let options = Object::new();
    set(&options, "seed", 7.into());
    set(&options, "speed", 1.25.into());
    let mut speech = voice.start(None, options.into()).unwrap();
    speech.push("Tokens arrive").unwrap();
    assert!(speech.next_chunk().unwrap().is_none(), "no segment end yet");
    assert!(!speech.done());
    speech.push(" one by one, and").unwrap();
    let chunk = speech.next_chunk().unwrap().expect("the first clause speaks before the end");
    assert!(chunk.events.iter().any(|e| e.kind == "segment" && e.text == "Tokens arrive one by one,"));
    speech.push(" more follow").unwrap();
    speech.cancel();
    assert!(speech.next_chunk().unwrap().is_none());
    assert!(speech.done());

    let bad = Object::new();
    set(&bad, "speaker", 3.into());
    let e = voice.start(None, bad.into()).err().map(|e| message(e.into())).unwrap();
    assert!(e.contains("speaker"), "{e}");
}

#[wasm_bindgen_test]
fn a_stream_whose_text_stalls_mid_clause_speaks_it_after_the_idle_time() {
    let Some(voice) = real_voice() else { return };
    let mut speech = voice.start(None, JsValue::UNDEFINED).unwrap();
    speech.push_at("Let me look ", 1000.0).unwrap();
    speech.push_at("that up", 1040.5).unwrap();
    assert!(speech.next_chunk().unwrap().is_none(), "held while more may come");
    let idle = f64::from(parla_core::segment::IDLE_MS);
    assert_eq!(speech.idle_deadline(0.0), Some(1040.0 + idle));
    // With audio queued until 2 000, the words wait until it is about to run out.
    let left = f64::from(parla_core::segment::IDLE_AUDIO_LEFT_MS);
    assert_eq!(speech.idle_deadline(2000.0), Some(2000.0 - left));
    assert!(!speech.cut_idle(1999.0 - left, 2000.0), "more than enough audio left");
    assert!(!speech.cut_idle(1039.0 + idle, 0.0), "one millisecond early");
    assert!(speech.cut_idle(1040.0 + idle, 0.0));
    assert_eq!(speech.idle_deadline(0.0), None, "nothing held");
    let chunk = speech.next_chunk().unwrap().expect("the stalled words speak");
    assert!(chunk.events.iter().any(|e| e.kind == "segment" && e.text == "Let me look that up"));
    speech.push_at(" for you.", 9000.0).unwrap();
    speech.end().unwrap();
    let mut texts = Vec::new();
    while let Some(c) = speech.next_chunk().unwrap() {
        texts.extend(c.events.iter().filter(|e| e.kind == "segment").map(|e| e.text.clone()));
    }
    assert_eq!(texts, ["for you."]);
    // Text pushed without a time is never cut for idleness.
    let mut untimed = voice.start(None, JsValue::UNDEFINED).unwrap();
    untimed.push("Let me look that up").unwrap();
    assert_eq!((untimed.idle_deadline(0.0), untimed.cut_idle(f64::MAX, 0.0)), (None, false));
}

#[wasm_bindgen_test]
fn an_utterance_in_one_chunk_decodes_through_the_plan_loading_deferred() {
    let Some(voice) = real_voice_with_first_chunk(64) else { return };
    let mut speech = voice.start(Some("Hi.".into()), JsValue::UNDEFINED).unwrap();
    let chunk = speech.next_chunk().unwrap().expect("audio");
    assert!(speech.next_chunk().unwrap().is_none(), "one chunk");
    assert!((1..=64 * 256).contains(&chunk.samples.len()), "{} samples", chunk.samples.len());
    assert!(rms(&chunk.samples) > 0.02, "audible: rms {}", rms(&chunk.samples));
    voice.prepare().map_err(|e| message(e.into())).expect("built once, then nothing to do");
}

/// How a test's link answers.
#[derive(Clone, Copy)]
enum Answer {
    /// What the encoder computes.
    Encoded,
    /// An exception.
    Throws,
    /// A thrown string, not an Error.
    ThrowsText,
    /// The encoder's outputs less their last value.
    Short,
}

/// A JS function that links a decoder-only voice to `encoder` (as `www/src/link.js` does across
/// workers), counting its calls.
fn link_to(encoder: Encoder, calls: std::rc::Rc<std::cell::Cell<u32>>, answer: Answer) -> js_sys::Function {
    let f = Closure::<dyn FnMut(Vec<i32>, Vec<f32>, i32, Vec<f32>) -> Result<Vec<f32>, JsValue>>::new(
        move |ids: Vec<i32>, scales: Vec<f32>, speaker: i32, noise: Vec<f32>| {
            calls.set(calls.get() + 1);
            let mut out = match answer {
                Answer::Throws => return Err(JsError::new("the encoder worker stopped").into()),
                Answer::ThrowsText => return Err(JsValue::from_str("the encoder is busy")),
                Answer::Encoded | Answer::Short => encoder.encode(&ids, &scales, speaker, &noise)?,
            };
            if let Answer::Short = answer {
                out.pop();
            }
            Ok(out)
        },
    );
    f.into_js_value().unchecked_into()
}

#[wasm_bindgen_test]
fn a_voice_loaded_in_two_parts_speaks_as_the_whole_voice() {
    let Some(whole) = real_voice() else { return };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/voices/en_US-joe-medium.onnx");
    let (onnx, json) = (read_file(dir).unwrap(), read_file(&format!("{dir}.json")).unwrap());
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let encoder = Encoder::load(onnx.clone(), &json).map_err(|e| message(e.into())).expect("the encoder loads");
    let linked = Voice::load_decoder(onnx.clone(), &json, Some(16), None, None, link_to(encoder, calls.clone(), Answer::Encoded))
        .map_err(|e| message(e.into()))
        .expect("the decoder loads");
    let options = js_sys::JSON::parse(r#"{"seed": 5}"#).unwrap();
    let speak = |voice: &Voice| -> Result<Vec<f32>, String> {
        let mut speech = voice.start(Some("Hello there. This is Parla, in two workers.".into()), options.clone()).unwrap();
        let mut audio = Vec::new();
        while let Some(chunk) = speech.next_chunk().map_err(|e| message(e.into()))? {
            audio.extend_from_slice(&chunk.samples);
        }
        Ok(audio)
    };
    let (a, b) = (speak(&whole).unwrap(), speak(&linked).unwrap());
    assert!(a.len() > 22050 && rms(&a) > 0.02, "{} samples, rms {}", a.len(), rms(&a));
    assert!(a == b, "the linked voice's audio differs");
    assert_eq!(calls.get(), 3, "one encoding per clause");

    for (answer, expected) in [
        (Answer::Throws, "the voice's encoder could not be reached: the encoder worker stopped"),
        (Answer::ThrowsText, "the voice's encoder could not be reached: the encoder is busy"),
        (Answer::Short, "the voice's encoder could not be reached: the link's answer has no whole number of channels"),
    ] {
        let encoder = Encoder::load(onnx.clone(), &json).unwrap();
        let broken = Voice::load_decoder(onnx.clone(), &json, Some(16), None, None, link_to(encoder, calls.clone(), answer)).unwrap();
        let e = speak(&broken).unwrap_err();
        assert!(e.contains(expected), "{e}");
    }
}
