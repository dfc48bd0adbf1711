//! Text normalization: written text in, speakable words out, for the G2P.
//!
//! [`English`] turns numbers, dates, times, money, units, phone numbers, Roman numerals,
//! abbreviations, acronyms, addresses and symbols into words, and cleans up Unicode (quotes,
//! dashes, spaces, zero-width and control characters, emoji, full-width forms).
//!
//! # Output
//! - Words separated by single spaces; the prosody marks `, . ! ? ; :` attached to the word
//!   before them ("Hello, world."). No mark starts the text and no two marks follow each other.
//! - A word holds letters (any script, with combining marks) and inner apostrophes only: no
//!   digits, no hyphens (compounds are split: "twenty two", "well known"), nothing else.
//! - Ordinary words keep their case. Number words are lowercase ("twenty two", "first").
//! - Spelled letters are separate one-letter capital words ("FBI" → "F B I"); a plural or
//!   possessive keeps `'s` on the last letter ("CDs" → "C D's"). A word of two or more letters
//!   is always meant to be said as a word, whatever its case ("NASA").
//! - Brackets become a pause (a comma); quotes and other unspoken punctuation vanish; dashes
//!   between words are a comma; an ellipsis is a comma (a full stop at the end).
//! - The output is deterministic, at most about 40 bytes per input byte, and never panics.
//!
//! # Limits
//! Context is the sentence only; ambiguity is settled by small rules: "1/2" is a fraction but
//! "9/11" two numbers, "St." is saint before a name and street after one, a bare four-digit
//! number from 1100 to 2099 is a year unless a plural noun follows it.

mod abbrev;
mod acronyms;
mod clean;
mod ctx;
mod dates;
mod mixed;
mod money;
mod numbers;
mod numeric;
mod out;
mod phone;
mod roman;
mod symbols;
mod time;
mod tokens;
mod units;
mod web;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use alloc::string::String;
use ctx::{Ctx, Took};
use out::Out;

/// A language's text normalizer.
pub trait Normalizer {
    /// Appends the speakable form of `text` to `out` (after a space if `out` does not end
    /// with one).
    fn normalize_into(&self, text: &str, out: &mut String);

    /// The speakable form of `text`.
    fn normalize(&self, text: &str) -> String {
        let mut s = String::new();
        self.normalize_into(text, &mut s);
        s
    }
}

/// The English (US) normalizer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct English;

impl Normalizer for English {
    fn normalize_into(&self, text: &str, out: &mut String) {
        let cleaned = clean::clean(text);
        let chunks = tokens::chunks(&cleaned);
        let shouting = acronyms::shouting(&chunks);
        let mut o = Out::new(out);
        let mut i = 0;
        while i < chunks.len() {
            let cx = Ctx {
                chunks: &chunks,
                i,
                shouting,
            };
            o.lead(chunks[i].lead);
            let took = read(&cx, &mut o);
            let n = took.chunks.clamp(1, chunks.len() - i);
            let end = i + n == chunks.len();
            o.trail(chunks[i + n - 1].trail, end, took.period);
            i += n;
        }
    }
}

/// Reads the chunk at `cx` (and maybe some after it), trying each reader in turn.
fn read(cx: &Ctx, out: &mut Out) -> Took {
    let core = cx.cur().core;
    if core.is_empty() {
        return Took::chunks(1);
    }
    if web::is_address(core) {
        web::read(core, out);
        return Took::chunks(1);
    }
    let readers: [fn(&Ctx, &mut Out) -> Option<Took>; 8] = [
        phone::read,
        dates::read,
        time::read,
        money::read,
        units::read,
        numeric::read,
        abbrev::read,
        roman::read,
    ];
    if let Some(took) = readers.iter().find_map(|r| r(cx, out)) {
        return took;
    }
    if symbols::separator(core) {
        // "10 - 20" is a range; elsewhere a dash or bar is a pause.
        let number = |c: Option<tokens::Chunk>| {
            c.is_some_and(|c| c.core.starts_with(|x: char| x.is_ascii_digit()))
        };
        if core == "-" && number(cx.prev()) && number(cx.next()) {
            out.word("to");
        } else {
            out.pause();
        }
        return Took::chunks(1);
    }
    mixed::read(core, cx.shouting, out);
    Took::chunks(1)
}
