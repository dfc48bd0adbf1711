//! Numbers as words: cardinals, ordinals, fraction denominators, years, digit strings and the
//! parsing of a number written with thousands separators and a decimal part.
//!
//! Number words are lowercase; compounds are separate words ("twenty two", never hyphens).
//! Integers of more than [`MAX_DIGITS`] digits are read digit by digit.

use super::out::Out;
use alloc::vec::Vec;

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(u64, &str); 4] = [
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];

/// Longer integers are read digit by digit, so output stays proportional to input.
pub(crate) const MAX_DIGITS: usize = 15;

/// The ordinal of a cardinal's last word ("two" → "second").
fn ordinal_word(w: &'static str) -> &'static str {
    const IRREGULAR: [(&str, &str); 27] = [
        ("zero", "zeroth"),
        ("one", "first"),
        ("two", "second"),
        ("three", "third"),
        ("four", "fourth"),
        ("five", "fifth"),
        ("six", "sixth"),
        ("seven", "seventh"),
        ("eight", "eighth"),
        ("nine", "ninth"),
        ("ten", "tenth"),
        ("eleven", "eleventh"),
        ("twelve", "twelfth"),
        ("thirteen", "thirteenth"),
        ("fourteen", "fourteenth"),
        ("fifteen", "fifteenth"),
        ("sixteen", "sixteenth"),
        ("seventeen", "seventeenth"),
        ("eighteen", "eighteenth"),
        ("nineteen", "nineteenth"),
        ("twenty", "twentieth"),
        ("thirty", "thirtieth"),
        ("forty", "fortieth"),
        ("fifty", "fiftieth"),
        ("sixty", "sixtieth"),
        ("seventy", "seventieth"),
        ("eighty", "eightieth"),
    ];
    const MORE: [(&str, &str); 6] = [
        ("ninety", "ninetieth"),
        ("hundred", "hundredth"),
        ("thousand", "thousandth"),
        ("million", "millionth"),
        ("billion", "billionth"),
        ("trillion", "trillionth"),
    ];
    IRREGULAR
        .iter()
        .chain(MORE.iter())
        .find(|(c, _)| *c == w)
        .map_or(w, |(_, o)| o)
}

fn below_thousand(n: u64, v: &mut Vec<&'static str>) {
    let (h, r) = (n / 100, n % 100);
    if h > 0 {
        v.push(ONES[h as usize]);
        v.push("hundred");
    }
    if r >= 20 {
        v.push(TENS[(r / 10) as usize]);
        if r % 10 > 0 {
            v.push(ONES[(r % 10) as usize]);
        }
    } else if r > 0 || h == 0 {
        v.push(ONES[r as usize]);
    }
}

/// The words of `n` (`n` below 10^15).
fn cardinal_words(mut n: u64, v: &mut Vec<&'static str>) {
    if n == 0 {
        v.push("zero");
        return;
    }
    for (scale, name) in SCALES {
        if n >= scale {
            below_thousand(n / scale, v);
            v.push(name);
            n %= scale;
        }
    }
    if n > 0 {
        below_thousand(n, v);
    }
}

fn push_all(v: &[&str], out: &mut Out) {
    v.iter().for_each(|w| out.word(w));
}

/// "1234" → one thousand two hundred thirty four.
pub(crate) fn cardinal(n: u64, out: &mut Out) {
    let mut v = Vec::new();
    cardinal_words(n, &mut v);
    push_all(&v, out);
}

/// "21" → twenty first.
pub(crate) fn ordinal(n: u64, out: &mut Out) {
    let mut v = Vec::new();
    cardinal_words(n, &mut v);
    if let Some(last) = v.last_mut() {
        *last = ordinal_word(last);
    }
    push_all(&v, out);
}

/// The denominator of a fraction: 2 → half/halves, 4 → quarter(s), else the ordinal.
pub(crate) fn denominator(n: u64, plural: bool, out: &mut Out) {
    match (n, plural) {
        (2, false) => out.word("half"),
        (2, true) => out.word("halves"),
        (4, false) => out.word("quarter"),
        (4, true) => out.word("quarters"),
        _ => {
            ordinal(n, out);
            if plural {
                out.suffix("s");
            }
        }
    }
}

/// A year: 1962 → nineteen sixty two, 1900 → nineteen hundred, 2005 → two thousand five,
/// 1905 → nineteen oh five. Outside 1000..=9999 it is a cardinal.
pub(crate) fn year(n: u64, out: &mut Out) {
    let (hi, lo) = (n / 100, n % 100);
    if !(1000..=9999).contains(&n) || (n % 1000 < 10 && hi % 10 == 0) {
        cardinal(n, out);
    } else if lo == 0 {
        cardinal(hi, out);
        out.word("hundred");
    } else {
        cardinal(hi, out);
        if lo < 10 {
            out.word("oh");
        }
        cardinal(lo, out);
    }
}

/// Plural of a decade's last word: "twenty" → "twenties", "hundred" → "hundreds".
pub(crate) fn decade(n: u64, out: &mut Out) {
    let mut v = Vec::new();
    if (1000..=9999).contains(&n) && !n.is_multiple_of(1000) {
        let (hi, lo) = (n / 100, n % 100);
        cardinal_words(hi, &mut v);
        if lo == 0 {
            v.push("hundred");
        } else {
            cardinal_words(lo, &mut v);
        }
    } else {
        cardinal_words(n, &mut v);
    }
    let last = v.pop().unwrap_or("zero");
    push_all(&v, out);
    match last.strip_suffix('y') {
        Some(stem) => {
            out.word(stem);
            out.suffix("ies");
        }
        None => {
            out.word(last);
            out.suffix("s");
        }
    }
}

/// Reads each ASCII digit of `s` as a word; anything else is skipped.
pub(crate) fn digits(s: &str, out: &mut Out) {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .for_each(|b| out.word(ONES[(b - b'0') as usize]));
}

/// An integer from ASCII digits (commas skipped), if it has at most [`MAX_DIGITS`] digits.
pub(crate) fn value(s: &str) -> Option<u64> {
    let mut n: u64 = 0;
    let mut count = 0;
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => {
                count += 1;
                if count > MAX_DIGITS {
                    return None;
                }
                n = n * 10 + u64::from(b - b'0');
            }
            b',' => {}
            _ => return None,
        }
    }
    (count > 0).then_some(n)
}

