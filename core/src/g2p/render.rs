//! ARPAbet phones of one word to IPA in the form espeak-ng writes for en-us, which is what Piper
//! voices were trained on: long vowels marked ː, unstressed ER as ɚ, unstressed IY as i (ɪ before a
//! vowel), t flapped to ɾ between a vowel and an unstressed vowel, stress marks right before the
//! stressed vowel, secondary stress dropped when it follows a stressed syllable directly, and a
//! few reductions that depend on the spelling (ɐ for an initial a, ᵻ in -ed/-es and be-/de-/re-).

use alloc::string::String;
use alloc::vec::Vec;

use super::lexicon::Phone;

// ARPAbet indices (see phoneset.rs; DH = 18 is not needed by name).
pub(crate) const AA: u8 = 0;
pub(crate) const AE: u8 = 1;
pub(crate) const AH: u8 = 2;
pub(crate) const AO: u8 = 3;
pub(crate) const AW: u8 = 4;
pub(crate) const AY: u8 = 5;
pub(crate) const EH: u8 = 6;
pub(crate) const ER: u8 = 7;
pub(crate) const EY: u8 = 8;
pub(crate) const IH: u8 = 9;
pub(crate) const IY: u8 = 10;
pub(crate) const OW: u8 = 11;
pub(crate) const OY: u8 = 12;
pub(crate) const UH: u8 = 13;
pub(crate) const UW: u8 = 14;
pub(crate) const B: u8 = 15;
pub(crate) const CH: u8 = 16;
pub(crate) const D: u8 = 17;
pub(crate) const F: u8 = 19;
pub(crate) const G: u8 = 20;
pub(crate) const HH: u8 = 21;
pub(crate) const JH: u8 = 22;
pub(crate) const K: u8 = 23;
pub(crate) const L: u8 = 24;
pub(crate) const M: u8 = 25;
pub(crate) const N: u8 = 26;
pub(crate) const NG: u8 = 27;
pub(crate) const P: u8 = 28;
pub(crate) const R: u8 = 29;
pub(crate) const S: u8 = 30;
pub(crate) const SH: u8 = 31;
pub(crate) const T: u8 = 32;
pub(crate) const TH: u8 = 33;
pub(crate) const V: u8 = 34;
pub(crate) const W: u8 = 35;
pub(crate) const Y: u8 = 36;
pub(crate) const Z: u8 = 37;
pub(crate) const ZH: u8 = 38;

const CONSONANT_IPA: [&str; 24] = [
    "b", "tʃ", "d", "ð", "f", "ɡ", "h", "dʒ", "k", "l", "m", "n", "ŋ", "p", "ɹ", "s", "ʃ", "t", "θ",
    "v", "w", "j", "z", "ʒ",
];

pub(crate) fn is_vowel(sym: u8) -> bool {
    sym < 15
}

/// Groups of vowel letters in the spelling (y counts after the first letter); a final silent e
/// is left out. Used to find the letters behind each vowel phone when the counts agree.
fn vowel_groups(word: &[u8]) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < word.len() {
        let v = |j: usize| matches!(word[j], b'a' | b'e' | b'i' | b'o' | b'u') || (word[j] == b'y' && j > 0);
        if v(i) {
            let s = i;
            while i < word.len() && v(i) {
                i += 1;
            }
            groups.push((s, i));
        } else {
            i += 1;
        }
    }
    // Silent final e (make, done), and e in a final -es/-ed that CMUdict gives no vowel.
    if let Some(&(s, e)) = groups.last() {
        let tail = &word[s..];
        if groups.len() > 1 && e - s == 1 && word[s] == b'e' && (tail == b"e" || tail == b"es" || tail == b"ed") {
            groups.pop();
        }
    }
    groups
}

