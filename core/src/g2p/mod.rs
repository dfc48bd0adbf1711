//! English grapheme-to-phoneme conversion for Piper voices, written from scratch.
//!
//! [`english_ipa`] turns normalized English text into IPA in the form espeak-ng (en-us) writes
//! it, which is what Piper voices were trained on: words separated by spaces, prosody
//! punctuation `, . ! ? ; :` kept after the word it follows.
//!
//! Each word goes through, in order: a table of function words (weak forms, the stress espeak
//! gives them), the embedded CMU Pronouncing Dictionary (`lexicon`, built by core/build.rs),
//! morphology over the dictionary (inflections, affixes, compounds), and letter-to-sound rules.
//! ARPAbet phones become IPA with espeak's conventions (`render`); then context rules work
//! across words: `the` before a vowel, weak `to`, words espeak writes joined (`of the` →
//! `ʌvðə`), t-flaps and linking r.

mod lexicon;
mod morph;
mod phoneset;
mod render;
mod rules;

use alloc::string::String;
use alloc::vec::Vec;
use unicode_normalization::UnicodeNormalization;

use lexicon::Phone;

pub use lexicon::table_bytes as lexicon_bytes;

/// Function words: espeak's forms in running speech (weak, or with secondary stress).
const FUNCTION: &[(&str, &str)] = &[
    ("a", "ɐ"), ("an", "ɐn"), ("the", "ðə"), ("and", "ænd"), ("to", "tə"), ("of", "ʌv"),
    ("in", "ɪn"), ("for", "fɔːɹ"), ("on", "ˌɔn"), ("at", "æt"), ("is", "ɪz"), ("are", "ɑːɹ"),
    ("was", "wʌz"), ("were", "wɜː"), ("be", "biː"), ("been", "bˌɪn"), ("being", "bˌiːɪŋ"),
    ("am", "æm"), ("it", "ɪt"), ("its", "ɪts"), ("it's", "ɪts"), ("that", "ðæt"), ("this", "ðɪs"),
    ("these", "ðiːz"), ("those", "ðoʊz"), ("with", "wɪð"), ("from", "fɹʌm"), ("by", "baɪ"),
    ("as", "æz"), ("or", "ɔːɹ"), ("but", "bˌʌt"), ("if", "ɪf"), ("so", "sˌoʊ"), ("not", "nˌɑːt"),
    ("we", "wiː"), ("you", "juː"), ("he", "hiː"), ("she", "ʃiː"), ("they", "ðeɪ"), ("i", "aɪ"),
    ("me", "mˌiː"), ("my", "maɪ"), ("your", "jʊɹ"), ("his", "hɪz"), ("her", "hɜː"),
    ("our", "ˌaʊɚ"), ("their", "ðɛɹ"), ("them", "ðˌɛm"), ("us", "ˌʌs"), ("him", "hˌɪm"),
    ("would", "wʊd"), ("could", "kʊd"), ("should", "ʃˌʊd"), ("will", "wɪl"), ("shall", "ʃˌæl"),
    ("can", "kæn"), ("have", "hæv"), ("has", "hɐz"), ("had", "hæd"), ("while", "wˌaɪl"),
    ("when", "wɛn"), ("where", "wˌɛɹ"), ("what", "wʌt"), ("how", "hˌaʊ"), ("some", "sˌʌm"),
    ("about", "ɐbˌaʊt"), ("before", "bᵻfˌoːɹ"), ("over", "ˌoʊvɚ"), ("under", "ˌʌndɚ"),
    ("through", "θɹuː"), ("across", "əkɹˌɑːs"), ("between", "bᵻtwˌiːn"),
    ("without", "wɪðˌaʊt"), ("together", "təɡˌɛðɚ"), ("there", "ðɛɹ"), ("there's", "ðɛɹz"),
    ("than", "ðɐn"), ("into", "ˌɪntʊ"), ("onto", "ˌɑːntʊ"), ("upon", "əpˌɑːn"), ("any", "ˌɛni"),
    ("who", "hˌuː"), ("which", "wˌɪtʃ"), ("whose", "hˌuːz"), ("why", "wˌaɪ"), ("up", "ˌʌp"),
    ("down", "dˌaʊn"), ("i'm", "aɪm"), ("i'd", "aɪd"), ("i'll", "aɪl"), ("i've", "aɪv"),
    ("we'll", "wiːl"), ("they're", "ðeɪɚ"), ("we're", "wɪɹ"), ("you're", "jʊɹ"),
    ("per", "pɜː"), ("might", "mˌaɪt"), ("make", "mˌeɪk"), ("makes", "mˌeɪks"),
    ("making", "mˌeɪkɪŋ"), ("made", "mˌeɪd"), ("get", "ɡɛt"), ("got", "ɡɑːt"), ("go", "ɡˌoʊ"),
    ("goes", "ɡoʊz"), ("going", "ɡˌoʊɪŋ"), ("went", "wɛnt"), ("getting", "ɡˌɛɾɪŋ"),
    ("put", "pˌʊt"), ("become", "bɪkˌʌm"), ("becomes", "bɪkˌʌmz"), ("though", "ðˌoʊ"),
    ("although", "ɔːlðˈoʊ"), ("already", "ɔːlɹˌɛdi"), ("within", "wɪðˌɪn"),
    ("however", "haʊˈɛvɚ"), ("because", "bɪkˈʌz"), ("maybe", "mˈeɪbiː"), ("someone", "sˈʌmwʌn"), ("that's", "ðæts"), ("they've", "ðeɪv"), ("we've", "wiːv"), ("you've", "juːv"),
];