/// An integer read as a cardinal, or digit by digit when it is too long or has a leading zero.
pub(crate) fn integer(s: &str, out: &mut Out) {
    match value(s) {
        Some(n) if !(s.len() > 1 && s.starts_with('0')) => cardinal(n, out),
        _ => digits(s, out),
    }
}

/// A number as written: `int` holds digits and, if `grouped`, thousands commas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Num<'a> {
    /// Digits before the point, maybe with commas; empty for ".5".
    pub int: &'a str,
    /// Digits after the point.
    pub frac: Option<&'a str>,
}

impl Num<'_> {
    /// The integer value when there is no decimal part.
    pub(crate) fn whole(&self) -> Option<u64> {
        if self.frac.is_some() {
            return None;
        }
        value(self.int)
    }

    /// Exactly one (singular units).
    pub(crate) fn is_one(&self) -> bool {
        self.int == "1" && self.frac.is_none()
    }

    /// "3.14" → three point one four; ".5" → point five; "1,000" → one thousand.
    pub(crate) fn read(&self, out: &mut Out) {
        if !self.int.is_empty() {
            integer(self.int, out);
        }
        if let Some(f) = self.frac {
            out.word("point");
            digits(f, out);
        }
    }
}

/// The longest number at the start of `s`: digits with optional thousands commas (valid groups
/// of three only) and an optional decimal part. Returns the number and the bytes it took.
pub(crate) fn parse(s: &str) -> Option<(Num<'_>, usize)> {
    let b = s.as_bytes();
    let run = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut end = run(0);
    if end > 0 && end <= 3 {
        // Thousands groups: ",ddd" not followed by another digit.
        while b.get(end) == Some(&b',') && run(end + 1) == 3 {
            end += 4;
        }
    }
    let int = &s[..end];
    if b.get(end) == Some(&b'.') && run(end + 1) > 0 {
        let f = run(end + 1);
        let frac = &s[end + 1..end + 1 + f];
        return Some((
            Num {
                int,
                frac: Some(frac),
            },
            end + 1 + f,
        ));
    }
    (end > 0).then_some((Num { int, frac: None }, end))
}

