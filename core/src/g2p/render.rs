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

/// Groups of vowel letters in the spelling (y counts after the first letter). `silent_e`
/// leaves out a final e that is not a vowel of its own (make, closed, prices).
fn vowel_groups(word: &[u8], silent_e: bool) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    let v = |j: usize| matches!(word[j], b'a' | b'e' | b'i' | b'o' | b'u') || (word[j] == b'y' && j > 0);
    let mut i = 0;
    while i < word.len() {
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
    if silent_e {
        if let Some(&(s, e)) = groups.last() {
            let tail = &word[s..];
            if groups.len() > 1 && e - s == 1 && word[s] == b'e' && (tail == b"e" || tail == b"es" || tail == b"ed") {
                groups.pop();
            }
        }
    }
    groups
}

/// Stress 3 marks a vowel whose secondary stress was dropped: no mark, but full quality.
const DEMOTED: u8 = 3;

/// Spellings of the FORCE words, which CMUdict writes like NORTH ones and espeak says with oːɹ:
/// oar, oor, our, port, cord anywhere (board, floor, court, report, record); -ore, -ory, -orum
/// (more, story, forum); an `or` before `i` and a vowel (glorious, memorial, stories, orient) or
/// before `ce`/`ci` (force, divorced, enforcing, porcelain).
fn force_spelling(word: &[u8]) -> bool {
    let vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u');
    [&b"oar"[..], b"oor", b"our", b"port", b"cord"].iter().any(|p| word.windows(p.len()).any(|w| w == *p))
        || [&b"ore"[..], b"ores", b"ored", b"oring", b"ory", b"orum", b"orums"].iter().any(|p| word.ends_with(p))
        || word.windows(4).any(|w| &w[..2] == b"or" && ((w[2] == b'i' && vowel(w[3])) || (w[2] == b'c' && matches!(w[3], b'e' | b'i'))))
}

/// What follows the a of a word CMUdict says with ɛɹ where espeak says æɹ: `rr`, or `r`, then a or
/// o, then a consonant.
fn marry_spelling(after: &[u8]) -> bool {
    match after {
        [b'r', b'r', ..] => true,
        [b'r', b'a' | b'o', c, ..] => !matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y'),
        _ => false,
    }
}

