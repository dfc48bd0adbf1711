//! Normalizes stdin line by line: `cargo run -p parla-core --no-default-features --example normalize`.

use parla_core::normalize::{English, Normalizer};
use std::io::{BufRead, Write};

fn main() -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        writeln!(out, "{}", English.normalize(&line?))?;
    }
    Ok(())
}
