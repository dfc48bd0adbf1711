//! Property tests: any text, however strange, normalizes without panicking, to a bounded,
//! deterministic output made only of words, single spaces and prosody marks.

use super::{English, Normalizer};
use alloc::string::String;
use proptest::prelude::*;
use unicode_normalization::char::is_combining_mark;

/// Output bytes allowed per input byte (plus a constant).
const GROWTH: usize = 40;

fn well_formed(out: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !out.starts_with(' ') && !out.ends_with(' ') && !out.contains("  "),
        "{out:?}"
    );
    for w in out.split(' ').filter(|w| !w.is_empty()) {
        let body = w.trim_end_matches([',', '.', '!', '?', ';', ':']);
        prop_assert!(w.len() - body.len() <= 1, "two marks: {out:?}");
        prop_assert!(!body.is_empty(), "a mark alone: {out:?}");
        prop_assert!(
            body.chars()
                .all(|c| c.is_alphabetic() || is_combining_mark(c) || c == '\''),
            "not a word: {w:?} in {out:?}"
        );
    }
    Ok(())
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let out = English.normalize(text);
    prop_assert!(
        out.len() <= GROWTH * text.len() + 64,
        "{} bytes from {text:?}",
        out.len()
    );
    prop_assert_eq!(&out, &English.normalize(text));
    well_formed(&out)
}

/// Text made from the characters normalizers trip over.
fn tricky() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(alloc::vec![
        "0", "1", "2", "5", "9", "12", "1990", "007", "$", "€", "£", "¥", "/", ":", ".", "-", ",",
        "+", "(", ")", "%", "@", "#", "&", "'", "\"", "s", "th", "x", "I", "V", "X", "km", "pm",
        "St", "Dr", "No", "FBI", "NASA", "March", "https://", "www.", "com", "😀", "\u{200d}",
        "\u{a0}", " ", " ", " ", "\t", "—", "–", "…", "½", "²", "ｆ", "°C", "e.g", "U.S", "a", "é",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn tricky_text(text in tricky()) {
        check(&text)?;
    }

    #[test]
    fn long_digit_runs_stay_bounded(d in "[0-9,.$%-]{1,200}") {
        check(&d)?;
    }
}

#[test]
fn worst_cases_stay_bounded() {
    for text in [
        "1%".repeat(50),
        "$1".repeat(50),
        "7th ".repeat(30),
        "₩1,111,111,111,111 ".repeat(5),
    ] {
        let out = English.normalize(&text);
        assert!(
            out.len() <= GROWTH * text.len() + 64,
            "{} from {}",
            out.len(),
            text.len()
        );
    }
}