/// Appends the IPA of one word. `spelling` is the lowercase word the phones belong to (may be
/// empty when unknown).
pub fn render(phones: &[Phone], spelling: &str, out: &mut String) {
    let mut ph: Vec<Phone> = phones.to_vec();
    let word = spelling.as_bytes();
    let n = ph.len();
    let vowels: Vec<usize> = (0..n).filter(|&i| is_vowel(ph[i].sym)).collect();

    // Stress: a primary exists if any stress does; secondary right after a stressed syllable goes.
    if !vowels.iter().any(|&i| ph[i].stress == 1) {
        if let Some(&i) = vowels.iter().find(|&&i| ph[i].stress == 2) {
            ph[i].stress = 1;
        }
    }
    let mut prev_stressed = false;
    let mut seen_primary = false;
    for &i in &vowels {
        let s = ph[i].stress;
        if s == 2 && seen_primary && prev_stressed {
            ph[i].stress = 0;
        }
        if s == 1 {
            seen_primary = true;
        }
        prev_stressed = ph[i].stress != 0;
    }

    // Letters behind each vowel phone, when the counts agree.
    let groups = vowel_groups(word);
    let letters_of = |k: usize| -> Option<&[u8]> {
        if groups.len() == vowels.len() {
            groups.get(k).map(|&(s, e)| &word[s..e])
        } else {
            None
        }
    };
    let starts = |p: &[u8]| word.starts_with(p);
    let ends = |p: &[u8]| word.ends_with(p);
    let hoarse = ["ore", "oar", "oor", "our", "port", "cord"]
        .iter()
        .any(|p| spelling.contains(p));

    let next_is_vowel = |i: usize| i + 1 < n && is_vowel(ph[i + 1].sym);
    let mut k = 0usize; // vowel ordinal
    let mut i = 0usize;
    while i < n {
        let p = ph[i];
        if is_vowel(p.sym) {
            match p.stress {
                1 => out.push('ˈ'),
                2 => out.push('ˌ'),
                _ => {}
            }
            let letters = letters_of(k);
            let first = i == 0;
            let last_vowel = k + 1 == vowels.len();
            let next = ph.get(i + 1).map(|q| q.sym);
            let after = ph.get(i + 2).map(|q| q.sym);
            let r_then_vowel = next == Some(R) && after.is_some_and(is_vowel);
            let stressed = p.stress != 0;
            let v: &str = match p.sym {
                AA => "ɑː",
                AE => "æ",
                AH if stressed => "ʌ",
                AH => {
                    if first && starts(b"a") {
                        "ɐ"
                    } else if first && starts(b"u") {
                        "ʌ"
                    } else if letters == Some(b"i") && !last_vowel {
                        "ɪ"
                    } else {
                        "ə"
                    }
                }
                AO if next == Some(NG) || next == Some(F) => "ɔ",
                AO if next == Some(R) && hoarse => "oː",
                AO => "ɔː",
                AW => "aʊ",
                AY => "aɪ",
                EH => "ɛ",
                ER => {
                    let v = if stressed { "ɜː" } else { "ɚ" };
                    out.push_str(v);
                    if next_is_vowel(i) {
                        out.push('ɹ');
                    }
                    k += 1;
                    i += 1;
                    continue;
                }
                EY => "eɪ",
                IH if next == Some(R) && stressed && r_then_vowel => "iə",
                IH if !stressed => {
                    let e = letters == Some(b"e");
                    let final_ed_es = last_vowel && e && (ends(b"ed") || ends(b"es")) && i + 2 == n;
                    let prefix = k == 0
                        && e
                        && i == 1
                        && (starts(b"re") || starts(b"de") || starts(b"be"))
                        && !next_is_vowel(i);
                    if first && e && starts(b"ex") {
                        "ɛ"
                    } else if final_ed_es || prefix || (first && e && starts(b"el")) {
                        "ᵻ"
                    } else {
                        "ɪ"
                    }
                }
                IH => "ɪ",
                IY if stressed => "iː",
                IY if next_is_vowel(i) => "ɪ",
                IY => "i",
                OW => "oʊ",
                OY => "ɔɪ",
                // espeak doubles the r: during → dˈʊɹɹɪŋ.
                UH if r_then_vowel => "ʊɹ",
                UH => "ʊ",
                UW => "uː",
                _ => "",
            };
            out.push_str(v);
            k += 1;
        } else {
            let prev_vowel = i > 0 && is_vowel(ph[i - 1].sym);
            let prev_r = i > 1 && ph[i - 1].sym == R && is_vowel(ph[i - 2].sym);
            match p.sym {
                T if i > 0 && (prev_vowel || prev_r) && i + 1 < n => {
                    let q = ph[i + 1];
                    let ton = q.sym == AH && q.stress == 0 && ph.get(i + 2).map(|x| x.sym) == Some(N);
                    let ton_final = ton && (i + 3 == n || (i + 4 == n && matches!(ph[i + 3].sym, Z | S | D)));
                    if ton_final && prev_vowel {
                        out.push_str("ʔn̩");
                        i += 3;
                        continue;
                    } else if is_vowel(q.sym) && q.stress == 0 && !ton {
                        out.push('ɾ');
                    } else {
                        out.push('t');
                    }
                }
                s => out.push_str(CONSONANT_IPA[(s - 15) as usize]),
            }
        }
        i += 1;
    }
}
