use super::*;

#[test]
fn lexicon_is_embedded() {
    assert!(
        lexicon::block_count() > 1000,
        "the CMU dictionary was not embedded: run `just lexicon` (or `just setup`) and rebuild"
    );
}

#[test]
fn sentences_match_espeak_forms() {
    assert_eq!(english_ipa("Hello world."), "həlˈoʊ wˈɜːld.");
    assert_eq!(english_ipa("  "), "");
}

#[test]
fn lexicon_words_and_espeak_conventions() {
    // Dictionary words, stress before the vowel, flaps, long vowels, ɚ.
    assert_eq!(english_ipa("The water is better."), "ðə wˈɔːɾɚɹ ɪz bˈɛɾɚ.");
    // Weak forms and words written joined.
    assert_eq!(english_ipa("a cup of the tea"), "ɐ kˈʌp ʌvðə tˈiː");
    assert_eq!(english_ipa("the end"), "ðɪ ˈɛnd");
    assert_eq!(english_ipa("It is in the box, to be sure."), "ɪɾ ɪz ɪnðə bˈɑːks, təbi ʃˈʊɹ.");
    // A word merged into a pair keeps no form of its own: "of" is said once.
    assert_eq!(english_ipa("get out of the car"), "ɡɛt ˌaʊɾəv ðə kˈɑːɹ");
    assert_eq!(english_ipa("out of a box"), "ˌaʊɾəv ɐ bˈɑːks");
    assert_eq!(english_ipa("because of"), "bɪkˈʌz ʌv");
    // Noun/verb heteronyms by the word before, as espeak reads them.
    assert_eq!(english_ipa("every record"), "ˈɛvɹi ɹˈɛkɚd");
    assert_eq!(english_ipa("they will record it"), "ðeɪ wɪl ɹᵻkˈoːɹd ɪt");
    assert_eq!(english_ipa("we use it"), "wiː jˈuːz ɪt");
    assert_eq!(english_ipa("its use"), "ɪts jˈuːs");
    assert_eq!(english_ipa("the wind"), "ðə wˈɪnd");
    assert_eq!(english_ipa("to wind"), "tə wˈaɪnd");
    // Heteronyms read one way whatever the context, as espeak does.
    assert_eq!(english_ipa("they lead"), "ðeɪ lˈiːd");
    assert_eq!(english_ipa("the wound"), "ðə wˈuːnd");
    // Spellings that tell vowels CMUdict merges, as espeak keeps them apart: FORCE words
    // (force, story, memorial) against NORTH ones (form), marry against merry.
    assert_eq!(english_ipa("force the form"), "fˈoːɹs ðə fˈɔːɹm");
    assert_eq!(english_ipa("a memorial story"), "ɐ məmˈoːɹɪəl stˈoːɹi");
    assert_eq!(english_ipa("narrow character, parent"), "nˈæɹoʊ kˈæɹɪktɚ, pˈɛɹənt");
    // An unstressed last vowel before a final consonant stays long; an inflected y does not.
    assert_eq!(english_ipa("phoneme, morphine, valleys, carried"), "fˈoʊniːm, mˈɔːɹfiːn, vˈæliz, kˈæɹid");
    assert_eq!(english_ipa("the city's mayor"), "ðə sˈɪɾiz mˈeɪɚ");
    // -ation takes the primary stress where CMUdict gives the word two.
    assert_eq!(english_ipa("duration"), "dʊɹɹˈeɪʃən");
    // Punctuation kept, sentences joined by a space.
    assert_eq!(english_ipa("Yes! No? Maybe; fine: done."), "jˈɛs! nˈoʊ? mˈeɪbiː; fˈaɪn: dˈʌn.");
}

#[test]
fn inflections_of_unknown_words_follow_the_stem() {
    let mut p = alloc::vec::Vec::new();
    // Voicing of -s, -ed and -es by the stem's last sound.
    let cases = [
        ("cat", "cats", "kˈæts"),
        ("dog", "dogs", "dˈɔːɡz"),
        ("bus", "buses", "bˈʌsᵻz"),
        ("walk", "walked", "wˈɔːkt"),
        ("play", "played", "plˈeɪd"),
        ("want", "wanted", "wˈɑːntᵻd"),
    ];
    for (_, inflected, want) in cases {
        let mut out = String::new();
        p.clear();
        assert!(morph::analyse(inflected, &mut p, 1), "{inflected}");
        render::render(&p, inflected, &mut out);
        assert_eq!(out, want, "{inflected}");
    }
}

#[test]
fn spelled_letters_and_raw_text() {
    assert_eq!(english_ipa("F B I"), "ˈɛf bˈiː aɪ");
    assert_eq!(english_ipa("I saw it"), "aɪ sˈɔː ɪt");
    // Digits are read one by one; symbols are skipped; other scripts are not spoken.
    assert_eq!(english_ipa("7"), "sˈɛvən");
    assert_eq!(english_ipa("cats & dogs"), "kˈæts dˈɑːɡz");
    assert_eq!(english_ipa("日本"), "");
}

#[test]
fn unknown_words_get_letter_to_sound_rules() {
    let ipa = english_ipa("blorptastic zindle");
    assert!(ipa.contains('ˈ'), "{ipa}");
    assert!(!ipa.is_empty());
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_text_is_safe_bounded_and_deterministic(text in any::<String>()) {
            let a = english_ipa(&text);
            prop_assert!(a.len() <= 16 * text.len() + 16, "{} bytes of IPA for {} bytes", a.len(), text.len());
            prop_assert_eq!(a, english_ipa(&text));
        }

        #[test]
        fn word_like_text_is_safe(text in "[a-zA-Z' ,.!?;:-]{0,80}") {
            let a = english_ipa(&text);
            prop_assert!(a.len() <= 16 * text.len() + 16);
            prop_assert_eq!(a, english_ipa(&text));
        }

        #[test]
        fn digits_and_letters(text in "[a-z0-9 ]{0,40}") {
            let a = english_ipa(&text);
            prop_assert!(a.len() <= 16 * text.len() + 16);
        }
    }
}
