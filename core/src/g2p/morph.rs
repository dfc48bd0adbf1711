//! Words the lexicon lacks but whose stem it has: inflections (-s, -es, -'s, -ed, -ing), common
//! derivational suffixes and prefixes, and two-part compounds. Suffix sounds follow the stem's
//! last phone (cats → s, dogs → z, buses → ᵻz; walked → t, played → d, wanted → ᵻd).

use alloc::string::String;
use alloc::vec::Vec;

use super::lexicon::{lookup, Phone};
use super::render::*;

fn ph(sym: u8, stress: u8) -> Phone {
    Phone { sym, stress }
}

fn voiceless(p: Phone) -> bool {
    matches!(p.sym, P | T | K | F | TH | S | SH | CH)
}

fn sibilant(p: Phone) -> bool {
    matches!(p.sym, S | Z | SH | ZH | CH | JH)
}

/// Stem candidates for a suffix: the bare stem, stem + e, the stem with a doubled consonant
/// undone, and y for i.
fn stems(stem: &str) -> Vec<String> {
    let mut v = Vec::new();
    if stem.len() < 2 {
        return v;
    }
    v.push(String::from(stem));
    let mut e = String::from(stem);
    e.push('e');
    v.push(e);
    let b = stem.as_bytes();
    if b.len() >= 3 && b[b.len() - 1] == b[b.len() - 2] {
        v.push(String::from(&stem[..stem.len() - 1]));
    }
    if let Some(s) = stem.strip_suffix('i') {
        let mut y = String::from(s);
        y.push('y');
        v.push(y);
    }
    v
}

fn lookup_stem(stem: &str, out: &mut Vec<Phone>) -> bool {
    stems(stem).iter().any(|s| lookup(s, out))
}

/// Suffixes whose sound does not depend on the stem: (spelling, phones).
const SUFFIXES: &[(&str, &[(u8, u8)])] = &[
    ("ing", &[(IH, 0), (NG, 0)]),
    ("ness", &[(N, 0), (AH, 0), (S, 0)]),
    ("less", &[(L, 0), (AH, 0), (S, 0)]),
    ("ment", &[(M, 0), (AH, 0), (N, 0), (T, 0)]),
    ("ments", &[(M, 0), (AH, 0), (N, 0), (T, 0), (S, 0)]),
    ("ful", &[(F, 0), (AH, 0), (L, 0)]),
    ("ly", &[(L, 0), (IY, 0)]),
    ("er", &[(ER, 0)]),
    ("ers", &[(ER, 0), (Z, 0)]),
    ("est", &[(AH, 0), (S, 0), (T, 0)]),
    ("able", &[(AH, 0), (B, 0), (AH, 0), (L, 0)]),
    ("ism", &[(IH, 0), (Z, 0), (AH, 0), (M, 0)]),
    ("ist", &[(IH, 0), (S, 0), (T, 0)]),
    ("ists", &[(IH, 0), (S, 0), (T, 0), (S, 0)]),
    ("ize", &[(AY, 2), (Z, 0)]),
    ("ized", &[(AY, 2), (Z, 0), (D, 0)]),
    ("izes", &[(AY, 2), (Z, 0), (IH, 0), (Z, 0)]),
    ("ization", &[(AH, 0), (Z, 0), (EY, 1), (SH, 0), (AH, 0), (N, 0)]),
    ("ship", &[(SH, 0), (IH, 0), (P, 0)]),
    ("hood", &[(HH, 0), (UH, 2), (D, 0)]),
    ("like", &[(L, 0), (AY, 2), (K, 0)]),
    ("wise", &[(W, 0), (AY, 2), (Z, 0)]),
];