/// Appends the IPA of one word. `spelling` is the lowercase word the phones belong to (may be
/// empty when unknown).
pub fn render(phones: &[Phone], spelling: &str, out: &mut String) {
    let mut ph: Vec<Phone> = phones.to_vec();
    let word = spelling.as_bytes();
    let n = ph.len();

    // -day: espeak keeps the full vowel (Wednesday → wˈɛnzdeɪ).
    if (word.ends_with(b"day") || word.ends_with(b"days")) && n >= 3 {
        let j = if word.ends_with(b"s") { n - 2 } else { n - 1 };
        if ph[j].sym == IY && ph[j - 1].sym == D && ph[j].stress == 0 {
            ph[j] = Phone { sym: EY, stress: DEMOTED };
        }
    }
    // -n't: espeak has no vowel before the n (didn't → dˈɪdnt).
    if word.ends_with(b"n't") && n >= 4 && ph[n - 3].sym == AH && ph[n - 3].stress == 0 && ph[n - 2].sym == N {
        ph.remove(n - 3);
    }
    let n = ph.len();
    // -ically: espeak says ɪkli (periodically).
    if word.ends_with(b"ically") && n >= 4 && ph[n - 3].sym == AH && ph[n - 3].stress == 0 && ph[n - 4].sym == K {
        ph.remove(n - 3);
    }
    // -man, -men: unstressed (fisherman).
    if (word.ends_with(b"man") || word.ends_with(b"men")) && word.len() > 4 && n >= 3 && ph[n - 3].sym == M && matches!(ph[n - 2].sym, AE | EH) {
        ph[n - 2] = Phone { sym: AH, stress: 0 };
    }
    let n = ph.len();
    let vowels: Vec<usize> = (0..n).filter(|&i| is_vowel(ph[i].sym)).collect();
    // -ation takes the primary stress where CMUdict gives the word two (duration → dʊɹɹˈeɪʃən).
    let ation = if word.ends_with(b"ations") {
        n.checked_sub(5)
    } else if word.ends_with(b"ation") {
        n.checked_sub(4)
    } else {
        None
    };
    if let Some(ation) = ation.filter(|&i| ph[i] == Phone { sym: EY, stress: 1 } && ph[i + 1].sym == SH) {
        for &i in vowels.iter().filter(|&&i| i < ation) {
            if ph[i].stress == 1 {
                ph[i].stress = 2;
            }
        }
    }

    // Stress. One primary (the first; a later one becomes secondary); a secondary next to a
    // stressed syllable, or on a final -y, loses its mark but keeps its vowel quality.
    match vowels.iter().position(|&i| ph[i].stress == 1) {
        Some(k) => {
            for &i in &vowels[k + 1..] {
                if ph[i].stress == 1 {
                    ph[i].stress = 2;
                }
            }
        }
        None => {
            if let Some(&i) = vowels.iter().find(|&&i| ph[i].stress == 2) {
                ph[i].stress = 1;
            }
        }
    }
    for k in 0..vowels.len() {
        let i = vowels[k];
        if ph[i].stress != 2 {
            continue;
        }
        let prev = k.checked_sub(1).map(|j| ph[vowels[j]].stress);
        let next = vowels.get(k + 1).map(|&j| ph[j].stress);
        let final_y = ph[i].sym == IY && i + 1 == n;
        if matches!(prev, Some(1) | Some(2)) || next == Some(1) || final_y {
            ph[i].stress = if final_y { 0 } else { DEMOTED };
        }
    }

    // Letters behind each vowel phone, when the counts agree.
    let mut groups = vowel_groups(word, true);
    if groups.len() != vowels.len() {
        groups = vowel_groups(word, false);
    }
    let aligned = groups.len() == vowels.len();
    let letters_of = |k: usize| -> Option<&[u8]> {
        if aligned {
            groups.get(k).map(|&(s, e)| &word[s..e])
        } else {
            None
        }
    };
    // The letters after a vowel's own: "rrow" for the a of narrow.
    let after_letters = |k: usize| -> &[u8] {
        match groups.get(k) {
            Some(&(_, e)) if aligned => &word[e..],
            _ => &[],
        }
    };
    let starts = |p: &[u8]| word.starts_with(p);
    let ends = |p: &[u8]| word.ends_with(p);
    let hoarse = force_spelling(word);
    // An unstressed last vowel before a final consonant keeps its length in espeak (phoneme,
    // morphine, Whitfield, yankees → iː); an inflected y does not (valleys, carried, city's → i).
    let y_inflected = ["ies", "ied", "ys", "yd", "yed", "y's", "ie's", "y'd"].iter().any(|p| spelling.ends_with(p));

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
            let reduced = p.stress == 0;
            // The inflection vowel of -ed / -es: wanted, prices → ᵻ.
            let inflection = last_vowel
                && i + 2 == n
                && p.sym != IY
                && !ends(b"ies")
                && !ends(b"ied")
                && ((ends(b"ed") && next == Some(D)) || (ends(b"es") && next == Some(Z)));
            // The vowel of an unstressed prefix re-, de-: reduce, delays → ᵻ.
            let prefix = k == 0
                && i == 1
                && (starts(b"re") || starts(b"de"))
                && !next_is_vowel(i)
                && matches!(p.stress, 0 | DEMOTED)
                && vowels.len() > 1;
            let v: &str = match p.sym {
                _ if matches!(p.sym, AH | IH | IY) && ((reduced && inflection) || prefix) => "ᵻ",
                AE if reduced && first && starts(b"a") => "ɐ",
                AA if letters == Some(b"a") && next == Some(L) => "ɔː",
                _ if reduced && matches!(p.sym, AH | IH) && first && starts(b"ex") => "ɛ",
                AA if letters.is_some_and(|l| l == b"au" || l == b"aw" || l == b"ou") => "ɔː",
                AA => "ɑː",
                AE => "æ",
                AH if stressed => "ʌ",
                AH => {
                    if first && starts(b"a") {
                        "ɐ"
                    } else if first && starts(b"u") {
                        "ʌ"
                    } else if letters == Some(b"u") && i > 0 && ph[i - 1].sym == Y {
                        "ʊ"
                    } else if (letters == Some(b"i") && !last_vowel)
                        // -ace: surface → ɪs.
                        || (letters == Some(b"a") && last_vowel && ends(b"ace"))
                        // -age: village, package → ɪdʒ.
                        || (letters == Some(b"a") && next == Some(JH) && (ends(b"age") || ends(b"ages")))
                        || (letters == Some(b"e") && matches!(next, Some(T | K | D | G | P | B | JH | CH | F | V | Z)))
                    {
                        "ɪ"
                    } else {
                        "ə"
                    }
                }
                AO if next == Some(NG) || next == Some(F) || (next == Some(L) && after == Some(T)) => "ɔ",
                AO if next == Some(R) && hoarse => "oː",
                AO => "ɔː",
                AW => "aʊ",
                AY => "aɪ",
                // CMUdict merges marry into merry; espeak keeps æ before rr, and before r + a/o +
                // a consonant (narrow, character, parody).
                EH if stressed && next == Some(R) && letters == Some(b"a") && marry_spelling(after_letters(k)) => "æ",
                EH => "ɛ",
                ER => {
                    out.push_str(if reduced { "ɚ" } else { "ɜː" });
                    if next_is_vowel(i) {
                        out.push('ɹ');
                    }
                    k += 1;
                    i += 1;
                    continue;
                }
                EY => "eɪ",
                IH if next == Some(R) && stressed && r_then_vowel => "iə",
                IH if reduced && first && letters == Some(b"e") && starts(b"el") => "ᵻ",
                IH => "ɪ",
                IY if next == Some(R) && stressed => {
                    if r_then_vowel { "iə" } else { "ɪ" }
                }
                IY if stressed && next == Some(AH) => "i",
                IY if stressed => "iː",
                IY if next_is_vowel(i) && !(ends(b"ying") && i + 3 == n) => "ɪ",
                // The y of a compound's first part: everyone, anything → ɪ.
                IY if vowels.get(k + 1).is_some_and(|&j| ph[j].stress != 0) && !last_vowel => "ɪ",
                IY if last_vowel && i + 1 < n && !y_inflected => "iː",
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
                N if matches!(ph.get(i + 1).map(|q| q.sym), Some(K) | Some(G)) => out.push('ŋ'),
                // l + i + vowel: million, billions → lˈiən (CMUdict writes a y).
                Y if i > 0
                    && ph[i - 1].sym == L
                    && ph.get(i + 1).is_some_and(|q| q.sym == AH && q.stress == 0)
                    && spelling.contains("li") =>
                {
                    out.push('i')
                }
                s => out.push_str(CONSONANT_IPA[(s - 15) as usize]),
            }
        }
        i += 1;
    }
}
