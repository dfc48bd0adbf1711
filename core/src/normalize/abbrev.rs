//! Abbreviations: titles before a name ("Mr.", "Dr." → doctor), "St."/"Dr." as saint/doctor
//! before a name and street/drive after one, Latin ("e.g." → for example, "etc."), company
//! words ("Inc."), words only before a number ("No. 5" → number five), months and days, and
//! dotted initials ("U.S." → U S, "J. Smith"). An abbreviation's period is not spoken, except
//! where it also ends the sentence.

use super::acronyms::spell;
use super::ctx::{capitalised, starts_upper, Ctx, Took};
use super::out::Out;
use super::roman;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Before a name (or a date): the period never ends a sentence.
    Title,
    /// May end a sentence.
    Plain,
    /// Only before a number ("No. 5", "pp. 10-20").
    Counted,
    /// Before a name the first word, after one the second ("St.": saint / street).
    Place(&'static str),
}
use Kind::*;

/// Abbreviation (without its period), expansion, kind, whether it needs the period.
const TABLE: &[(&str, &str, Kind, bool)] = &[
    ("Mr", "mister", Title, false),
    ("Mrs", "missus", Title, false),
    ("Ms", "miz", Title, false),
    ("Dr", "doctor", Place("drive"), false),
    ("St", "saint", Place("street"), false),
    ("Prof", "professor", Title, true),
    ("Sr", "senior", Plain, true),
    ("Jr", "junior", Plain, true),
    ("Gen", "general", Title, true),
    ("Gov", "governor", Title, true),
    ("Sen", "senator", Title, true),
    ("Rep", "representative", Title, true),
    ("Capt", "captain", Title, true),
    ("Col", "colonel", Title, true),
    ("Lt", "lieutenant", Title, true),
    ("Sgt", "sergeant", Title, true),
    ("Rev", "reverend", Title, true),
    ("Hon", "honorable", Title, true),
    ("Pres", "president", Title, true),
    ("Mt", "mount", Title, true),
    ("Ft", "fort", Title, true),
    ("Ave", "avenue", Plain, true),
    ("Blvd", "boulevard", Plain, true),
    ("Rd", "road", Plain, true),
    ("Ln", "lane", Plain, true),
    ("Hwy", "highway", Plain, true),
    ("Apt", "apartment", Plain, true),
    ("vs", "versus", Title, false),
    ("etc", "et cetera", Plain, false),
    ("e.g", "for example", Title, true),
    ("i.e", "that is", Title, true),
    ("cf", "compare", Title, true),
    ("approx", "approximately", Title, true),
    ("dept", "department", Plain, true),
    ("Inc", "incorporated", Plain, true),
    ("Ltd", "limited", Plain, true),
    ("Co", "company", Plain, true),
    ("Corp", "corporation", Plain, true),
    ("Bros", "brothers", Plain, true),
    ("a.k.a", "also known as", Title, false),
    ("w/", "with", Title, false),
    ("w/o", "without", Title, false),
    ("No", "number", Counted, true),
    ("Nos", "numbers", Counted, true),
    ("fig", "figure", Counted, true),
    ("vol", "volume", Counted, true),
    ("ch", "chapter", Counted, true),
    ("p", "page", Counted, true),
    ("pp", "pages", Counted, true),
    ("ca", "circa", Counted, true),
    ("Jan", "January", Plain, true),
    ("Feb", "February", Plain, true),
    ("Mar", "March", Plain, true),
    ("Apr", "April", Plain, true),
    ("Jun", "June", Plain, true),
    ("Jul", "July", Plain, true),
    ("Aug", "August", Plain, true),
    ("Sep", "September", Plain, true),
    ("Sept", "September", Plain, true),
    ("Oct", "October", Plain, true),
    ("Nov", "November", Plain, true),
    ("Dec", "December", Plain, true),
    ("Mon", "Monday", Title, true),
    ("Tue", "Tuesday", Title, true),
    ("Tues", "Tuesday", Title, true),
    ("Wed", "Wednesday", Title, true),
    ("Thu", "Thursday", Title, true),
    ("Thurs", "Thursday", Title, true),
    ("Fri", "Friday", Title, true),
];

/// A name or number stands there (for "St." and "Dr.": "Main St.", "5th St.").
fn name_or_number(s: &str) -> bool {
    capitalised(s) || s.starts_with(|c: char| c.is_ascii_digit())
}

/// "U.S", "Ph.D", "U.S.A": letters (one or two each) between single dots.
fn dotted_initials(s: &str) -> bool {
    s.contains('.')
        && s.split('.')
            .all(|p| (1..=2).contains(&p.chars().count()) && p.chars().all(char::is_alphabetic))
}

/// Reads an abbreviation at the current chunk.
pub(crate) fn read(cx: &Ctx, out: &mut Out) -> Option<Took> {
    let cur = cx.cur();
    let dotted = cur.dotted();
    let next = cx
        .ahead(1)
        .map(|n| n.core)
        .filter(|_| matches!(cur.trail, "" | "."));
    let next_name = next.is_some_and(starts_upper);
    let ends = cx.period_ends_sentence(0);
    let keep = |kind_ends: bool| Took {
        chunks: 1,
        period: dotted && cx.ahead(1).is_some() && !(kind_ends && ends),
    };
    let entry = TABLE.iter().find(|e| {
        let same = if e.2 == Title || matches!(e.2, Place(_)) {
            e.0 == cur.core
        } else {
            e.0.eq_ignore_ascii_case(cur.core)
        };
        same && (dotted || !e.3)
    });
    if let Some(&(_, word, kind, _)) = entry {
        match kind {
            Title => {
                // Undotted titles ("Mr Smith", "vs") still want something after them.
                if !dotted && next.is_none() {
                    return None;
                }
                out.words(word);
                return Some(keep(false));
            }
            Plain => {
                out.words(word);
                return Some(keep(true));
            }
            Counted => {
                let n = next?;
                if !(n.starts_with(|c: char| c.is_ascii_digit() || c == '#')
                    || (n.len() > 1 && roman::value(n).is_some()))
                {
                    return None;
                }
                out.words(word);
                return Some(keep(false));
            }
            Place(after) => {
                let prev = cx.behind(1).filter(|p| p.trail.is_empty()).map(|p| p.core);
                let behind_name = prev.is_some_and(name_or_number) && !out.sentence_start();
                if behind_name && (dotted || !next_name) {
                    out.word(after);
                    return Some(keep(true));
                }
                // Before a name, or with nothing to tell: saint, doctor.
                out.word(word);
                return Some(keep(false));
            }
        }
    }
    if dotted && dotted_initials(cur.core) {
        spell(cur.core, out);
        return Some(keep(true));
    }
    // An initial: "J. Smith".
    let one =
        cur.core.chars().count() == 1 && starts_upper(cur.core) && !matches!(cur.core, "I" | "A");
    if dotted && one && next_name {
        spell(cur.core, out);
        return Some(keep(false));
    }
    None
}
