//! Money: "$12.50" → twelve dollars and fifty cents, "€3m" → three million euros,
//! "£1.2 billion" → one point two billion pounds, "$5-10" → five to ten dollars, "12€",
//! "50c"/"50¢" → fifty cents. A country prefix ("US$", "A$") is not read.

use super::ctx::{Ctx, Took};
use super::numbers::{self, Num};
use super::out::Out;
use super::units::{self, amount, say_amount};

/// Symbol, unit, units, hundredth, hundredths ("" when none is spoken).
type Currency = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const CURRENCIES: &[Currency] = &[
    ("$", "dollar", "dollars", "cent", "cents"),
    ("€", "euro", "euros", "cent", "cents"),
    ("£", "pound", "pounds", "penny", "pence"),
    ("¥", "yen", "yen", "", ""),
    ("₹", "rupee", "rupees", "paisa", "paise"),
    ("₩", "won", "won", "", ""),
    ("₽", "ruble", "rubles", "kopek", "kopeks"),
    ("₿", "bitcoin", "bitcoins", "", ""),
    ("₪", "shekel", "shekels", "agora", "agorot"),
    ("₺", "lira", "lira", "kurus", "kurus"),
];

/// Scales written after an amount, glued ("3m", "1.2bn") or as a word ("1.2 billion").
fn scale(s: &str, glued: bool) -> Option<&'static str> {
    Some(match s {
        "k" | "K" if glued => "thousand",
        "m" | "M" | "mn" | "mm" if glued => "million",
        "b" | "B" | "bn" | "BN" | "Bn" if glued => "billion",
        "t" | "T" | "tn" | "tr" if glued => "trillion",
        "thousand" => "thousand",
        "million" => "million",
        "billion" => "billion",
        "trillion" => "trillion",
        _ if glued => return None,
        "hundred" => "hundred",
        _ => return None,
    })
}

fn currency_prefix(s: &str) -> Option<(&'static Currency, &str)> {
    // "US$5", "A$5", "HK$5": capitals before the symbol are skipped.
    let s = s.trim_start_matches(|c: char| c.is_ascii_uppercase());
    CURRENCIES
        .iter()
        .find_map(|c| s.strip_prefix(c.0).map(|rest| (c, rest)))
}

fn currency_suffix(s: &str) -> Option<&'static Currency> {
    CURRENCIES.iter().find(|c| c.0 == s)
}

/// An amount without a scale: dollars and cents when there are exactly two decimals.
fn say_units(cur: &Currency, neg: bool, a: &Num, out: &mut Out) {
    if neg {
        out.word("minus");
    }
    let cents = a.frac.filter(|f| f.len() == 2 && !cur.3.is_empty());
    let whole = numbers::value(a.int);
    match (cents, whole) {
        (Some(c), w) => {
            let c = numbers::value(c).unwrap_or(0);
            let w = w.unwrap_or(0);
            if w > 0 || c == 0 {
                numbers::integer(if a.int.is_empty() { "0" } else { a.int }, out);
                out.word(if w == 1 { cur.1 } else { cur.2 });
            }
            if c > 0 {
                if w > 0 {
                    out.word("and");
                }
                numbers::cardinal(c, out);
                out.word(if c == 1 { cur.3 } else { cur.4 });
            }
        }
        (None, _) => {
            a.read(out);
            out.word(if a.is_one() { cur.1 } else { cur.2 });
        }
    }
}

/// Reads money at the current chunk.
pub(crate) fn read(cx: &Ctx, out: &mut Out) -> Option<Took> {
    let core = cx.cur().core;
    let (neg_sign, body) = match core.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, core),
    };
    // Symbol first ("$5"), or after ("5€", "5 €"), or cents ("50c").
    let (cur, neg, a, b, rest, mut took) = if let Some((cur, after)) = currency_prefix(body) {
        let (neg, a, b, n) = amount(after)?;
        let rest = &after[n..];
        // "$5-$10": the second symbol repeats.
        let (b, rest) = match (
            b,
            rest.strip_prefix('-').and_then(|r| r.strip_prefix(cur.0)),
        ) {
            (None, Some(r)) => match numbers::parse(r) {
                Some((second, m)) => (Some(second), &r[m..]),
                None => (None, rest),
            },
            (b, _) => (b, rest),
        };
        (cur, neg || neg_sign, a, b, rest, 1)
    } else {
        let (neg, a, b, n) = amount(core)?;
        let rest = &core[n..];
        if matches!(rest, "c" | "¢") && a.frac.is_none() && b.is_none() {
            if neg {
                out.word("minus");
            }
            a.read(out);
            out.word(if a.is_one() { "cent" } else { "cents" });
            return Some(Took::chunks(1));
        }
        match currency_suffix(rest) {
            Some(cur) => (cur, neg, a, b, "", 1),
            None if rest.is_empty() => (currency_suffix(cx.next()?.core)?, neg, a, b, "", 2),
            None => return None,
        }
    };
    // "$1.99/lb": a price per unit.
    let per = rest.strip_prefix('/').and_then(units::per);
    let rest = if per.is_some() { "" } else { rest };
    let glued = (!rest.is_empty()).then(|| scale(rest, true));
    let sc = match glued {
        Some(None) => return None,
        Some(s) => s,
        None => match cx
            .ahead(took)
            .filter(|_| took == 1 && cx.cur().trail.is_empty())
        {
            Some(n) => scale(n.core, false).inspect(|_| took += 1),
            None => None,
        },
    };
    match (sc, b) {
        (Some(sc), b) => {
            say_amount(neg, &a, b.as_ref(), out);
            out.word(sc);
            out.word(cur.2);
        }
        (None, Some(b)) => {
            say_amount(neg, &a, Some(&b), out);
            out.word(cur.2);
        }
        (None, None) => say_units(cur, neg, &a, out),
    }
    if let Some(u) = per {
        out.word("per");
        out.words(u);
    }
    Some(Took::chunks(took))
}
