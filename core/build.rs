//! Turns the CMU Pronouncing Dictionary into the compact table the English G2P embeds.
//!
//! The dictionary comes from `$PARLA_CMUDICT`, else `<workspace>/models/lexicon/cmudict.dict`
//! (`just lexicon` fetches it). Without it the build still succeeds, with a warning and an empty
//! lexicon (letter-to-sound rules only), so a clean clone builds before setup; the G2P test
//! `lexicon_is_embedded` fails in that case, so `just test` notices.
//!
//! Table layout (all integers little-endian), written to `$OUT_DIR/lexicon.bin`:
//! `u32 n_blocks`, `u32 offset[n_blocks]` (into the data that follows), then blocks of up to
//! `BLOCK` entries in byte order of the words. Each entry: one byte, how many leading bytes it
//! shares with the previous word of the block (0 for the first); the rest of the word in ASCII,
//! the last byte with its high bit set; the phones, one byte each (index in `ARPABET` plus 39 ×
//! stress for vowels), the last with its high bit set. Only each word's first pronunciation is kept.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::{env, fs};

include!("src/g2p/phoneset.rs");

fn code(phone: &str) -> Option<u8> {
    let (sym, stress) = match phone.as_bytes().last() {
        Some(d @ b'0'..=b'2') => (&phone[..phone.len() - 1], d - b'0'),
        _ => (phone, 0),
    };
    let i = ARPABET.iter().position(|s| *s == sym)?;
    if i >= VOWELS && stress != 0 {
        return None;
    }
    Some(i as u8 + 39 * stress)
}

/// Words whose CMUdict alternate (`word(2)`) is the form espeak-ng uses: the one without the
/// extra syllable ("every"), and heteronyms whose first entry is the rarer reading ("lead" the
/// metal, "read" in the past, "insult" the verb), as espeak reads them whatever the context.
/// Heteronyms read by context are in the G2P's noun/verb table instead.
const PREFER_SECOND: &[&str] = &[
    "every", "everyone", "everything", "everybody", "everywhere", "everyday", "different",
    "difference", "differences", "differently", "conference", "conferences", "restaurant",
    "restaurants", "camera", "cameras", "average",
    "lead", "read", "wound", "putting", "bass", "sow", "decrease", "compact", "insult", "subject",
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/g2p/phoneset.rs");
    println!("cargo:rerun-if-env-changed=PARLA_CMUDICT");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let path = env::var_os("PARLA_CMUDICT")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../models/lexicon/cmudict.dict"));
    println!("cargo:rerun-if-changed={}", path.display());
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("lexicon.bin");

    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            println!(
                "cargo:warning=no CMU dictionary at {} ({e}): the English G2P is built with an \
                 empty lexicon (letter-to-sound rules only). Run `just lexicon` (or `just setup`), \
                 or point PARLA_CMUDICT at a cmudict.dict.",
                path.display()
            );
            fs::write(&out, 0u32.to_le_bytes()).unwrap();
            return;
        }
    };

    // First pronunciation of each word; alternates are written "word(2)".
    let mut words: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut fields = line.split_whitespace();
        let Some(word) = fields.next() else { continue };
        let word = match word.strip_suffix("(2)") {
            Some(w) if PREFER_SECOND.contains(&w) => {
                words.remove(w.as_bytes());
                w
            }
            _ => word,
        };
        if word.contains('(') || !word.bytes().all(|b| b.is_ascii_lowercase() || b"'.-_".contains(&b)) {
            continue;
        }
        let phones: Option<Vec<u8>> = fields.map(code).collect();
        match phones {
            Some(p) if !p.is_empty() => {
                words.entry(word.as_bytes().to_vec()).or_insert(p);
            }
            _ => println!("cargo:warning=cmudict: skipped malformed entry {line:?}"),
        }
    }

    let mut offsets: Vec<u32> = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    let mut prev: &[u8] = &[];
    for (i, (word, phones)) in words.iter().enumerate() {
        let shared = if i % BLOCK == 0 {
            offsets.push(data.len() as u32);
            0
        } else {
            word.iter().zip(prev).take_while(|(a, b)| a == b).count().min(255)
        };
        data.push(shared as u8);
        let rest = &word[shared..];
        data.extend_from_slice(rest);
        *data.last_mut().unwrap() |= 0x80;
        data.extend_from_slice(phones);
        *data.last_mut().unwrap() |= 0x80;
        prev = word;
    }
    let mut bin = Vec::with_capacity(4 + 4 * offsets.len() + data.len());
    bin.extend_from_slice(&(offsets.len() as u32).to_le_bytes());
    for o in &offsets {
        bin.extend_from_slice(&o.to_le_bytes());
    }
    bin.extend_from_slice(&data);
    fs::write(&out, &bin).unwrap();
}
