//! Quantities: a number or range with a unit, glued ("12kg", "5°C", "50%", "3x") or apart
//! ("5 km", "100 mph", "2 GB"). Units are matched exactly (case matters: "m" is metres, "M"
//! million). Abbreviations that are also words ("in", "a") only count when glued.

use super::ctx::{Ctx, Took};
use super::numbers::{self, Num};
use super::out::Out;

/// A unit: abbreviation, singular, plural, and whether it may stand apart from its number.
type Unit = (&'static str, &'static str, &'static str, bool);

const UNITS: &[Unit] = &[
    ("%", "percent", "percent", true),
    ("percent", "percent", "percent", true),
    ("mm", "millimeter", "millimeters", true),
    ("cm", "centimeter", "centimeters", true),
    ("m", "meter", "meters", true),
    ("km", "kilometer", "kilometers", true),
    ("nm", "nanometer", "nanometers", true),
    ("μm", "micrometer", "micrometers", true),
    ("m2", "square meter", "square meters", true),
    ("km2", "square kilometer", "square kilometers", true),
    ("cm2", "square centimeter", "square centimeters", true),
    ("m3", "cubic meter", "cubic meters", true),
    ("cm3", "cubic centimeter", "cubic centimeters", true),
    ("in", "inch", "inches", false),
    ("ft", "foot", "feet", true),
    ("yd", "yard", "yards", true),
    ("mi", "mile", "miles", true),
    ("mg", "milligram", "milligrams", true),
    ("g", "gram", "grams", true),
    ("kg", "kilogram", "kilograms", true),
    ("lb", "pound", "pounds", true),
    ("lbs", "pounds", "pounds", true),
    ("oz", "ounce", "ounces", true),
    ("ml", "milliliter", "milliliters", true),
    ("mL", "milliliter", "milliliters", true),
    ("l", "liter", "liters", false),
    ("L", "liter", "liters", true),
    ("gal", "gallon", "gallons", true),
    ("mph", "mile per hour", "miles per hour", true),
    ("kph", "kilometer per hour", "kilometers per hour", true),
    ("km/h", "kilometer per hour", "kilometers per hour", true),
    ("kmh", "kilometer per hour", "kilometers per hour", true),
    ("m/s", "meter per second", "meters per second", true),
    ("°C", "degree Celsius", "degrees Celsius", true),
    ("°F", "degree Fahrenheit", "degrees Fahrenheit", true),
    ("℃", "degree Celsius", "degrees Celsius", true),
    ("℉", "degree Fahrenheit", "degrees Fahrenheit", true),
    ("°", "degree", "degrees", true),
    ("KB", "kilobyte", "kilobytes", true),
    ("kB", "kilobyte", "kilobytes", true),
    ("MB", "megabyte", "megabytes", true),
    ("GB", "gigabyte", "gigabytes", true),
    ("TB", "terabyte", "terabytes", true),
    ("PB", "petabyte", "petabytes", true),
    ("kb", "kilobit", "kilobits", true),
    ("Mb", "megabit", "megabits", true),
    ("Gb", "gigabit", "gigabits", true),
    ("kbps", "kilobit per second", "kilobits per second", true),
    ("Mbps", "megabit per second", "megabits per second", true),
    ("Gbps", "gigabit per second", "gigabits per second", true),
    ("Hz", "hertz", "hertz", true),
    ("kHz", "kilohertz", "kilohertz", true),
    ("MHz", "megahertz", "megahertz", true),
    ("GHz", "gigahertz", "gigahertz", true),
    ("W", "watt", "watts", true),
    ("kW", "kilowatt", "kilowatts", true),
    ("MW", "megawatt", "megawatts", true),
    ("kWh", "kilowatt hour", "kilowatt hours", true),
    ("V", "volt", "volts", false),
    ("mA", "milliamp", "milliamps", true),
    ("mAh", "milliamp hour", "milliamp hours", true),
    ("ms", "millisecond", "milliseconds", true),
    ("μs", "microsecond", "microseconds", true),
    ("ns", "nanosecond", "nanoseconds", true),
    ("sec", "second", "seconds", true),
    ("secs", "seconds", "seconds", true),
    ("min", "minute", "minutes", true),
    ("mins", "minutes", "minutes", true),
    ("h", "hour", "hours", false),
    ("hr", "hour", "hours", true),
    ("hrs", "hours", "hours", true),
    ("yr", "year", "years", true),
    ("mo", "month", "months", false),
    ("wk", "week", "weeks", true),
    ("yrs", "years", "years", true),
    ("px", "pixel", "pixels", true),
    ("dB", "decibel", "decibels", true),
    ("kcal", "kilocalorie", "kilocalories", true),
    ("cal", "calorie", "calories", true),
    ("x", "times", "times", false),
    ("×", "times", "times", true),
    ("M", "million", "million", false),
    ("bn", "billion", "billion", true),
    ("tn", "trillion", "trillion", false),
    ("k", "K", "K", false),
    ("K", "K", "K", false),
    ("USD", "dollar", "dollars", true),
    ("EUR", "euro", "euros", true),
    ("GBP", "pound", "pounds", true),
    ("JPY", "yen", "yen", true),
    ("CHF", "franc", "francs", true),
];

/// The unit written `s`; `apart` when it stands in its own chunk.
fn find(s: &str, apart: bool) -> Option<&'static Unit> {
    UNITS.iter().find(|u| u.0 == s && (u.3 || !apart))
}

/// What follows "per" in "$2/lb", "$10/hour": a unit's singular, or a lowercase word.
pub(crate) fn per(s: &str) -> Option<&str> {
    match find(s, false) {
        Some(u) => Some(u.1),
        None => (!s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase())).then_some(s),
    }
}

/// A number or a range of two ("5-10"), with an optional sign, at the start of `s`:
/// (minus, first, second, bytes taken).
pub(crate) fn amount(s: &str) -> Option<(bool, Num<'_>, Option<Num<'_>>, usize)> {
    let neg = s.starts_with('-');
    let start = usize::from(neg);
    let (a, n) = numbers::parse(&s[start..])?;
    let mut end = start + n;
    let mut b = None;
    if s[end..].starts_with('-') {
        if let Some((second, m)) = numbers::parse(&s[end + 1..]) {
            b = Some(second);
            end += 1 + m;
        }
    }
    Some((neg, a, b, end))
}

/// Reads the amount; a second number makes a range ("five to ten").
pub(crate) fn say_amount(neg: bool, a: &Num, b: Option<&Num>, out: &mut Out) {
    if neg {
        out.word("minus");
    }
    a.read(out);
    if let Some(b) = b {
        out.word("to");
        b.read(out);
    }
}

/// Reads "12kg", "5-10 km", "50%", "-3°C".
pub(crate) fn read(cx: &Ctx, out: &mut Out) -> Option<Took> {
    let core = cx.cur().core;
    let (neg, a, b, n) = amount(core)?;
    let rest = &core[n..];
    let (unit, took) = if rest.is_empty() {
        (find(cx.next()?.core, true)?, 2)
    } else {
        (
            find(rest, false).or_else(|| find(rest.strip_prefix('-')?, false))?,
            1,
        )
    };
    say_amount(neg, &a, b.as_ref(), out);
    out.words(if b.is_none() && a.is_one() {
        unit.1
    } else {
        unit.2
    });
    Some(Took::chunks(took))
}
