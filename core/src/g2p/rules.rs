//! Letter-to-sound rules for words neither the lexicon nor morphology knows: spelling patterns
//! to ARPAbet, a stress guess from prefixes and suffixes, and reduction of unstressed short
//! vowels. Rough by nature; names and rare words land here.

use alloc::vec::Vec;

use super::lexicon::Phone;
use super::render::*;

fn ph(sym: u8) -> Phone {
    Phone { sym, stress: 0 }
}

fn is_v(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// Suffixes that pull the stress onto the syllable before them.
const PRE_STRESS: &[&str] = &["tion", "sion", "ic", "ical", "ity", "ian", "ial", "ious", "ient", "ial"];
/// Prefixes that are usually unstressed.
const UNSTRESSED_PREFIX: &[&str] = &["be", "de", "re", "con", "com", "ex", "pre", "a", "dis", "mis", "un", "im", "in", "en"];

/// Spells a lowercase ASCII word out as phones. Letters outside a–z are ignored.
pub fn letters_to_phones(word: &str, out: &mut Vec<Phone>) {
    let w: Vec<u8> = word.bytes().filter(u8::is_ascii_lowercase).collect();
    let n = w.len();
    if n == 0 {
        return;
    }
    let at = |i: usize| -> u8 { if i < n { w[i] } else { 0 } };
    let front = |c: u8| matches!(c, b'e' | b'i' | b'y');
    // Is the vowel at i "long" by a magic e: vowel, one consonant, e (word end or before s/d).
    let magic = |i: usize| -> bool {
        let c = at(i + 1);
        c != 0 && !is_v(c) && c != b'x' && c != b'w' && at(i + 2) == b'e' && {
            let rest = &w[(i + 3).min(n)..];
            rest.is_empty() || rest == b"s" || rest == b"d" || rest == b"ly" || rest == b"r" || rest == b"ment"
        }
    };
    let mut vowel_at: Vec<(usize, usize)> = Vec::new(); // (index in out, letter index)
    let mut i = 0;
    while i < n {
        let c = w[i];
        let rest = &w[i..];
        let s = |p: &[u8]| rest.starts_with(p);
        let adv: usize;
        if s(b"tion") {
            out.extend([ph(SH), ph(AH), ph(N)]);
            vowel_at.push((out.len() - 2, i + 1));
            adv = 4;
        } else if s(b"sion") {
            let z = i > 0 && is_v(w[i - 1]);
            out.extend([ph(if z { ZH } else { SH }), ph(AH), ph(N)]);
            vowel_at.push((out.len() - 2, i + 1));
            adv = 4;
        } else if s(b"ture") {
            out.extend([ph(CH), ph(ER)]);
            vowel_at.push((out.len() - 1, i + 1));
            adv = 4;
        } else if s(b"cious") || s(b"tious") {
            out.extend([ph(SH), ph(AH), ph(S)]);
            vowel_at.push((out.len() - 2, i + 2));
            adv = 5;
        } else if (s(b"cial") || s(b"tial")) && i > 0 {
            out.extend([ph(SH), ph(AH), ph(L)]);
            vowel_at.push((out.len() - 2, i + 2));
            adv = 4;
        } else if s(b"le") && i + 2 == n && i > 0 && !is_v(w[i - 1]) {
            out.extend([ph(AH), ph(L)]);
            vowel_at.push((out.len() - 2, i));
            adv = 2;
        } else if !is_v(c) || (c == b'y' && i == 0) {
            // Consonants.
            let (syms, len): (&[u8], usize) = if s(b"tch") {
                (&[CH], 3)
            } else if s(b"ch") {
                (&[CH], 2)
            } else if s(b"sh") {
                (&[SH], 2)
            } else if s(b"th") {
                (&[TH], 2)
            } else if s(b"ph") {
                (&[F], 2)
            } else if s(b"wh") {
                (&[W], 2)
            } else if s(b"ck") {
                (&[K], 2)
            } else if s(b"ng") {
                (&[NG], 2)
            } else if s(b"nk") {
                (&[NG, K], 2)
            } else if s(b"qu") {
                (&[K, W], 2)
            } else if s(b"dg") {
                (&[JH], 2)
            } else if s(b"gh") {
                if i == 0 { (&[G], 2) } else { (&[], 2) }
            } else if i == 0 && (s(b"kn") || s(b"gn")) {
                (&[N], 2)
            } else if i == 0 && s(b"wr") {
                (&[R], 2)
            } else if s(b"mb") && i + 2 == n {
                (&[M], 2)
            } else if i + 1 < n && w[i + 1] == c && c != b'c' {
                // Double consonant: one sound.
                (single(c), 2)
            } else if c == b'c' {
                if front(at(i + 1)) { (&[S], 1) } else { (&[K], 1) }
            } else if c == b'g' {
                if front(at(i + 1)) && i + 1 < n - 1 { (&[JH], 1) } else { (&[G], 1) }
            } else if s(b"sc") && front(at(i + 2)) {
                (&[S], 2)
            } else if i > 0 && c == b'g' && at(i + 1) == b'u' && is_v(at(i + 2)) {
                (&[G], 2)
            } else if c == b's' && i > 0 && is_v(w[i - 1]) && is_v(at(i + 1)) {
                (&[Z], 1)
            } else if c == b's' && i + 1 == n && i > 0 {
                // Final s: voiced after a voiced sound (dogs), s after a voiceless one (cats).
                let voiceless = out.last().is_some_and(|p| matches!(p.sym, P | T | K | F | TH | S | SH | CH));
                if voiceless || w[i - 1] == b'u' { (&[S], 1) } else { (&[Z], 1) }
            } else {
                (single(c), 1)
            };
            let voiceless_before = out.last().is_some_and(|p| matches!(p.sym, P | K | F | S | SH | CH | TH));
            if syms == [D] && i + 1 == n && i > 1 && w[i - 1] == b'e' && voiceless_before {
                out.push(ph(T));
            } else {
                out.extend(syms.iter().map(|&x| ph(x)));
            }
            adv = len;
        } else {
            // Vowels.
            let nx = at(i + 1);
            let (syms, len): (&[u8], usize) = match c {
                b'a' if s(b"ai") || s(b"ay") => (&[EY], 2),
                b'a' if s(b"au") || s(b"aw") => (&[AO], 2),
                b'a' if s(b"ar") && !is_v(at(i + 2)) => (&[AA, R], 2),
                b'a' if (s(b"all") && !is_v(at(i + 3))) || (nx == b'l' && matches!(at(i + 2), b'k' | b't')) => (&[AO], 1),
                b'a' if magic(i) => (&[EY], 1),
                b'a' => (&[AE], 1),
                b'e' if s(b"ee") || s(b"ea") => (&[IY], 2),
                b'e' if s(b"ew") => (&[UW], 2),
                b'e' if s(b"ei") || s(b"ey") => (&[EY], 2),
                b'e' if s(b"er") && !is_v(at(i + 2)) => (&[ER], 2),
                b'e' if i + 1 == n && i > 0 => (&[], 1),
                b'e' if (s(b"es") || s(b"ed")) && i + 2 == n && i > 1 => {
                    let p = w[i - 1];
                    if c == b'e' && nx == b'd' && (p == b't' || p == b'd') || nx == b's' && matches!(p, b's' | b'z' | b'x' | b'h' | b'g' | b'c') {
                        (&[IH], 1)
                    } else {
                        (&[], 1)
                    }
                }
                b'e' if magic(i) => (&[IY], 1),
                b'e' if i + 1 == n => (&[IY], 1),
                b'e' => (&[EH], 1),
                b'i' if s(b"igh") => (&[AY], 3),
                b'i' if s(b"ie") && i + 2 == n => (&[AY], 2),
                b'i' if s(b"ie") => (&[IY], 2),
                b'i' if s(b"ir") && !is_v(at(i + 2)) => (&[ER], 2),
                b'i' if magic(i) || (s(b"ind") || s(b"ild")) => (&[AY], 1),
                b'i' => (&[IH], 1),
                b'o' if s(b"oo") => (&[UW], 2),
                b'o' if s(b"ou") => (&[AW], 2),
                b'o' if s(b"ow") => (&[OW], 2),
                b'o' if s(b"oi") || s(b"oy") => (&[OY], 2),
                b'o' if s(b"oa") => (&[OW], 2),
                b'o' if s(b"or") && !is_v(at(i + 2)) => (&[AO, R], 2),
                b'o' if magic(i) || i + 1 == n || s(b"old") || s(b"ost") => (&[OW], 1),
                b'o' => (&[AA], 1),
                b'u' if s(b"ur") && !is_v(at(i + 2)) => (&[ER], 2),
                b'u' if s(b"ue") && i + 2 == n => (&[UW], 2),
                b'u' if magic(i) => (&[UW], 1),
                b'u' => (&[AH], 1),
                b'y' if i + 1 == n => (if vowel_at.is_empty() { &[AY] } else { &[IY] }, 1),
                _ => (&[IH], 1),
            };
            for &x in syms {
                if is_vowel(x) {
                    vowel_at.push((out.len(), i));
                    out.push(ph(x));
                } else {
                    out.push(ph(x));
                }
            }
            adv = len;
        }
        i += adv;
    }

    // Stress: the syllable before a stress-pulling suffix, else the second after an
    // unstressed prefix, else the first.
    let nv = vowel_at.len();
    if nv == 0 {
        return;
    }
    let mut primary = 0usize;
    if let Some(suf) = PRE_STRESS.iter().find(|s| word.ends_with(**s)) {
        let cut = n.saturating_sub(suf.len());
        let before = vowel_at.iter().filter(|(_, l)| *l < cut).count();
        primary = before.saturating_sub(1);
    } else if nv >= 2 && UNSTRESSED_PREFIX.iter().any(|p| word.starts_with(p) && word.len() > p.len() + 2) {
        primary = 1;
    }
    for (k, &(at_out, _)) in vowel_at.iter().enumerate() {
        if k == primary {
            out[at_out].stress = 1;
        } else {
            out[at_out].stress = 0;
            // Unstressed short vowels reduce; an unstressed "or"/"ar" is ɚ.
            let r_next = out.get(at_out + 1).is_some_and(|q| q.sym == R);
            out[at_out].sym = match out[at_out].sym {
                AO | AA if r_next => {
                    out[at_out + 1].sym = DROP;
                    ER
                }
                AE | AA | AH => AH,
                EH => IH,
                x => x,
            };
        }
    }
    out.retain(|p| p.sym != DROP);
}

/// Marks a phone for removal.
const DROP: u8 = u8::MAX;

fn single(c: u8) -> &'static [u8] {
    match c {
        b'b' => &[B],
        b'c' => &[K],
        b'd' => &[D],
        b'f' => &[F],
        b'g' => &[G],
        b'h' => &[HH],
        b'j' => &[JH],
        b'k' => &[K],
        b'l' => &[L],
        b'm' => &[M],
        b'n' => &[N],
        b'p' => &[P],
        b'q' => &[K],
        b'r' => &[R],
        b's' => &[S],
        b't' => &[T],
        b'v' => &[V],
        b'w' => &[W],
        b'x' => &[K, S],
        b'y' => &[Y],
        b'z' => &[Z],
        _ => &[],
    }
}
