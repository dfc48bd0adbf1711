//! Placeholder English letter-to-sound rules, so `parla say TEXT` speaks something until the
//! real front end (CMUdict lexicon + rules) lands. Crude: spelling patterns to IPA, stress on
//! the first vowel of each word, punctuation kept for prosody. `--phonemes` bypasses it.

use alloc::string::String;

/// Spelling patterns, longest first within each leading letter.
const RULES: &[(&str, &str)] = &[
    ("tion", "ʃən"), ("sion", "ʒən"), ("ough", "ɔː"), ("igh", "aɪ"), ("tch", "tʃ"),
    ("th", "θ"), ("sh", "ʃ"), ("ch", "tʃ"), ("ph", "f"), ("wh", "w"), ("ck", "k"), ("ng", "ŋ"),
    ("qu", "kw"), ("ee", "iː"), ("ea", "iː"), ("oo", "uː"), ("ou", "aʊ"), ("ow", "oʊ"),
    ("ai", "eɪ"), ("ay", "eɪ"), ("oi", "ɔɪ"), ("oy", "ɔɪ"), ("au", "ɔː"), ("aw", "ɔː"),
    ("ar", "ɑːɹ"), ("er", "ɚ"), ("ir", "ɜː"), ("ur", "ɜː"), ("or", "ɔːɹ"),
    ("a", "æ"), ("b", "b"), ("c", "k"), ("d", "d"), ("e", "ɛ"), ("f", "f"), ("g", "ɡ"),
    ("h", "h"), ("i", "ɪ"), ("j", "dʒ"), ("k", "k"), ("l", "l"), ("m", "m"), ("n", "n"),
    ("o", "ɑː"), ("p", "p"), ("q", "k"), ("r", "ɹ"), ("s", "s"), ("t", "t"), ("u", "ʌ"),
    ("v", "v"), ("w", "w"), ("x", "ks"), ("y", "i"), ("z", "z"),
];

/// Small words whose spelling rules would mislead.
const WORDS: &[(&str, &str)] = &[
    ("the", "ðə"), ("a", "ɐ"), ("to", "tə"), ("of", "ʌv"), ("is", "ɪz"), ("was", "wʌz"),
    ("you", "juː"), ("i", "ˈaɪ"), ("are", "ɑːɹ"), ("one", "wˈʌn"), ("hello", "həlˈoʊ"),
    ("this", "ðɪs"), ("that", "ðæt"), ("and", "ænd"), ("be", "biː"), ("he", "hiː"),
    ("she", "ʃiː"), ("we", "wiː"), ("me", "miː"), ("my", "maɪ"), ("do", "duː"),
];

const VOWELS: &[char] = &['æ', 'ɛ', 'ɪ', 'ɑ', 'ʌ', 'i', 'u', 'o', 'e', 'a', 'ɔ', 'ɚ', 'ɜ', 'ə'];

/// Converts text to rough IPA.
pub fn placeholder_ipa(text: &str) -> String {
    let mut out = String::new();
    let lower = text.to_lowercase();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        if let Some((_, ipa)) = WORDS.iter().find(|(w, _)| *w == word.as_str()) {
            out.push_str(ipa);
        } else {
            let mut ipa = String::new();
            let mut rest = word.as_str();
            while !rest.is_empty() {
                match RULES.iter().find(|(p, _)| rest.starts_with(p)) {
                    Some((p, sound)) => {
                        // Silent final e after a consonant.
                        if !(*p == "e" && rest.len() == 1 && word.len() > 2) {
                            ipa.push_str(sound);
                        }
                        rest = &rest[p.len()..];
                    }
                    None => rest = &rest[rest.chars().next().map_or(1, char::len_utf8)..],
                }
            }
            if let Some(i) = ipa.find(|c| VOWELS.contains(&c)) {
                ipa.insert(i, 'ˈ');
            }
            out.push_str(&ipa);
        }
        word.clear();
    };
    for c in lower.chars() {
        if c.is_alphabetic() || c == '\'' {
            if c != '\'' {
                word.push(c);
            }
        } else {
            flush(&mut word, &mut out);
            if matches!(c, ',' | '.' | '!' | '?' | ';' | ':') {
                out.push(c);
            } else if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
        }
    }
    flush(&mut word, &mut out);
    String::from(out.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_get_sounds_stress_and_punctuation() {
        assert_eq!(placeholder_ipa("Hello, world!"), "həlˈoʊ, wˈɔːɹld!");
        assert_eq!(placeholder_ipa("the ship"), "ðə ʃˈɪp");
        assert_eq!(placeholder_ipa("  "), "");
    }
}
