//! Dates: "March 3, 2021" → March third, twenty twenty one; "3 March 2021" → the third of
//! March, twenty twenty one; "3/14/2024", "14/3/2024", "2024-03-14", "14.03.2024" → March
//! fourteenth, twenty twenty four. Numeric dates are read month first when that is possible.

use super::ctx::{starts_upper, Ctx, Took};
use super::numbers::{self, ordinal, year};
use super::out::Out;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The month (1..=12) a capitalised word names, in full or abbreviated ("Sept").
pub(crate) fn month(s: &str) -> Option<usize> {
    if !starts_upper(s) || s.len() < 3 {
        return None;
    }
    let full = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(s));
    full.or_else(|| {
        if s.eq_ignore_ascii_case("sept") {
            return Some(8);
        }
        (s.len() == 3).then(|| MONTHS.iter().position(|m| m[..3].eq_ignore_ascii_case(s)))?
    })
    .map(|i| i + 1)
}

/// The month's name.
pub(crate) fn month_name(m: usize) -> &'static str {
    MONTHS[(m - 1) % 12]
}

/// A day of the month, "3" or "3rd".
fn day(s: &str) -> Option<u64> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &s[digits.len()..];
    if digits.len() > 2 || !matches!(suffix, "" | "st" | "nd" | "rd" | "th") {
        return None;
    }
    numbers::value(digits).filter(|d| (1..=31).contains(d))
}

/// A four-digit year a date may end with.
fn full_year(s: &str) -> Option<u64> {
    (s.len() == 4)
        .then(|| numbers::value(s))?
        .filter(|y| (1000..=2999).contains(y))
}

fn say(m: usize, d: u64, y: Option<&str>, out: &mut Out) {
    out.word(month_name(m));
    ordinal(d, out);
    if let Some(y) = y {
        out.pause();
        match numbers::value(y) {
            // "3/14/05": oh five.
            Some(v) if y.len() == 2 && v < 10 => {
                out.word("oh");
                numbers::cardinal(v, out);
            }
            Some(v) => year(v, out),
            None => {}
        }
    }
}

/// "3/14/2024" and friends, in one chunk.
fn numeric(s: &str, out: &mut Out) -> bool {
    let Some(sep) = s.chars().find(|c| matches!(c, '/' | '-' | '.')) else {
        return false;
    };
    let mut parts = s.split(sep);
    let (Some(a), Some(b), Some(c), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let all_digits = [a, b, c]
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|x| x.is_ascii_digit()));
    if !all_digits {
        return false;
    }
    let v = |p: &str| numbers::value(p).unwrap_or(0);
    let (m, d, y) = if a.len() == 4 {
        (v(b), v(c), a)
    } else if b.len() > 2 || a.len() > 2 || !(c.len() == 4 || (c.len() == 2 && sep == '/')) {
        return false;
    } else if v(a) <= 12 {
        (v(a), v(b), c)
    } else {
        (v(b), v(a), c)
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || b.len() > 2 || c.len() > 4 {
        return false;
    }
    say(m as usize, d, Some(y), out);
    true
}

/// Reads a date at the current chunk.
pub(crate) fn read(cx: &Ctx, out: &mut Out) -> Option<Took> {
    let cur = cx.cur();
    if numeric(cur.core, out) {
        return Some(Took::chunks(1));
    }
    let next = cx
        .ahead(1)
        .filter(|n| n.lead.is_empty() && matches!(cur.trail, "" | "."))?;
    // "March 3, 2021" / "Mar. 3rd" / "March 2021".
    if let Some(m) = month(cur.core) {
        if cur.trail == "." && cur.core.len() > 4 {
            return None;
        }
        if let Some(d) = day(next.core) {
            let y = cx
                .ahead(2)
                .filter(|y| y.lead.is_empty() && matches!(next.trail, "" | ","));
            let y = y.filter(|y| full_year(y.core).is_some()).map(|y| y.core);
            say(m, d, y, out);
            return Some(Took::chunks(if y.is_some() { 3 } else { 2 }));
        }
        if let Some(y) = full_year(next.core) {
            out.word(month_name(m));
            year(y, out);
            return Some(Took::chunks(2));
        }
        return None;
    }
    // "3 March 2021".
    let d = day(cur.core).filter(|_| cur.trail.is_empty())?;
    let m = month(next.core)?;
    out.word("the");
    ordinal(d, out);
    out.word("of");
    out.word(month_name(m));
    let y = cx
        .ahead(2)
        .filter(|y| y.lead.is_empty() && matches!(next.trail, "" | "," | "."));
    match y.and_then(|y| full_year(y.core)) {
        Some(v) => {
            out.pause();
            year(v, out);
            Some(Took::chunks(3))
        }
        None => Some(Took::chunks(2)),
    }
}
