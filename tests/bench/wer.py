"""Word error rate with a small, explicit text normalisation (no third-party dependencies).

Reference and hypothesis go through the same `normalize`, so the WER counts words that were
heard differently, not differences of writing: case, punctuation, hyphens, contractions ("don't"
and "do not"), a few spelling variants and numbers written as digits or as words ("25",
"twenty-five" and "twenty five" all become "twenty five").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --- numbers -----------------------------------------------------------------------------------

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}
NUMBER_WORDS = set(_ONES) | set(_TENS[2:]) | {"hundred", "thousand", "million", "billion"}


def _below_1000(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
        if n == 0:
            return words
    if n < 20:
        words.append(_ONES[n])
    else:
        words.append(_TENS[n // 10])
        if n % 10:
            words.append(_ONES[n % 10])
    return words


def cardinal(n: int) -> list[str]:
    """Cardinal number in words, without "and": 1205 -> one thousand two hundred five."""
    if n < 1000:
        return _below_1000(n)
    words: list[str] = []
    for value, name in _SCALES:
        if n >= value:
            words += cardinal(n // value) + [name]
            n %= value
    if n:
        words += _below_1000(n)
    return words


def year(n: int) -> list[str]:
    """A four-digit year as it is usually read: 1987 -> nineteen eighty seven."""
    hi, lo = divmod(n, 100)
    if 2000 <= n <= 2009:
        return cardinal(n)
    if lo == 0:
        return _below_1000(hi) + ["hundred"]
    if lo < 10:
        return _below_1000(hi) + ["oh", _ONES[lo]]
    return _below_1000(hi) + _below_1000(lo)


def ordinal(n: int) -> list[str]:
    words = cardinal(n)
    last = words[-1]
    if last in _ORDINAL_WORDS:
        words[-1] = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return words


def _number_to_words(m: re.Match) -> str:
    text = m.group(0)
    if m.group("ord"):
        return " " + " ".join(ordinal(int(m.group("int")))) + " "
    integer = int(m.group("int").replace(",", ""))
    frac = m.group("frac")
    if frac is None and "," not in m.group("int") and 1100 <= integer <= 2099 and len(text) == 4:
        words = year(integer)
    else:
        words = cardinal(integer)
    if frac:
        words += ["point"] + [_ONES[int(d)] for d in frac]
    return " " + " ".join(words) + " "


_NUMBER = re.compile(
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?(?P<ord>st|nd|rd|th)?(?![\w])"
)

# --- words -------------------------------------------------------------------------------------

_CONTRACTIONS = {
    "can't": "can not", "cannot": "can not", "won't": "will not", "shan't": "shall not",
    "ain't": "is not", "let's": "let us", "it's": "it is", "that's": "that is",
    "what's": "what is", "there's": "there is", "here's": "here is", "he's": "he is",
    "she's": "she is", "who's": "who is", "where's": "where is", "how's": "how is",
}
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"),
             ("'m", " am"), ("'d", " would"))
# Abbreviations and spelling variants, mapped to one form.
_WORD_MAP = {
    "mr": "mister", "mrs": "missus", "dr": "doctor", "ok": "okay", "etc": "et cetera",
    "colour": "color", "grey": "gray", "centre": "center", "theatre": "theater",
    "favourite": "favorite", "neighbour": "neighbor", "travelling": "traveling",
}
_SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals "}


def _expand_contraction(word: str) -> str:
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    for suffix, expansion in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)] + expansion
    return word


def normalize(text: str) -> list[str]:
    """Text -> list of normalised words (lowercase, no punctuation, numbers as words)."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = t.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    t = re.sub(r"\$(\d[\d,]*(?:\.\d+)?)", r"\1 dollars", t)
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"(\d)(?:\s*):(\d\d)\b", r"\1 \2", t)  # 7:30 -> 7 30
    t = _NUMBER.sub(_number_to_words, t)
    t = re.sub(r"[-\u2010-\u2015/]", " ", t)  # hyphens, dashes and slashes separate words
    words: list[str] = []
    for raw in t.split():
        w = re.sub(r"[^\w']", "", raw).strip("'")
        w = w.replace("_", "")
        if not w:
            continue
        w = _expand_contraction(w)
        for part in w.split():
            part = part.replace("'", "")  # possessive 's and the like: john's -> johns
            part = _WORD_MAP.get(part, part)
            words.extend(part.split())
    # "one hundred and five" reads the same as "one hundred five".
    out: list[str] = []
    for i, w in enumerate(words):
        if (w == "and" and out and out[-1] in ("hundred", "thousand", "million", "billion")
                and i + 1 < len(words) and words[i + 1] in NUMBER_WORDS):
            continue
        out.append(w)
    return out


# --- edit distance -----------------------------------------------------------------------------

@dataclass
class Errors:
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    ref_words: int = 0

    @property
    def edits(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        return self.edits / self.ref_words if self.ref_words else float(self.edits > 0)

    def __add__(self, other: "Errors") -> "Errors":
        return Errors(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.ref_words + other.ref_words,
        )


def align(ref: list[str], hyp: list[str]) -> Errors:
    """Word-level Levenshtein distance, split into substitutions, deletions and insertions.

    Among alignments with the fewest edits, prefers substitutions, then deletions, when
    tracing back (the total is the same whichever is chosen).
    """
    n, m = len(ref), len(hyp)
    # cost[i][j]: edits turning ref[:i] into hyp[:j]
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = i
    for j in range(m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        row, prev = cost[i], cost[i - 1]
        for j in range(1, m + 1):
            sub = prev[j - 1] + (ref[i - 1] != hyp[j - 1])
            row[j] = min(sub, prev[j] + 1, row[j - 1] + 1)
    e = Errors(ref_words=n)
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            e.substitutions += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and cost[i][j] == cost[i - 1][j] + 1:
            e.deletions += 1
            i -= 1
        else:
            e.insertions += 1
            j -= 1
    return e


def word_errors(reference: str, hypothesis: str) -> Errors:
    return align(normalize(reference), normalize(hypothesis))