/// Noun/verb heteronyms as espeak reads them: the verb form right after "to", a subject
/// pronoun or a modal (VERB_CUES), the noun form anywhere else ("every record", "your
/// records", "the use of": tune.txt lines 47, 81, 114). (word, noun, verb).
const NOUN_OR_VERB: &[(&str, &str, &str)] = &[
    ("record", "ɹˈɛkɚd", "ɹᵻkˈoːɹd"), ("records", "ɹˈɛkɚdz", "ɹᵻkˈoːɹdz"), ("use", "jˈuːs", "jˈuːz"),
    ("wind", "wˈɪnd", "wˈaɪnd"), ("tear", "tˈɪɹ", "tˈɛɹ"), ("bow", "bˈoʊ", "bˈaʊ"),
    ("permit", "pˈɜːmɪt", "pɚmˈɪt"), ("increase", "ˈɪŋkɹiːs", "ɪŋkɹˈiːs"), ("convert", "kˈɑːnvɜːt", "kənvˈɜːt"),
    ("survey", "sˈɜːveɪ", "sɚvˈeɪ"), ("suspect", "sˈʌspɛkt", "səspˈɛkt"), ("transport", "tɹˈænspoːɹt", "tɹænspˈoːɹt"),
    ("conduct", "kˈɑːndʌkt", "kəndˈʌkt"),
];

/// Words after which a NOUN_OR_VERB word is a verb.
const VERB_CUES: &[&str] = &[
    "to", "i", "we", "you", "they", "he", "she", "it", "will", "would", "can", "could",
    "should", "must", "may", "might", "shall",
];

/// Words espeak writes joined to a following "the": their form before it.
const BEFORE_THE: &[(&str, &str)] = &[
    ("in", "ɪn"), ("of", "ʌv"), ("for", "fɚ"), ("on", "ɔn"), ("that", "ðæt"), ("with", "wɪð"),
    ("from", "fɹʌm"), ("was", "wʌz"),
];

/// Words espeak writes joined to a following "a" / "an": (word, form before a, form before an).
const BEFORE_A: &[(&str, &str, Option<&str>)] = &[
    ("of", "əv", Some("əv")), ("for", "fɚɹ", Some("fɚɹ")), ("at", "æɾ", None),
    ("that", "ðˌæɾ", None), ("was", "wʌz", None),
];

/// Word pairs espeak writes joined, with their joined form.
const PAIRS: &[(&str, &str, &str)] = &[
    ("has", "been", "hˈæzbiːn"), ("have", "been", "hɐvbɪn"), ("had", "been", "hɐdbɪn"),
    ("than", "a", "ðˌænə"), ("do", "not", "duːnˌɑːt"), ("does", "not", "dʌznˌɑːt"),
    ("did", "not", "dɪdnˌɑːt"), ("i", "am", "aɪɐm"), ("there", "are", "ðɛɹˌɑːɹ"),
    ("out", "of", "ˌaʊɾəv"), ("that", "it", "ðˌɐɾɪt"),
];

/// Function words whose final t is flapped before a vowel.
const FLAP_T: &[&str] = &["it", "at"];

/// Words before which espeak keeps a final t and adds no linking r (a clause boundary of sorts).
const NO_LINK_BEFORE: &[&str] = &["if", "and", "or", "off"];

