//! Roman numerals, read only where context says they are numbers: after a word like "War",
//! "Chapter" or "Part" as a cardinal ("World War II" → World War two), after a name as a
//! regnal ordinal ("Henry VIII" → Henry the eighth). "I" alone stays the pronoun unless the
//! context is unmistakable ("World War I", "Queen Elizabeth I").

use super::ctx::{capitalised, Ctx, Took};
use super::numbers::{cardinal, ordinal};
use super::out::Out;

/// Words after which a numeral is a cardinal.
const COUNTED: &[&str] = &[
    "war",
    "chapter",
    "part",
    "volume",
    "vol",
    "book",
    "act",
    "scene",
    "phase",
    "stage",
    "class",
    "type",
    "level",
    "title",
    "article",
    "section",
    "appendix",
    "episode",
    "season",
    "bowl",
    "apollo",
    "rocky",
    "fantasy",
    "league",
    "tier",
    "grade",
    "division",
    "mark",
    "mk",
    "version",
    "game",
    "round",
    "super",
    "gen",
    "generation",
    "series",
    "psalm",
    "canto",
    "schedule",
];

/// The value of a canonical numeral in capitals (1..=3999), else `None`.
pub(crate) fn value(s: &str) -> Option<u64> {
    const SYMBOLS: [(u64, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    if s.is_empty() || s.len() > 15 {
        return None;
    }
    let mut rest = s;
    let mut n = 0;
    for (v, sym) in SYMBOLS {
        while let Some(r) = rest.strip_prefix(sym) {
            rest = r;
            n += v;
        }
    }
    if !rest.is_empty() || n == 0 || n > 3999 {
        return None;
    }
    // Canonical only: writing the value back gives the same letters ("IIII", "XCX" fail).
    let (mut again, mut m) = (s, n);
    for (v, sym) in SYMBOLS {
        while m >= v {
            again = again.strip_prefix(sym)?;
            m -= v;
        }
    }
    again.is_empty().then_some(n)
}

/// Reads the current chunk as a numeral if its context allows.
pub(crate) fn read(cx: &Ctx, out: &mut Out) -> Option<Took> {
    let cur = cx.cur();
    let n = value(cur.core)?;
    // Single letters other than I and V are too often letters ("Malcolm X", "Type C").
    if cur.core.len() == 1 && !matches!(cur.core, "I" | "V" | "X") {
        return None;
    }
    let prev = cx
        .behind(1)
        .filter(|p| matches!(p.trail, "" | ".") && cur.lead.is_empty())?;
    if COUNTED.iter().any(|w| w.eq_ignore_ascii_case(prev.core)) {
        cardinal(n, out);
        return Some(Took::chunks(1));
    }
    if !capitalised(prev.core) || !prev.trail.is_empty() || cur.core == "X" {
        return None;
    }
    // A one-letter numeral needs the name not to open the sentence ("When I"), and "I" two
    // names before it ("Queen Elizabeth I").
    let before = cx.behind(2).filter(|b| !b.trail.contains(['.', '!', '?']));
    let ok = match cur.core.len() {
        1 if n == 1 => before.is_some_and(|b| capitalised(b.core)),
        1 => before.is_some(),
        _ => true,
    };
    if !ok {
        return None;
    }
    out.word("the");
    ordinal(n, out);
    Some(Took::chunks(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_numerals_only() {
        assert_eq!(value("VIII"), Some(8));
        assert_eq!(value("XIV"), Some(14));
        assert_eq!(value("MCMLXXXIV"), Some(1984));
        assert_eq!(value("MMMCMXCIX"), Some(3999));
        for bad in [
            "IIII", "VV", "IC", "XM", "", "vi", "DID", "IIV", "XCX", "IXIX",
        ] {
            assert_eq!(value(bad), None, "{bad}");
        }
    }
}
