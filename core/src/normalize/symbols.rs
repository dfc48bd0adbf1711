//! Symbols said as words in running text ("&" → and, "+" → plus, "#5" → number five, "#tag"
//! → hashtag tag), and the ones that only separate ("/", "-", "_", brackets).

/// The words for a symbol in running text; `before` is the character after it.
pub(crate) fn name(c: char, next: Option<char>) -> Option<&'static str> {
    Some(match c {
        '&' => "and",
        '+' => "plus",
        '=' => "equals",
        '@' => "at",
        '%' => "percent",
        '#' if next.is_some_and(|n| n.is_ascii_digit()) => "number",
        '#' if next.is_some_and(char::is_alphabetic) => "hashtag",
        '#' => "hash",
        '°' => "degrees",
        '×' => "times",
        '÷' => "divided by",
        '§' => "section",
        '¶' => "paragraph",
        '~' | '≈' => "about",
        '<' => "less than",
        '>' => "greater than",
        '≤' => "at most",
        '≥' => "at least",
        '±' => "plus or minus",
        '$' => "dollars",
        '€' => "euros",
        '£' => "pounds",
        '¥' => "yen",
        _ => return None,
    })
}

/// A chunk that is only a separator ("-", "--", "|", "/"): a pause.
pub(crate) fn separator(core: &str) -> bool {
    !core.is_empty()
        && core.chars().all(|c| {
            matches!(
                c,
                '-' | '|' | '/' | '\\' | '~' | '*' | '_' | '=' | '+' | '#'
            )
        })
        && !matches!(core, "+" | "=" | "#")
}
