"""How well Parla's letter-to-sound rules alone reproduce the lexicon (what out-of-vocabulary
words get). Samples dictionary words, speaks each with `phonemize --rules` and with the full G2P
(lexicon), and reports phoneme-id agreement as tests/bench/g2p_agreement.py measures it.

Usage: python3 tests/bench/g2p_rules.py [--n 3000] [--seed 1] [--show 20]
"""
import argparse
import os
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from g2p_agreement import ROOT, edit, ids, voice_map  # noqa: E402


def run(words: list[str], extra: list[str]) -> list[str]:
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(ROOT / "target"))
    r = subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "parla-core", "--no-default-features",
         "--example", "phonemize", "--"] + extra,
        input="\n".join(words) + "\n", capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    return r.stdout.split("\n")[: len(words)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=0)
    args = ap.parse_args()
    path = ROOT / "models/lexicon/cmudict.dict"
    if not path.is_file():
        sys.exit("models/lexicon/cmudict.dict not found: run `just lexicon`")
    words = sorted({l.split()[0] for l in path.read_text(encoding="utf-8").splitlines()
                    if l and l.split()[0].isalpha() and l.split()[0].islower() and len(l.split()[0]) > 2})
    random.seed(args.seed)
    sample = random.sample(words, min(args.n, len(words)))
    m = voice_map()
    lex, rules = run(sample, []), run(sample, ["--rules"])
    for stress in (True, False):
        d = t = 0
        for a, b in zip(rules, lex):
            ia, ib = ids(a, m, stress), ids(b, m, stress)
            d += edit(ia, ib)
            t += len(ib)
        print(f"rules vs lexicon, {len(sample)} words, {'with' if stress else 'without'} stress: "
              f"{100 * (1 - d / t):.1f}%")
    exact = sum(a == b for a, b in zip(rules, lex))
    print(f"words exactly right: {100 * exact / len(sample):.1f}%")
    for w, a, b in [x for x in zip(sample, rules, lex) if x[1] != x[2]][: args.show]:
        print(f"  {w:18s} rules {a:22s} lexicon {b}")


if __name__ == "__main__":
    main()
