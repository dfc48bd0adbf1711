//! Words, and whether to say or spell them. An all-caps word is an acronym: spelled as single
//! capital letters ("FBI" → "F B I") unless it is pronounceable ("NASA", "NATO", "UNESCO"),
//! judged by its consonant clusters and vowels, with exception lists either way. Lowercase
//! words with no vowel ("mp", "pdf") are spelled too. Plurals and possessives keep their `'s`
//! on the last letter ("CDs" → "C D's"). Camel case with a capital run splits ("OpenAI" →
//! "Open A I"). In shouting text (mostly capitals) capital words are words unless listed.

use super::out::Out;
use super::tokens::Chunk;

/// Pronounceable, yet spelled.
const SPELLED: &[&str] = &[
    "USA", "CIA", "MIT", "GOP", "CEO", "EPA", "FAQ", "AOL", "IOU", "ICU", "IRS", "SUV", "DUI",
    "UCLA", "URL", "API", "SOS", "VIP", "NIH", "DIY", "UFO", "IPO", "UAE", "UPS", "AKA", "OMG",
    "UTC", "ISP", "OEM", "EU", "UN", "UK", "AI", "UI", "OS", "ID", "IQ", "EST", "EDT", "PST",
    "PDT", "CST", "CDT", "ETA", "ESA", "IEEE", "IRA", "IOS", "ATM", "SEO", "CTO", "CFO", "COO",
    "USB", "LED", "DVD", "DNA", "RNA", "HIV", "TBA", "TBD", "RIP", "BTW", "FYI",
];

/// Three-letter capitals read as words in ordinary text (three letters are spelled by default).
const WORDS3: &[&str] = &[
    "RAM", "ROM", "SIM", "GIF", "DOS", "LAN", "WAN", "MAC", "PAC", "TED", "MOD", "LOL", "NOT",
    "AND", "THE", "YOU", "BUT", "ALL", "ANY", "NOW", "NEW", "BIG", "HOT", "WAY", "TOO", "WHY",
    "HOW", "YES", "OUT", "OFF", "OUR", "HER", "HIS", "SHE", "HIM", "WAS", "ARE", "CAN", "DID",
    "GET", "GOT", "HAS", "HAD", "LET", "ONE", "TWO", "SEE", "SAY", "DAY", "OLD", "BAD", "SAD",
    "MAD", "FUN", "WOW", "FOR", "NOR", "YET", "ASK", "TRY", "OWN", "WAR",
];

/// Two-letter capitals read as words in ordinary text (emphasis: "this is NO joke").
const WORDS2: &[&str] = &[
    "NO", "SO", "DO", "GO", "TO", "IS", "IN", "ON", "BE", "WE", "HE", "ME", "MY", "UP", "BY", "OR",
    "OF", "IF", "AN", "AS", "OH", "HI",
];

/// Words with no vowel that are still words.
const INTERJECTIONS: &[&str] = &[
    "hmm", "hm", "mm", "mmm", "shh", "sh", "brr", "grr", "zzz", "psst", "pst", "tsk", "nth",
    "pfft", "ssh", "mhm", "hmph", "pssst", "cwm", "crwth",
];

const ONSETS: &[&str] = &[
    "bl", "br", "ch", "cl", "cr", "dr", "dw", "fl", "fr", "gl", "gr", "kl", "kn", "kr", "ph", "pl",
    "pr", "sc", "sh", "sk", "sl", "sm", "sn", "sp", "st", "sw", "th", "tr", "tw", "wh", "wr",
    "chr", "sch", "scr", "shr", "spl", "spr", "str", "thr",
];

const CODAS: &[&str] = &[
    "ch", "ck", "ct", "ft", "ld", "lf", "lk", "lm", "lp", "lt", "mp", "nd", "ng", "nk", "ns", "nt",
    "ps", "pt", "rb", "rd", "rf", "rg", "rk", "rl", "rm", "rn", "rp", "rs", "rt", "sh", "sk", "sp",
    "ss", "st", "th", "ts", "ll", "ff", "zz", "gh", "wn", "ws", "xt", "ds", "nch", "nds", "nts",
    "rst", "rth", "ght", "tch", "lts", "nks", "rld", "nth", "mpt",
];

fn is_vowel(w: &[u8], i: usize) -> bool {
    match w[i] {
        b'a' | b'e' | b'i' | b'o' | b'u' => true,
        b'y' => i > 0,
        _ => false,
    }
}

