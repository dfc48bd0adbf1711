//! Times of day: "3:30 pm" → three thirty P M, "14:05" → fourteen oh five, "14:00" →
//! fourteen hundred, "3:00" → three o'clock, "3pm", "11 a.m.", "9:15:30".

use super::acronyms::spell;
use super::ctx::{Ctx, Took};
use super::numbers::{self, cardinal};
use super::out::Out;

/// "am"/"pm" in any usual spelling, as the letters to say.
fn meridiem(s: &str) -> Option<&'static str> {
    match s {
        "am" | "AM" | "a.m" | "A.M" | "a.m." => Some("AM"),
        "pm" | "PM" | "p.m" | "P.M" | "p.m." => Some("PM"),
        _ => None,
    }
}

/// Hours, minutes, maybe seconds.
type Hms = (u64, u64, Option<u64>);

/// "H:MM" or "H:MM:SS".
fn clock(s: &str) -> Option<Hms> {
    let mut parts = s.split(':');
    let h = parts.next()?;
    let m = parts.next()?;
    let sec = parts.next();
    let two = |p: &str| {
        (p.len() == 2)
            .then(|| numbers::value(p))?
            .filter(|v| *v < 60)
    };
    let hour = (1..=2)
        .contains(&h.len())
        .then(|| numbers::value(h))?
        .filter(|v| *v <= 24)?;
    let secs = match sec {
        Some(x) => Some(two(x)?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((hour, two(m)?, secs))
}

fn say(h: u64, m: u64, s: Option<u64>, ampm: Option<&str>, out: &mut Out) {
    cardinal(h, out);
    match m {
        0 if ampm.is_some() => {}
        0 if (1..=12).contains(&h) => out.word("o'clock"),
        0 => out.word("hundred"),
        1..=9 => {
            out.word("oh");
            cardinal(m, out);
        }
        _ => cardinal(m, out),
    }
    if let Some(s) = s {
        out.word("and");
        cardinal(s, out);
        out.word(if s == 1 { "second" } else { "seconds" });
    }
    if let Some(x) = ampm {
        spell(x, out);
    }
}

/// A time in one piece ("3:30", "3:30pm", "3pm"; an hour alone only with its am/pm), and
/// whether it had a colon.
fn parse(s: &str) -> Option<(Hms, Option<&'static str>, bool)> {
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (clock_part, glued) = s.split_at(split);
    let ampm = if glued.is_empty() {
        None
    } else {
        Some(meridiem(glued)?)
    };
    let colon = clock_part.contains(':');
    let t = match clock(clock_part) {
        Some(t) => t,
        None if colon => return None,
        None => {
            let h = (1..=2)
                .contains(&clock_part.len())
                .then(|| numbers::value(clock_part))?;
            (h.filter(|h| (1..=12).contains(h))?, 0, None)
        }
    };
    Some((t, ampm, colon))
}

/// Reads a time at the current chunk ("3:30", "3 pm", "10am-2pm").
pub(crate) fn read(cx: &Ctx, out: &mut Out) -> Option<Took> {
    let core = cx.cur().core;
    // A range: both ends must be clearly times.
    if let Some((a, b)) = core.split_once('-') {
        let clear = |x: &str| parse(x).filter(|(_, ampm, colon)| ampm.is_some() || *colon);
        if let (Some((x, xm, _)), Some((y, ym, _))) = (clear(a), clear(b)) {
            say(x.0, x.1, x.2, xm, out);
            out.word("to");
            say(y.0, y.1, y.2, ym, out);
            return Some(Took::chunks(1));
        }
    }
    let (t, glued, colon) = parse(core)?;
    let (ampm, took, last) = match glued {
        Some(g) => (Some(g), 1, cx.cur()),
        None => match cx.next().and_then(|n| meridiem(n.core).map(|x| (x, n))) {
            Some((x, n)) => (Some(x), 2, n),
            None if colon => (None, 1, cx.cur()),
            None => return None,
        },
    };
    say(t.0, t.1, t.2, ampm, out);
    // "p.m." ends with the abbreviation's period; it may also end the sentence.
    let dotted = ampm.is_some() && last.core.contains('.') && last.dotted();
    let period = dotted && !cx.period_ends_sentence(took - 1);
    Some(Took {
        chunks: took,
        period,
    })
}
