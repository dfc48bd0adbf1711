//! Unicode cleanup before anything is read: compatibility folding (NFKC: full-width letters
//! and digits, ligatures, superscripts), typographic quotes and dashes to ASCII, every kind of
//! space to one ASCII space, and silent removal of zero-width and control characters, emoji
//! and other pictographs.

use alloc::string::String;
use unicode_normalization::UnicodeNormalization;

/// Vulgar fractions, read later as "n/d" (before NFKC, which would glue "1½" into "11⁄2").
fn vulgar_fraction(c: char) -> Option<&'static str> {
    Some(match c {
        '½' => "1/2",
        '⅓' => "1/3",
        '⅔' => "2/3",
        '¼' => "1/4",
        '¾' => "3/4",
        '⅕' => "1/5",
        '⅖' => "2/5",
        '⅗' => "3/5",
        '⅘' => "4/5",
        '⅙' => "1/6",
        '⅚' => "5/6",
        '⅛' => "1/8",
        '⅜' => "3/8",
        '⅝' => "5/8",
        '⅞' => "7/8",
        _ => return None,
    })
}

/// Pictographs, dingbats, emoji modifiers and the like: dropped (as a space, so the words
/// around them stay apart).
fn pictograph(c: char) -> bool {
    matches!(u32::from(c),
        0x2190..=0x21FF     // arrows
        | 0x2300..=0x23FF   // technical symbols (⌚ ⏰)
        | 0x2460..=0x24FF   // enclosed alphanumerics that NFKC leaves alone
        | 0x2500..=0x27BF   // box drawing, shapes, misc symbols, dingbats
        | 0x2900..=0x2BFF   // arrows, misc symbols
        | 0x3030 | 0x303D | 0x3297 | 0x3299
        | 0xE000..=0xF8FF   // private use
        | 0x1F000..=0x1FAFF // emoji, playing cards, mahjong, regional indicators
        | 0xF0000..=0x10FFFF)
}

/// Characters that vanish without a trace (zero-width, joiners, selectors, soft hyphen).
fn invisible(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFE00..=0xFE0F | 0xFEFF
        | 0x20E3 | 0xE0000..=0xE0FFF)
}

/// Before NFKC: what NFKC would fold badly.
fn before(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    let mut prev = ' ';
    for c in text.chars() {
        if let Some(f) = vulgar_fraction(c) {
            // "1½" is one and a half: keep the whole number apart.
            if prev.is_ascii_digit() {
                s.push(' ');
            }
            s.push_str(f);
            s.push(' ');
        } else if matches!(c, '™' | '®' | '℠') {
            // NFKC would turn ™ into the letters TM.
        } else if c == '©' {
            s.push_str(" copyright ");
        } else {
            s.push(c);
        }
        prev = c;
    }
    s
}

/// One character after NFKC, written to `s`.
fn after(c: char, next: Option<char>, s: &mut String) {
    let space = |s: &mut String| {
        if !s.is_empty() && !s.ends_with(' ') {
            s.push(' ');
        }
    };
    match c {
        _ if c.is_whitespace() => space(s),
        _ if invisible(c) => {}
        _ if c.is_control() => {}
        _ if pictograph(c) => space(s),
        '‘' | '’' | '‚' | '‛' | '′' | '`' | '´' => s.push('\''),
        '“' | '”' | '„' | '‟' | '″' | '«' | '»' | '‹' | '›' => s.push('"'),
        '‐' | '‑' | '−' | '⁃' => s.push('-'),
        '⁄' | '∕' => s.push('/'),
        // An en dash between digits is a range; otherwise, like an em dash, a pause.
        '–' if s.ends_with(|p: char| p.is_ascii_digit())
            && next.is_some_and(|n| n.is_ascii_digit()) =>
        {
            s.push('-')
        }
        '–' | '—' | '―' | '⸺' | '⸻' => {
            space(s);
            s.push_str("--");
            s.push(' ');
        }
        '…' => s.push_str("..."),
        '·' | '•' | '‧' | '◦' => {
            space(s);
            s.push('|');
            s.push(' ');
        }
        'µ' => s.push('μ'),
        _ => s.push(c),
    }
}

/// Cleans `text`: the result has only single ASCII spaces between chunks, none at either end.
pub(crate) fn clean(text: &str) -> String {
    let pre = before(text);
    let mut out = String::with_capacity(pre.len());
    let mut it = pre.nfkc().peekable();
    while let Some(c) = it.next() {
        after(c, it.peek().copied(), &mut out);
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_dashes_and_spaces_become_ascii() {
        assert_eq!(
            clean("“Hi,”\u{a0}she said — ‘twice’…"),
            "\"Hi,\" she said -- 'twice'..."
        );
        assert_eq!(clean("\tpages 10–20\r\n"), "pages 10-20");
        assert_eq!(clean("a\u{2003}\u{3000} b"), "a b");
    }

    #[test]
    fn invisible_control_and_pictographs_go() {
        assert_eq!(clean("zero\u{200b}width\u{0007}"), "zerowidth");
        assert_eq!(clean("great😀news 👍🏽 ❤️ ok"), "great news ok");
        assert_eq!(clean("👨\u{200d}👩\u{200d}👧"), "");
    }

    #[test]
    fn compatibility_forms_fold() {
        assert_eq!(clean("１２３ＡＢＣ"), "123ABC");
        assert_eq!(clean("ﬁne café"), "fine café");
        assert_eq!(clean("1½ cups, ¼"), "1 1/2 cups, 1/4");
        assert_eq!(clean("Brand™ 5µs"), "Brand 5μs");
    }
}
