//! A chunk that is all number: integers (years where they look like years), decimals,
//! negatives, ordinals ("21st"), decades ("1990s", "'90s"), ranges ("10-20" → ten to
//! twenty), fractions ("3/4" → three quarters, "1 1/2" → one and a half), ratios ("3:2").

use super::ctx::{Ctx, Took};
use super::numbers::{cardinal, decade, denominator, ordinal, parse_all, year, Num};
use super::out::Out;

/// Words after which a four-digit number is a year.
const YEAR_BEFORE: &[&str] = &[
    "in", "since", "by", "from", "until", "till", "of", "year", "circa", "before", "after",
    "during", "around", "ca", "c", "spring", "summer", "autumn", "fall", "winter", "early", "late",
    "mid", "through",
];
/// Words after a year.
const YEAR_AFTER: &[&str] = &["AD", "BC", "BCE", "CE", "A.D", "B.C"];

/// Denominators read as fractions ("3/4"); others are two numbers ("24/7", "9/11").
const DENOMINATORS: &[u64] = &[2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 64, 100];

fn year_like(cx: &Ctx, v: u64) -> bool {
    let before = cx
        .behind(1)
        .map(|p| p.core)
        .filter(|_| cx.cur().lead.is_empty());
    let after = cx.next().map(|n| n.core);
    let context = before.is_some_and(|w| YEAR_BEFORE.iter().any(|y| y.eq_ignore_ascii_case(w)))
        || after.is_some_and(|w| YEAR_AFTER.contains(&w));
    // "2000 people" counts; "1962 was" is a year.
    let plural = |w: &str| {
        w.len() > 2
            && w.ends_with('s')
            && !w.ends_with("ss")
            && !w.ends_with("us")
            && !w.ends_with("is")
            && !matches!(w, "was" | "has" | "does" | "its" | "yes")
            && w.starts_with(|c: char| c.is_lowercase())
    };
    let counted = after.is_some_and(plural);
    (context && (1000..=2999).contains(&v)) || ((1100..=2099).contains(&v) && !counted)
}

/// A whole-number fraction "a/b", if `b` is one we read as a denominator.
fn fraction(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once('/')?;
    let (a, b) = (parse_all(a)?.whole()?, parse_all(b)?.whole()?);
    (a >= 1 && a < b && DENOMINATORS.contains(&b)).then_some((a, b))
}

fn say_fraction(a: u64, b: u64, out: &mut Out) {
    cardinal(a, out);
    denominator(b, a != 1, out);
}

fn say_num(n: &Num, as_year: bool, out: &mut Out) {
    match n.whole() {
        Some(v) if as_year && !n.int.contains(',') && n.int.len() == 4 => year(v, out),
        _ => n.read(out),
    }
}

/// Reads the current chunk if it is all number.
pub(crate) fn read(cx: &Ctx, out: &mut Out) -> Option<Took> {
    let core = cx.cur().core;
    // Decades: "1990s", "'90s", "80s".
    if let Some(d) = core.strip_suffix('s') {
        let digits = d.strip_prefix('\'').unwrap_or(d);
        if let Some(v) = parse_all(digits)
            .and_then(|n| n.whole())
            .filter(|_| !digits.contains(','))
        {
            let ok =
                v % 10 == 0 && ((digits.len() == 2 && v >= 20) || (digits.len() == 4 && v >= 1000));
            if ok || (d.starts_with('\'') && digits.len() == 2 && v % 10 == 0) {
                decade(v, out);
                return Some(Took::chunks(1));
            }
        }
    }
    // Ordinals: "21st", "5th".
    for suffix in ["st", "nd", "rd", "th", "ST", "ND", "RD", "TH"] {
        if let Some(v) = core
            .strip_suffix(suffix)
            .and_then(parse_all)
            .and_then(|n| n.whole())
        {
            ordinal(v, out);
            return Some(Took::chunks(1));
        }
    }
    if let Some((a, b)) = fraction(core) {
        say_fraction(a, b, out);
        return Some(Took::chunks(1));
    }
    if let Some(n) = parse_all(core) {
        // A whole number and a fraction: "1 1/2" → one and a half.
        if let Some((a, b)) = cx
            .next()
            .and_then(|x| fraction(x.core))
            .filter(|_| n.frac.is_none())
        {
            n.read(out);
            out.word("and");
            if a == 1 {
                out.word("a");
                denominator(b, false, out);
            } else {
                say_fraction(a, b, out);
            }
            return Some(Took::chunks(2));
        }
        let as_year = n.whole().is_some_and(|v| year_like(cx, v));
        say_num(&n, as_year, out);
        return Some(Took::chunks(1));
    }
    // Signs: "-5", "+3.5".
    for (sign, word) in [('-', "minus"), ('+', "plus")] {
        if let Some(n) = core.strip_prefix(sign).and_then(parse_all) {
            out.word(word);
            n.read(out);
            return Some(Took::chunks(1));
        }
    }
    // Two numbers: a range "10-20", "1990-2000", a ratio "3:2", or "24/7".
    for sep in ['-', ':', '/'] {
        let Some((a, b)) = core.split_once(sep) else {
            continue;
        };
        let (Some(a), Some(b)) = (parse_all(a), parse_all(b)) else {
            continue;
        };
        // "1990-2000", "2020-21": years.
        let year =
            |n: &Num| n.whole().is_some_and(|v| (1000..=2099).contains(&v)) && n.int.len() == 4;
        let years = sep == '-' && year(&a) && (year(&b) || b.int.len() == 2);
        say_num(&a, years, out);
        if sep != '/' {
            out.word("to");
        }
        say_num(&b, years, out);
        return Some(Took::chunks(1));
    }
    None
}