const LETTERS: [&str; 26] = [
    "ˈeɪ", "bˈiː", "sˈiː", "dˈiː", "ˈiː", "ˈɛf", "dʒˈiː", "ˈeɪtʃ", "ˈaɪ", "dʒˈeɪ", "kˈeɪ", "ˈɛl",
    "ˈɛm", "ˈɛn", "ˈoʊ", "pˈiː", "kjˈuː", "ˈɑːɹ", "ˈɛs", "tˈiː", "jˈuː", "vˈiː", "dˈʌbəljuː", "ˈɛks",
    "wˈaɪ", "zˈiː",
];

const DIGITS: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/// One word of the input, as the context rules see it.
struct Word {
    /// Lowercase spelling (ASCII letters and apostrophes).
    text: String,
    /// IPA so far.
    ipa: String,
    /// Punctuation that follows it (prosody: , . ! ? ; :), if any.
    punct: Option<char>,
    /// Joined to the next word without a space (parts of a hyphenated word).
    join: bool,
}

fn starts_with_vowel(ipa: &str) -> bool {
    ipa.chars()
        .find(|c| !matches!(c, 'ˈ' | 'ˌ'))
        .is_some_and(|c| "aeiouæɐɑɒɔəɚɛɜɪʊʌᵻ".contains(c))
}

/// The IPA of one lowercase word, out of context (no function-word forms).
fn word_ipa(word: &str, out: &mut String) {
    let mut phones: Vec<Phone> = Vec::new();
    if !(lexicon::lookup(word, &mut phones) || morph::analyse(word, &mut phones, 1)) {
        phones.clear();
        let letters: String = word.chars().filter(|c| c.is_ascii_lowercase()).collect();
        if letters.len() == 1 {
            out.push_str(LETTERS[(letters.as_bytes()[0] - b'a') as usize]);
            return;
        }
        rules::letters_to_phones(&letters, &mut phones);
    }
    render::render(&phones, word, out);
}

fn is_prosody(c: char) -> bool {
    matches!(c, ',' | '.' | '!' | '?' | ';' | ':')
}

/// Splits text into words with their punctuation; spells digits.
fn tokenize(text: &str) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let mut cur = String::new();
    let mut upper_single = false;
    let flush = |cur: &mut String, words: &mut Vec<Word>, join: bool| {
        let t = cur.trim_matches('\'');
        if !t.is_empty() {
            words.push(Word { text: String::from(t), ipa: String::new(), punct: None, join });
        }
        cur.clear();
    };
    let _ = &mut upper_single;
    for c in text.nfd() {
        let c = if c == '’' || c == 'ʼ' { '\'' } else { c };
        if c.is_ascii_alphabetic() || c == '\'' {
            cur.push(c.to_ascii_lowercase());
        } else if c.is_alphabetic() {
            // Other scripts and letters are not spoken by this front end.
        } else if unicode_normalization::char::is_combining_mark(c) {
            // Accents: café → cafe.
        } else if c.is_ascii_digit() {
            flush(&mut cur, &mut words, false);
            let d = (c as u8 - b'0') as usize;
            words.push(Word { text: String::from(DIGITS[d]), ipa: String::new(), punct: None, join: false });
        } else if c == '-' && !cur.trim_matches('\'').is_empty() {
            flush(&mut cur, &mut words, true);
        } else {
            flush(&mut cur, &mut words, false);
            if is_prosody(c) {
                if let Some(w) = words.last_mut() {
                    w.join = false;
                    if w.punct.is_none() {
                        w.punct = Some(c);
                    }
                }
            } else if let Some(w) = words.last_mut() {
                w.join = false;
            }
        }
    }
    flush(&mut cur, &mut words, false);
    if let Some(w) = words.last_mut() {
        w.join = false;
    }
    words
}

