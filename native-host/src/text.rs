//! `parla normalize` and `parla phonemize`: the front end on its own, one line per sentence.

use std::io::{Read, Write};

use parla_core::front::{FrontEnd, ENGLISH};
use parla_core::segment::{End, Segment, Segmenter};

use crate::cli::TextArgs;
use crate::error::HostError;

/// How far to take the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Spoken-form words.
    Normalize,
    /// IPA phonemes.
    Phonemize,
}

/// Runs the front end over the argument or stdin and prints one line per sentence.
pub fn run(args: &TextArgs, stage: Stage) -> Result<(), HostError> {
    let text = match &args.text {
        Some(t) => t.clone(),
        None => {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).map_err(HostError::io("stdin"))?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let mut out = std::io::stdout().lock();
    for line in sentences(&ENGLISH, &text, stage) {
        writeln!(out, "{line}").map_err(HostError::Output)?;
    }
    Ok(())
}

/// The sentences of `text` (segments joined up to each sentence end), each taken to `stage`.
pub fn sentences(front: &FrontEnd, text: &str, stage: Stage) -> Vec<String> {
    let mut segmenter = Segmenter::default();
    let mut segments = Vec::new();
    segmenter.push(text, &mut segments);
    segmenter.flush(&mut segments);
    let mut lines = Vec::new();
    let mut line = String::new();
    for segment in segments {
        let Segment::Text { text, end, .. } = segment else { continue };
        let words = front.normalized(&text);
        let piece = match stage {
            Stage::Normalize => words,
            Stage::Phonemize => (front.phonemize)(&words),
        };
        if piece.is_empty() {
            continue;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&piece);
        if matches!(end, End::Sentence | End::Newline | End::Flush) {
            lines.push(std::mem::take(&mut line));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_sentence() {
        let lines = sentences(&ENGLISH, "Hi, Dr. Who. It costs $5! Done", Stage::Normalize);
        assert_eq!(lines, ["Hi, doctor Who.", "It costs five dollars!", "Done"]);
        let ipa = sentences(&ENGLISH, "Hello world.", Stage::Phonemize);
        assert_eq!(ipa.len(), 1);
        assert!(ipa[0].starts_with("həlˈoʊ"), "{}", ipa[0]);
    }
}
