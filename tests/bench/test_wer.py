"""Unit tests of the benchmark's normaliser and word-level edit distance.

Run: python3 -m unittest discover -s tests/bench -p 'test_*.py'
"""
import unittest

from wer import align, cardinal, normalize, ordinal, word_errors, year


class Normalize(unittest.TestCase):
    def test_case_punctuation_hyphens(self):
        self.assertEqual(normalize("Well-known, \u201cquoted\u201d words!"),
                         ["well", "known", "quoted", "words"])

    def test_contractions_match_their_long_forms(self):
        self.assertEqual(normalize("I don't think it's, we'll, can't"),
                         normalize("I do not think it is, we will, cannot"))
        self.assertEqual(normalize("John\u2019s dog"), ["johns", "dog"])

    def test_numbers_digits_and_words_agree(self):
        self.assertEqual(normalize("25 apples"), normalize("twenty-five apples"))
        self.assertEqual(normalize("105"), normalize("one hundred and five"))
        self.assertEqual(normalize("2,000,000"), ["two", "million"])
        self.assertEqual(normalize("the 21st"), ["the", "twenty", "first"])
        self.assertEqual(normalize("at 7:30"), ["at", "seven", "thirty"])
        self.assertEqual(normalize("3.14"), ["three", "point", "one", "four"])
        self.assertEqual(normalize("$5 or 10%"), ["five", "dollars", "or", "ten", "percent"])

    def test_number_words(self):
        self.assertEqual(cardinal(0), ["zero"])
        self.assertEqual(cardinal(1_002_030), ["one", "million", "two", "thousand", "thirty"])
        self.assertEqual(year(1987), ["nineteen", "eighty", "seven"])
        self.assertEqual(year(1905), ["nineteen", "oh", "five"])
        self.assertEqual(year(2004), ["two", "thousand", "four"])
        self.assertEqual(year(1800), ["eighteen", "hundred"])
        self.assertEqual(ordinal(12), ["twelfth"])
        self.assertEqual(ordinal(40), ["fortieth"])

    def test_spelling_variants_and_titles(self):
        self.assertEqual(normalize("Mr. Grey's colour"), normalize("mister grey's color"))


class Align(unittest.TestCase):
    def test_counts(self):
        e = align("a b c d".split(), "a x c d e".split())
        self.assertEqual((e.substitutions, e.deletions, e.insertions, e.ref_words), (1, 0, 1, 4))
        e = align("a b c".split(), "b c".split())
        self.assertEqual((e.substitutions, e.deletions, e.insertions), (0, 1, 0))
        self.assertAlmostEqual(word_errors("The cat sat.", "the cat sat").wer, 0.0)

    def test_empty(self):
        self.assertEqual(align([], []).wer, 0.0)
        self.assertEqual(align([], ["x"]).wer, 1.0)
        self.assertEqual(align(["x", "y"], []).wer, 1.0)

    def test_minimal_distance(self):
        # The edit count is the Levenshtein distance, whichever alignment is traced back.
        ref, hyp = "kitten sitting on the mat".split(), "sitting kitten on mat".split()
        self.assertEqual(align(ref, hyp).edits, 3)


if __name__ == "__main__":
    unittest.main()