/// Converts normalized English text to espeak-style IPA for Piper voices.
///
/// Input: words separated by spaces, prosody punctuation attached to words, numbers spelled out,
/// acronyms as single letters ("F B I"); raw text is tolerated (digits are read one by one,
/// other symbols skipped). Never panics; the output is at most a small constant times longer
/// than the input.
pub fn english_ipa(text: &str) -> String {
    let mut words = tokenize(text);
    let n = words.len();
    // Single letters next to other single letters are spelled: "F B I", "C I A".
    let single = |w: &Word| w.text.len() == 1;
    for i in 0..n {
        let spelled = single(&words[i])
            && ((i > 0 && single(&words[i - 1]) && words[i - 1].punct.is_none())
                || (i + 1 < n && single(&words[i + 1]) && words[i].punct.is_none()));
        let verb_cue = i > 0 && words[i - 1].punct.is_none() && VERB_CUES.contains(&words[i - 1].text.as_str());
        let w = &mut words[i];
        if spelled && w.text != "i" {
            let l = w.text.as_bytes()[0];
            w.ipa.push_str(LETTERS[(l - b'a') as usize]);
        } else if let Some((_, noun, verb)) = NOUN_OR_VERB.iter().find(|(h, _, _)| *h == w.text) {
            w.ipa.push_str(if verb_cue { verb } else { noun });
        } else if let Some((_, f)) = FUNCTION.iter().find(|(f, _)| *f == w.text) {
            w.ipa.push_str(f);
        } else {
            word_ipa(&w.text.clone(), &mut w.ipa);
        }
    }

    // Context rules, left to right; `glue[i]` joins word i to word i+1 without a space.
    let mut glue: Vec<bool> = words.iter().map(|w| w.join).collect();
    // Word i was merged into word i-1 by PAIRS: its IPA is in the pair's form, so no rule may
    // give it one again ("out of the" would otherwise say "of" twice: ˌaʊɾəvʌvðə).
    let mut merged = false;
    for i in 0..n {
        if core::mem::take(&mut merged) {
            continue;
        }
        let linked = words[i].punct.is_none() && i + 1 < n;
        let next_vowel = linked && starts_with_vowel(&words[i + 1].ipa);
        let next_text = if linked { words[i + 1].text.clone() } else { String::new() };
        let w = &mut words[i];
        match w.text.as_str() {
            "the" if next_vowel => w.ipa = String::from("ðɪ"),
            "to" if next_text == "be" => {
                w.ipa = String::from("tə");
                glue[i] = true;
                words[i + 1].ipa = String::from("bi");
                continue;
            }
            "to" if next_vowel => w.ipa = String::from("tʊ"),
            _ => {}
        }
        if let Some((_, _, f)) = PAIRS.iter().find(|(a, b, _)| *a == words[i].text && *b == next_text) {
            words[i].ipa = String::from(*f);
            words[i + 1].ipa.clear();
            glue[i] = true;
            merged = true;
            continue;
        }
        let w = &mut words[i];
        if next_text == "the" {
            if let Some((_, f)) = BEFORE_THE.iter().find(|(t, _)| *t == w.text) {
                w.ipa = String::from(*f);
                glue[i] = true;
                continue;
            }
        }
        if next_text == "a" || next_text == "an" {
            if let Some((_, fa, fan)) = BEFORE_A.iter().find(|(t, _, _)| *t == w.text) {
                if next_text == "a" {
                    w.ipa = String::from(*fa);
                    glue[i] = true;
                    words[i + 1].ipa = String::from(if w.text == "was" { "ɐ" } else { "ə" });
                    continue;
                } else if let Some(f) = fan {
                    w.ipa = String::from(*f);
                    glue[i] = true;
                    words[i + 1].ipa = String::from("ən");
                    continue;
                }
            }
        }
        if next_vowel && !NO_LINK_BEFORE.contains(&next_text.as_str()) {
            if FLAP_T.contains(&w.text.as_str()) && w.ipa.ends_with('t') {
                w.ipa.pop();
                w.ipa.push('ɾ');
            } else if w.ipa.ends_with('ɚ') || w.ipa.ends_with("ɜː") {
                w.ipa.push('ɹ');
            }
        }
    }

    let mut out = String::with_capacity(text.len() * 2);
    for (i, w) in words.iter().enumerate() {
        // A word merged into the one before (PAIRS) has no IPA of its own.
        out.push_str(&w.ipa);
        if let Some(p) = w.punct {
            out.push(p);
        }
        if i + 1 < n && !(glue[i] && w.punct.is_none()) {
            out.push(' ');
        }
    }
    let trimmed = out.trim_end();
    String::from(trimmed)
}

/// One lowercase word through the letter-to-sound rules alone (no lexicon, no morphology): for
/// measuring the rules against the dictionary.
#[doc(hidden)]
pub fn rules_only_ipa(word: &str) -> String {
    let mut phones: Vec<Phone> = Vec::new();
    let mut out = String::new();
    rules::letters_to_phones(word, &mut phones);
    render::render(&phones, word, &mut out);
    out
}

#[cfg(test)]
mod tests;
