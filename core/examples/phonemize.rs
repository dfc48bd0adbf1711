//! Reads text lines on stdin and prints one line of espeak-style IPA for each (Parla's English
//! G2P). With `--bench`, times the G2P over a few thousand words of the lines given (or of a
//! built-in paragraph) and prints words per second. With `--rules`, each line is one lowercase
//! word spoken by the letter-to-sound rules alone (to measure them against the dictionary).
//!
//! cargo run --release -p parla-core --no-default-features --example phonemize [-- --bench]

use std::io::{self, BufRead, Read, Write};
use std::time::Instant;

use parla_core::g2p::english_ipa;

const SAMPLE: &str = "The old lighthouse stood alone on the rocky cliff above the sea. \
    Each request is authenticated with a token that expires after one hour. \
    Researchers say the vaccine could be available to the public by next winter. \
    I hope this helps, and feel free to ask if anything is unclear.";

fn main() {
    if std::env::args().any(|a| a == "--bench") {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).unwrap_or(0);
        let lines: Vec<String> = if text.trim().is_empty() {
            vec![SAMPLE.to_string()]
        } else {
            text.lines().filter(|l| !l.trim().is_empty()).map(String::from).collect()
        };
        let words_per_pass: usize = lines.iter().map(|l| l.split_whitespace().count()).sum();
        let passes = (20_000 / words_per_pass.max(1)).max(1);
        let mut bytes = 0usize;
        let t = Instant::now();
        for _ in 0..passes {
            for l in &lines {
                bytes += english_ipa(l).len();
            }
        }
        let s = t.elapsed().as_secs_f64();
        let words = passes * words_per_pass;
        println!(
            "g2p: {words} words in {:.1} ms: {:.0} words/s ({bytes} bytes of IPA; lexicon {} bytes)",
            s * 1e3,
            words as f64 / s,
            parla_core::g2p::lexicon_bytes()
        );
        return;
    }
    // --rules: each line is one word, spoken by the letter-to-sound rules alone.
    let rules = std::env::args().any(|a| a == "--rules");
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for line in io::stdin().lock().lines() {
        let line = line.expect("stdin is not UTF-8");
        let ipa = if rules { parla_core::g2p::rules_only_ipa(&line) } else { english_ipa(&line) };
        writeln!(out, "{ipa}").unwrap();
    }
}