/// Can `w` (ASCII letters) be read as a word? Some vowel, an English-like onset and coda, no
/// more than three consonants or two vowels in a row.
pub(crate) fn pronounceable(w: &str) -> bool {
    if !w.bytes().all(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    let mut buf = [0u8; 24];
    if w.len() > buf.len() {
        return false;
    }
    let l = &mut buf[..w.len()];
    l.copy_from_slice(w.as_bytes());
    l.make_ascii_lowercase();
    // A plural "s" after a consonant is not part of the coda ("WORLDS").
    let l = match &*l {
        [stem @ .., c, b's'] if stem.len() >= 2 && !b"aeiou".contains(c) => &l[..l.len() - 1],
        all => all,
    };
    let vowels: usize = (0..l.len()).filter(|&i| is_vowel(l, i)).count();
    let (Some(first), Some(last)) = (
        (0..l.len()).find(|&i| is_vowel(l, i)),
        (0..l.len()).rev().find(|&i| is_vowel(l, i)),
    ) else {
        return false;
    };
    let cluster_ok =
        |c: &[u8], list: &[&str]| c.len() <= 1 || list.iter().any(|x| x.as_bytes() == c);
    let (mut cons, mut vows) = (0, 0);
    for i in 0..l.len() {
        if is_vowel(l, i) {
            vows += 1;
            cons = 0;
        } else {
            cons += 1;
            vows = 0;
        }
        if cons > 3 || vows > 2 {
            return false;
        }
    }
    vowels > 0 && cluster_ok(&l[..first], ONSETS) && cluster_ok(&l[last + 1..], CODAS)
}

/// Each letter as a capital single-letter word.
pub(crate) fn spell(w: &str, out: &mut Out) {
    let mut b = [0u8; 4];
    for c in w.chars().filter(|c| c.is_alphabetic()) {
        for u in c.to_uppercase() {
            out.word(u.encode_utf8(&mut b));
        }
    }
}

fn listed(list: &[&str], w: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(w))
}

/// An all-caps `w` (ASCII): spelled or said. `tail` ("s", "'s") is glued on after.
fn acronym(w: &str, tail: &str, shouting: bool, out: &mut Out) {
    let say = if w == "OK" {
        out.word("okay");
        out.suffix(tail);
        return;
    } else if listed(SPELLED, w) || w.len() < 2 {
        false
    } else if shouting {
        pronounceable(w) || (w.len() == 2 && w.bytes().any(|b| b"AEIOUY".contains(&b)))
    } else {
        match w.len() {
            2 => listed(WORDS2, w),
            3 => listed(WORDS3, w),
            _ => pronounceable(w),
        }
    };
    if say {
        out.word(w);
        out.suffix(tail);
    } else {
        spell(w, out);
        out.suffix(if tail.is_empty() { "" } else { "'s" });
    }
}

/// A lowercase or capitalised word: spelled when it has no vowel ("mp", "pdf").
fn plain(w: &str, out: &mut Out) {
    let ascii = w.bytes().all(|b| b.is_ascii_alphabetic());
    let no_vowel = !w.bytes().any(|b| b"aeiouyAEIOUY".contains(&b));
    if ascii && no_vowel && w.len() >= 2 && !listed(INTERJECTIONS, w) {
        spell(w, out);
    } else {
        out.word(w);
    }
}

/// Mixed-case words that are spelled.
fn special(w: &str) -> bool {
    matches!(w, "PhD" | "PhDs" | "iOS" | "IoT" | "TVs" | "PCs")
}

