"""Agreement of Parla's English G2P with the espeak-ng phonemes Piper voices were trained on.

Usage: python3 tests/bench/g2p_agreement.py [--show N] [--words N] [FILE ...]
  (default files: tests/g2p/tune.txt tests/g2p/heldout.txt)

Runs `core/examples/phonemize.rs` (Parla) and the oracle `piper_phonemize.phonemize_espeak(text,
"en-us")` (piper-phonemize-cross==1.2.1, test-only, never a dependency of Parla) on every line,
maps both IPA strings to phoneme ids with the default voice's phoneme_id_map (each NFD code
point, unknown ones dropped, as Piper does; no BOS/EOS/pad) and reports
    agreement = 1 - edit_distance(parla_ids, oracle_ids) / len(oracle_ids)
summed over the file, with and without the stress marks ˈ ˌ. --show N prints the N worst
sentences; --words N the N most frequent word-level differences.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VOICE_JSON = "en_US-joe-medium.onnx.json"


def voice_map() -> dict:
    p = ROOT / "models" / "voices" / VOICE_JSON
    if p.is_file():
        return json.loads(p.read_text(encoding="utf-8"))["phoneme_id_map"]
    sys.exit(f"{VOICE_JSON} not found: run `python3 models/fetch.py` (or `just voice`)")


def sentences(path: Path) -> list[str]:
    return [l.strip() for l in path.read_text(encoding="utf-8").splitlines()
            if l.strip() and not l.lstrip().startswith("#")]


def parla(lines: list[str]) -> list[str]:
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(ROOT / "target"))
    r = subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "parla-core", "--no-default-features",
         "--example", "phonemize"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, env=env)
    if r.returncode != 0:
        sys.exit(f"phonemize failed:\n{r.stderr}")
    out = r.stdout.split("\n")[: len(lines)]
    assert len(out) == len(lines), "phonemize printed fewer lines than it was given"
    return out


def oracle(lines: list[str]) -> list[str]:
    from piper_phonemize import phonemize_espeak
    return [" ".join("".join(s) for s in phonemize_espeak(l, "en-us")) for l in lines]


def ids(ipa: str, m: dict, stress: bool) -> list[int]:
    out = []
    for c in unicodedata.normalize("NFD", ipa):
        if not stress and c in "ˈˌ":
            continue
        out.extend(m.get(c, []))
    return out


def edit(a: list, b: list) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def words_of(ipa: str) -> list[str]:
    return [w.strip(",.!?;:") for w in ipa.split()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*", type=Path,
                    default=[ROOT / "tests/g2p/tune.txt", ROOT / "tests/g2p/heldout.txt"])
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--words", type=int, default=0)
    args = ap.parse_args()
    m = voice_map()
    for f in args.files:
        lines = sentences(f)
        ours, ref = parla(lines), oracle(lines)
        res = {}
        worst = []
        diffs = collections.Counter()
        for stress in (True, False):
            dist = total = 0
            for line, a, b in zip(lines, ours, ref):
                ia, ib = ids(a, m, stress), ids(b, m, stress)
                d = edit(ia, ib)
                dist += d
                total += len(ib)
                if stress:
                    worst.append((d / max(1, len(ib)), line, a, b))
            res[stress] = 1 - dist / total
        for line, a, b in zip(lines, ours, ref):
            wa, wb = words_of(a), words_of(b)
            src = line.split()
            if len(wa) == len(wb):
                for s, x, y in zip(src if len(src) == len(wa) else wa, wa, wb):
                    if x != y:
                        diffs[(s.strip(",.!?;:\"").lower(), x, y)] += 1
        print(f"{f.name}: {len(lines)} sentences, agreement {100 * res[True]:.1f}% "
              f"(without stress {100 * res[False]:.1f}%)")
        for score, line, a, b in sorted(worst, key=lambda t: -t[0])[: args.show]:
            print(f"  {100 * (1 - score):.0f}% {line}\n      parla:  {a}\n      espeak: {b}")
        for (w, x, y), c in diffs.most_common(args.words):
            print(f"  {c:3d} {w:18s} parla {x:22s} espeak {y}")


if __name__ == "__main__":
    main()