/// Prefixes: (spelling, phones); the stem keeps its stress.
const PREFIXES: &[(&str, &[(u8, u8)])] = &[
    ("un", &[(AH, 0), (N, 0)]),
    ("re", &[(R, 0), (IY, 2)]),
    ("pre", &[(P, 0), (R, 0), (IY, 2)]),
    ("non", &[(N, 0), (AA, 2), (N, 0)]),
    ("dis", &[(D, 0), (IH, 0), (S, 0)]),
    ("mis", &[(M, 0), (IH, 0), (S, 0)]),
    ("over", &[(OW, 2), (V, 0), (ER, 0)]),
    ("under", &[(AH, 2), (N, 0), (D, 0), (ER, 0)]),
    ("out", &[(AW, 2), (T, 0)]),
    ("sub", &[(S, 0), (AH, 2), (B, 0)]),
    ("multi", &[(M, 0), (AH, 2), (L, 0), (T, 0), (IY, 0)]),
    ("micro", &[(M, 0), (AY, 2), (K, 0), (R, 0), (OW, 0)]),
    ("auto", &[(AO, 2), (T, 0), (OW, 0)]),
    ("self", &[(S, 0), (EH, 2), (L, 0), (F, 0)]),
    ("anti", &[(AE, 2), (N, 0), (T, 0), (IY, 0)]),
    ("inter", &[(IH, 2), (N, 0), (T, 0), (ER, 0)]),
    ("super", &[(S, 0), (UW, 2), (P, 0), (ER, 0)]),
];

fn push(out: &mut Vec<Phone>, p: &[(u8, u8)]) {
    out.extend(p.iter().map(|&(s, t)| ph(s, t)));
}

/// Analyses a word the lexicon lacks; appends its phones and returns true when a stem was found.
pub fn analyse(word: &str, out: &mut Vec<Phone>, depth: u8) -> bool {
    let start = out.len();
    let known = |w: &str, out: &mut Vec<Phone>| lookup(w, out) || (depth > 0 && analyse(w, out, depth - 1));
    // Possessive and plural / third person.
    for (suf, keep_e) in [("'s", false), ("s'", false), ("'", false), ("es", true), ("s", false)] {
        if let Some(stem) = word.strip_suffix(suf) {
            if stem.len() < 2 {
                continue;
            }
            let mut found = known(stem, out);
            if !found && suf == "es" {
                if let Some(y) = stem.strip_suffix('i') {
                    let mut s = String::from(y);
                    s.push('y');
                    found = known(&s, out);
                }
            }
            if !found && keep_e {
                continue;
            }
            if found {
                let last = *out.last().unwrap();
                if suf == "'" {
                    return true;
                }
                if sibilant(last) {
                    push(out, &[(IH, 0), (Z, 0)]);
                } else if voiceless(last) {
                    push(out, &[(S, 0)]);
                } else {
                    push(out, &[(Z, 0)]);
                }
                return true;
            }
            out.truncate(start);
        }
    }
    // Past tense.
    if let Some(stem) = word.strip_suffix("ed") {
        if stems(stem).iter().any(|s| known(s, out)) {
            let last = *out.last().unwrap();
            if matches!(last.sym, T | D) {
                push(out, &[(IH, 0), (D, 0)]);
            } else if voiceless(last) {
                push(out, &[(T, 0)]);
            } else {
                push(out, &[(D, 0)]);
            }
            return true;
        }
        out.truncate(start);
    }
    for (suf, phones) in SUFFIXES {
        if let Some(stem) = word.strip_suffix(suf) {
            if stem.len() >= 3 && lookup_stem(stem, out) {
                // -er/-est/-ly/-ing after a final y: happily → h æ p IH L IY.
                push(out, phones);
                return true;
            }
            out.truncate(start);
        }
    }
    for (pre, phones) in PREFIXES {
        if let Some(stem) = word.strip_prefix(pre) {
            if stem.len() >= 3 {
                push(out, phones);
                if known(stem, out) {
                    // The stem's primary stays; the prefix's own stress is secondary.
                    return true;
                }
                out.truncate(start);
            }
        }
    }
    // Two-part compounds: the longest known first part, then a known rest.
    let b = word.as_bytes();
    for cut in (3..b.len().saturating_sub(2)).rev() {
        if !word.is_char_boundary(cut) {
            continue;
        }
        let (a, rest) = word.split_at(cut);
        if lookup(a, out) {
            let mid = out.len();
            if lookup(rest, out) {
                // Second part loses its primary stress to a secondary.
                for p in &mut out[mid..] {
                    if p.stress == 1 {
                        p.stress = 2;
                    }
                }
                return true;
            }
        }
        out.truncate(start);
    }
    false
}
