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
