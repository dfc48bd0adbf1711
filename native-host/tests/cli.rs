//! The `parla` command as a user runs it: WAV out, one-line errors, exit codes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn parla(args: &[&str], stdin: Option<&str>) -> Output {
    parla_env(args, stdin, &[])
}

fn parla_env(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parla"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "expected failure");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "error is not one line: {err}");
    assert!(err.starts_with("parla: "), "{err}");
    err
}

#[test]
fn phonemes_to_wav_on_stdout() {
    let out = parla(&["say", "--phonemes", "həlˈoʊ wˈɜːld.", "-o", "-"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (rate, samples) = parla_host::wav::read_pcm16(&out.stdout).expect("a WAV file");
    assert_eq!(rate, 22050);
    let declared = u32::from_le_bytes(out.stdout[40..44].try_into().unwrap()) as usize;
    assert_eq!(declared, samples.len() * 2, "header length matches the data");
    assert_eq!(samples.len() % 256, 0, "whole frames");
    let seconds = samples.len() as f64 / 22050.0;
    assert!((0.4..3.0).contains(&seconds), "{seconds} s");
    let rms = (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt();
    assert!(rms > 0.02, "audible: rms {rms}");
}

#[test]
fn text_from_stdin_is_spoken() {
    let out = parla(&["say", "-o", "-"], Some("Hello there."));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(parla_host::wav::read_pcm16(&out.stdout).unwrap().1.len() > 5000);
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let run = |seed: &str| parla(&["say", "--phonemes", "tˈɛst", "--seed", seed, "-o", "-"], None).stdout;
    assert_eq!(run("3"), run("3"));
    assert_ne!(run("3"), run("4"));
}

#[test]
fn missing_voice_is_one_line() {
    let err = one_line_error(&parla(&["say", "--voice", "no/such/voice.onnx", "--phonemes", "a", "-o", "-"], None));
    assert!(err.contains("no/such/voice.onnx.json") || err.contains("no/such/voice.onnx"), "{err}");
}

#[test]
fn corrupt_voice_is_one_line() {
    let dir = std::env::temp_dir().join(format!("parla-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/voices/en_US-joe-medium.onnx");
    let bytes = std::fs::read(&src).unwrap();
    std::fs::write(dir.join("bad.onnx"), &bytes[..1000]).unwrap();
    std::fs::copy(src.with_extension("onnx.json"), dir.join("bad.onnx.json")).unwrap();
    let voice = dir.join("bad.onnx");
    let err = one_line_error(&parla(&["say", "--voice", voice.to_str().unwrap(), "--phonemes", "a", "-o", "-"], None));
    assert!(err.contains("not a valid ONNX file"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn out_of_range_parameters_are_one_line() {
    let err = one_line_error(&parla(&["say", "--phonemes", "a", "--noise-scale", "NaN", "-o", "-"], None));
    assert!(err.contains("noise-scale"), "{err}");
    let err = one_line_error(&parla(&["say", "--phonemes", "a", "--speaker", "3", "-o", "-"], None));
    assert!(err.contains("speaker 3"), "{err}");
    let err = one_line_error(&parla(&["say", "--phonemes", "☃☃", "-o", "-"], None));
    assert!(err.contains("nothing to speak"), "{err}");
}

#[test]
fn malformed_flags_fail_with_usage() {
    let out = parla(&["say", "--length-scale", "fast"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--length-scale"));
}

#[test]
fn long_text_is_segmented_not_refused() {
    // About 5000 phoneme ids in all: more than one utterance may hold. Spoken fast to keep the
    // test short.
    let text = "This sentence is one of many, and together they are far longer than one utterance may be. ".repeat(28);
    let out = parla(&["say", "--length-scale", "0.2", "-o", "-"], Some(&text));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, samples) = parla_host::wav::read_pcm16(&out.stdout).unwrap();
    let seconds = samples.len() as f64 / 22050.0;
    assert!(seconds > 20.0, "{seconds} s for 28 long sentences");
}

#[test]
fn text_without_anything_speakable_is_one_line() {
    let err = one_line_error(&parla(&["say", "-o", "-"], Some("... !!! ???")));
    assert!(err.contains("nothing to speak"), "{err}");
}

#[test]
fn output_format_follows_the_file_name_or_format() {
    let dir = std::env::temp_dir().join(format!("parla-cli-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let say = |extra: &[&str]| {
        let mut args = vec!["say", "Formats, all alike.", "--seed", "5"];
        args.extend_from_slice(extra);
        let out = parla(&args, None);
        assert!(out.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let wav = say(&["-o", "-"]);
    let pcm = &wav[44..];
    assert_eq!(say(&["--format", "pcm", "-o", "-"]), pcm, "pcm is the WAV's data");
    let flac = dir.join("a.flac");
    say(&["-o", flac.to_str().unwrap()]);
    let mut r = claxon::FlacReader::new(std::fs::File::open(&flac).unwrap()).unwrap();
    let decoded: Vec<u8> = r.samples().flat_map(|v| (v.unwrap() as i16).to_le_bytes()).collect();
    assert!(decoded == pcm, "a.flac decodes to the WAV's samples");
    let mp3 = dir.join("a.mp3");
    say(&["-o", mp3.to_str().unwrap()]);
    assert_eq!(std::fs::read(&mp3).unwrap()[..2], [0xFF, 0xF3], "a.mp3 is MPEG audio, not a WAV");
    let ogg = say(&["--stream", "--format", "opus", "-o", "-"]);
    assert!(ogg.starts_with(b"OggS"), "streamed Ogg Opus on stdout");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_an_mp3_library_mp3_is_one_line_and_no_file() {
    let path = std::env::temp_dir().join(format!("parla-cli-no-lame-{}.mp3", std::process::id()));
    let out = parla_env(&["say", "Hi.", "-o", path.to_str().unwrap()], None, &[("PARLA_LAME", "/nonexistent/libmp3lame.so.0")]);
    let err = one_line_error(&out);
    assert!(err.contains("libmp3lame"), "{err}");
    assert!(!path.exists(), "no empty file left behind");
}