/// The whole of `s` is one number.
pub(crate) fn parse_all(s: &str) -> Option<Num<'_>> {
    parse(s).filter(|(_, n)| *n == s.len()).map(|(num, _)| num)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::out::render as say;

    #[test]
    fn cardinals() {
        assert_eq!(say(|o| cardinal(0, o)), "zero");
        assert_eq!(say(|o| cardinal(13, o)), "thirteen");
        assert_eq!(say(|o| cardinal(40, o)), "forty");
        assert_eq!(say(|o| cardinal(105, o)), "one hundred five");
        assert_eq!(say(|o| cardinal(2_000, o)), "two thousand");
        assert_eq!(
            say(|o| cardinal(1_234_567, o)),
            "one million two hundred thirty four thousand five hundred sixty seven"
        );
        assert_eq!(
            say(|o| cardinal(7_000_000_000_001, o)),
            "seven trillion one"
        );
    }

    #[test]
    fn ordinals_and_denominators() {
        assert_eq!(say(|o| ordinal(1, o)), "first");
        assert_eq!(say(|o| ordinal(22, o)), "twenty second");
        assert_eq!(say(|o| ordinal(40, o)), "fortieth");
        assert_eq!(say(|o| ordinal(100, o)), "one hundredth");
        assert_eq!(say(|o| ordinal(112, o)), "one hundred twelfth");
        assert_eq!(say(|o| denominator(2, false, o)), "half");
        assert_eq!(say(|o| denominator(4, true, o)), "quarters");
        assert_eq!(say(|o| denominator(8, true, o)), "eighths");
    }

    #[test]
    fn years() {
        assert_eq!(say(|o| year(1962, o)), "nineteen sixty two");
        assert_eq!(say(|o| year(1900, o)), "nineteen hundred");
        assert_eq!(say(|o| year(2005, o)), "two thousand five");
        assert_eq!(say(|o| year(2000, o)), "two thousand");
        assert_eq!(say(|o| year(2026, o)), "twenty twenty six");
        assert_eq!(say(|o| year(1905, o)), "nineteen oh five");
        assert_eq!(say(|o| year(1066, o)), "ten sixty six");
    }

    #[test]
    fn decades() {
        assert_eq!(say(|o| decade(1990, o)), "nineteen nineties");
        assert_eq!(say(|o| decade(1900, o)), "nineteen hundreds");
        assert_eq!(say(|o| decade(2000, o)), "two thousands");
        assert_eq!(say(|o| decade(80, o)), "eighties");
        assert_eq!(say(|o| decade(2010, o)), "twenty tens");
    }

    #[test]
    fn digit_strings_and_long_numbers() {
        assert_eq!(say(|o| integer("007", o)), "zero zero seven");
        assert_eq!(
            say(|o| integer("1234567890123456", o)).split(' ').count(),
            16
        );
        assert_eq!(value("999,999,999,999,999"), Some(999_999_999_999_999));
        assert_eq!(value("1000000000000000"), None);
    }

    #[test]
    fn parsing() {
        assert_eq!(
            parse("1,234.5x"),
            Some((
                Num {
                    int: "1,234",
                    frac: Some("5")
                },
                7
            ))
        );
        assert_eq!(
            parse("1,23"),
            Some((
                Num {
                    int: "1",
                    frac: None
                },
                1
            ))
        );
        assert_eq!(
            parse("12345,678"),
            Some((
                Num {
                    int: "12345",
                    frac: None
                },
                5
            ))
        );
        assert_eq!(
            parse(".5"),
            Some((
                Num {
                    int: "",
                    frac: Some("5")
                },
                2
            ))
        );
        assert_eq!(
            parse("3."),
            Some((
                Num {
                    int: "3",
                    frac: None
                },
                1
            ))
        );
        assert_eq!(parse("x"), None);
        assert_eq!(
            parse_all("3.14").map(|n| say(|o| n.read(o))).as_deref(),
            Some("three point one four")
        );
    }
}