/// Reads a word: letters with maybe inner apostrophes ("don't", "FBI's", "CDs").
pub(crate) fn word(w: &str, shouting: bool, out: &mut Out) {
    let (base, poss) = match w.len().checked_sub(2).filter(|&i| w.is_char_boundary(i)) {
        Some(i) if w[i..].eq_ignore_ascii_case("'s") => (&w[..i], &w[i..]),
        _ => (w, ""),
    };
    if base.is_empty() {
        return;
    }
    if special(base) {
        spell(base.trim_end_matches('s'), out);
        out.suffix(if base.ends_with('s') || !poss.is_empty() {
            "'s"
        } else {
            ""
        });
        return;
    }
    if !base.bytes().all(|b| b.is_ascii_alphabetic()) {
        // Apostrophes inside ("rock'n'roll"), or letters outside ASCII: as written.
        out.word(w);
        return;
    }
    let upper = |b: u8| b.is_ascii_uppercase();
    let b = base.as_bytes();
    if b.len() >= 2 && b.iter().all(|&c| upper(c)) {
        return acronym(base, poss, shouting, out);
    }
    if b.len() >= 3 && b[b.len() - 1] == b's' && b[..b.len() - 1].iter().all(|&c| upper(c)) {
        return acronym(&base[..base.len() - 1], "s", shouting, out);
    }
    // Camel case: split around runs of two or more capitals.
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if upper(b[i]) && b.get(i + 1).is_some_and(|&c| upper(c)) {
            let mut j = i;
            while j < b.len() && upper(b[j]) {
                j += 1;
            }
            let plural = j + 1 == b.len() && b[j] == b's';
            // The last capital of "HTMLElement" starts the next word.
            let end = if j < b.len() && !plural { j - 1 } else { j };
            if end - i >= 2 {
                if start < i {
                    plain(&base[start..i], out);
                }
                acronym(&base[i..end], if plural { "s" } else { "" }, shouting, out);
                i = if plural { b.len() } else { end };
                start = i;
                continue;
            }
        }
        i += 1;
    }
    if start < b.len() {
        plain(&base[start..], out);
    }
    out.suffix(poss);
}

/// Whether the text is shouted: at least three words in capitals and few in lowercase.
pub(crate) fn shouting(chunks: &[Chunk]) -> bool {
    let (mut caps, mut lower) = (0, 0);
    for w in chunks
        .iter()
        .map(|c| c.core)
        .filter(|w| w.len() >= 2 && w.chars().all(char::is_alphabetic))
    {
        if w.chars().all(char::is_uppercase) {
            caps += 1;
        } else if w.chars().any(char::is_lowercase) {
            lower += 1;
        }
    }
    caps >= 3 && caps > 2 * lower
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::out::render;
    use alloc::string::String;

    fn say(w: &str, shouting: bool) -> String {
        render(|o| word(w, shouting, o))
    }

    #[test]
    fn pronounceability() {
        for w in [
            "NASA", "NATO", "UNESCO", "UNICEF", "AIDS", "COVID", "LASER", "SCUBA", "IKEA", "OPEC",
        ] {
            assert!(pronounceable(w), "{w}");
        }
        for w in [
            "FBI", "HTML", "CNN", "BBC", "NAACP", "LGBT", "NSA", "HTTP", "SQL", "XKCD",
        ] {
            assert!(!pronounceable(w), "{w}");
        }
    }

    #[test]
    fn acronyms_spelled_or_said() {
        assert_eq!(say("FBI", false), "F B I");
        assert_eq!(say("NASA", false), "NASA");
        assert_eq!(say("USA", false), "U S A");
        assert_eq!(say("TV", false), "T V");
        assert_eq!(say("OK", false), "okay");
        assert_eq!(say("NOT", false), "NOT");
        assert_eq!(say("ABC", false), "A B C");
    }

    #[test]
    fn plurals_and_possessives() {
        assert_eq!(say("CDs", false), "C D's");
        assert_eq!(say("URLs", false), "U R L's");
        assert_eq!(say("FBI's", false), "F B I's");
        assert_eq!(say("NASA's", false), "NASA's");
        assert_eq!(say("PhD", false), "P H D");
    }

    #[test]
    fn camel_case_and_lowercase() {
        assert_eq!(say("OpenAI", false), "Open A I");
        assert_eq!(say("ChatGPT", false), "Chat G P T");
        assert_eq!(say("HTMLElement", false), "H T M L Element");
        assert_eq!(say("iPhone", false), "iPhone");
        assert_eq!(say("McDonald's", false), "McDonald's");
        assert_eq!(say("mp", false), "M P");
        assert_eq!(say("hmm", false), "hmm");
        assert_eq!(say("rhythm", false), "rhythm");
        assert_eq!(say("don't", false), "don't");
        assert_eq!(say("café", false), "café");
    }

    #[test]
    fn shouting_reads_capitals_as_words() {
        assert_eq!(say("STOP", true), "STOP");
        assert_eq!(say("IS", true), "IS");
        assert_eq!(say("THE", true), "THE");
        assert_eq!(say("FBI", true), "F B I");
        assert_eq!(say("CIA", true), "C I A");
        assert_eq!(say("IS", false), "IS");
        assert_eq!(say("US", false), "U S");
    }
}
