#!/usr/bin/env python3
"""Intelligibility benchmark (issue 3): Parla against piper-tts, judged by Whisper base.

Both systems speak the same sentences with the same Piper voice; faster-whisper (Whisper base,
CTranslate2, int8 on the CPU) transcribes every WAV; the word error rate (WER) of each system
against the text it was given is printed side by side. With --check the exit code is 1 when
Parla's WER exceeds piper-tts's by more than --tolerance percentage points.

Setup: python3 -m pip install -r tests/bench/requirements.txt
Run:   python3 tests/bench/intelligibility.py [--sentences FILE] [--limit N] [--check]
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wer import Errors, normalize, align  # noqa: E402
from whisper_model import ModelError, ensure_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "g2p" / "heldout.txt"
SAMPLE = ROOT / "tests" / "bench" / "intelligibility_sample.txt"
DEFAULT_VOICE = ROOT / "models" / "voices" / "en_US-joe-medium.onnx"
DEFAULT_MODEL_DIR = ROOT / "models" / ".cache" / "whisper-base"

# Greedy decoding at one temperature, no conditioning on earlier windows: deterministic, and
# Whisper's language model gets little room to repair what it did not hear. Measured on the 20-sentence sample (packed):
# beam 5 gave the same WER for piper-tts (2.51%) and 2 points less for Parla's placeholder G2P
# (32.2% vs 34.2%) at 10-35% more decoding time.
BEAM_SIZE = 1
# Packed transcription (the default, see transcribe_packed): silence between sentences and the
# longest audio given to Whisper at once (its window is 30 s). On the sample, packing took 2.5x
# less CPU than --isolated and lowered both WERs (Parla 38.2% -> 34.2%, piper-tts 4.0% -> 2.5%,
# beam 1): neighbouring sentences give Whisper some context, the same for both systems.
PACK_GAP_S = 1.0
PACK_MAX_S = 28.0


def read_sentences(path: Path, limit: int | None) -> list[str]:
    sentences = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                sentences.append(line)
    return sentences[:limit] if limit else sentences


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def synth_parla(args, sentences: list[str], out_dir: Path) -> tuple[list[Path | None], list[str]]:
    """One `parla say --each-line` process: the voice is loaded once for every sentence."""
    extra = shlex.split(args.parla_args)
    line_dir = out_dir / "parla"
    cmd = [args.parla, "say", "--each-line", str(line_dir), "--seed", str(args.seed),
           "--voice", str(args.voice), *extra]
    # Sentences are single lines already; keep them so (the output files are numbered by line).
    text = "\n".join(" ".join(s.split()) for s in sentences) + "\n"
    r = subprocess.run(cmd, input=text, capture_output=True, text=True)
    paths: list[Path | None] = []
    errors = []
    for i in range(len(sentences)):
        p = line_dir / f"{i + 1:04d}.wav"
        paths.append(p if p.is_file() else None)
        if not p.is_file():
            errors.append(f"sentence {i + 1}: no audio (parla exited {r.returncode}: {r.stderr.strip()[:300]})")
    return paths, errors


def synth_piper(args, sentences: list[str], out_dir: Path) -> tuple[list[Path], float]:
    # piper-tts (GPL-3.0) is only the reference being compared against: imported here, at run
    # time, by this benchmark, and never a dependency of Parla.
    from piper import PiperVoice

    t = time.perf_counter()
    voice = PiperVoice.load(str(args.voice))  # noise settings: the voice's config defaults
    load_s = time.perf_counter() - t
    paths = []
    for i, text in enumerate(sentences):
        out = out_dir / f"piper-{i:04d}.wav"
        with wave.open(str(out), "wb") as w:
            voice.synthesize_wav(text, w)
        paths.append(out)
    return paths, load_s


def _transcribe(model, audio, beam_size: int, words: bool):
    segments, _ = model.transcribe(
        audio, language="en", task="transcribe", beam_size=beam_size, temperature=0.0,
        condition_on_previous_text=False, without_timestamps=not words,
        word_timestamps=words, vad_filter=False,
    )
    return list(segments)


def transcribe_each(model, paths: list[Path | None], beam_size: int) -> list[str]:
    """One Whisper call per sentence (one 30 s encoder window each: slow, fully isolated)."""
    texts = []
    for p in paths:
        segs = _transcribe(model, str(p), beam_size, False) if p is not None else []
        texts.append(" ".join(s.text.strip() for s in segs).strip())
    return texts


def transcribe_packed(model, paths: list[Path | None], beam_size: int) -> list[str]:
    """Sentences joined with PACK_GAP_S of silence into windows of at most PACK_MAX_S, one
    Whisper call per window; words go back to their sentence by the midpoint of their
    timestamps (cut halfway through each gap). Whisper encodes a full 30 s window whatever the
    audio length, so this is several times faster than one call per sentence."""
    import numpy as np
    from faster_whisper.audio import decode_audio

    rate = 16000
    gap = np.zeros(int(PACK_GAP_S * rate), dtype=np.float32)
    texts = [""] * len(paths)
    audio = {i: decode_audio(str(p), sampling_rate=rate) for i, p in enumerate(paths) if p is not None}
    order = [i for i in range(len(paths)) if i in audio]
    while order:
        group, length = [], 0
        while order and (not group or length + len(gap) + len(audio[order[0]]) <= PACK_MAX_S * rate):
            length += (len(gap) if group else 0) + len(audio[order[0]])
            group.append(order.pop(0))
        pieces, spans, t = [], [], 0
        for i in group:
            if pieces:
                pieces.append(gap)
                t += len(gap)
            pieces.append(audio[i])
            spans.append((i, t / rate, (t + len(audio[i])) / rate))
            t += len(audio[i])
        # Cut points halfway through each gap.
        cuts = [(spans[k][2] + spans[k + 1][1]) / 2 for k in range(len(spans) - 1)]
        words: dict[int, list[str]] = {i: [] for i in group}
        for seg in _transcribe(model, np.concatenate(pieces), beam_size, True):
            for w in seg.words or []:
                mid = (w.start + w.end) / 2
                k = sum(mid >= c for c in cuts)
                words[spans[k][0]].append(w.word)
        for i in group:
            texts[i] = "".join(words[i]).strip()
    return texts


def pct(x: float) -> str:
    return f"{100 * x:6.2f}%"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=Path, default=None,
                    help=f"one sentence a line, '#' comments (default: {HELDOUT.relative_to(ROOT)}"
                         f" if present, else {SAMPLE.relative_to(ROOT)})")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N sentences")
    ap.add_argument("--parla", default=os.environ.get("PARLA_BIN", str(ROOT / "target/release/parla")),
                    help="parla binary (default: $PARLA_BIN, else target/release/parla)")
    ap.add_argument("--parla-args", default="", help='extra `parla say` flags, e.g. "--engine wasm"')
    ap.add_argument("--voice", type=Path, default=Path(os.environ.get("PARLA_VOICE", DEFAULT_VOICE)),
                    help="Piper voice .onnx (its .onnx.json beside it), used by both systems")
    ap.add_argument("--seed", type=int, default=1, help="parla --seed (default 1)")
    ap.add_argument("--beam-size", type=int, default=BEAM_SIZE,
                    help=f"Whisper beam size (default {BEAM_SIZE}: greedy)")
    ap.add_argument("--isolated", action="store_true",
                    help="transcribe each sentence on its own (slower) instead of packed windows")
    ap.add_argument("--threads", type=int, default=2, help="Whisper CPU threads (default 2)")
    ap.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR,
                    help="where Whisper base is assembled (default models/.cache/whisper-base)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if Parla's WER > piper-tts's WER + tolerance")
    ap.add_argument("--tolerance", type=float, default=1.0,
                    help="allowed excess of Parla's WER, percentage points (default 1.0)")
    ap.add_argument("--worst", type=int, default=5, help="list this many worst sentences for Parla")
    ap.add_argument("--keep", type=Path, default=None, help="keep the WAVs in this folder")
    ap.add_argument("--json", type=Path, default=None, help="also write per-sentence results here")
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: the model is local
    t_start = time.perf_counter()
    sentences_path = args.sentences or (HELDOUT if HELDOUT.is_file() else SAMPLE)
    sentences = read_sentences(sentences_path, args.limit)
    if not sentences:
        print(f"intelligibility: no sentences in {sentences_path}", file=sys.stderr)
        return 2
    if not Path(args.parla).is_file():
        print(f"intelligibility: parla binary not found: {args.parla} (just native, or --parla)",
              file=sys.stderr)
        return 2
    if not args.voice.is_file() or not Path(str(args.voice) + ".json").is_file():
        print(f"intelligibility: voice not found: {args.voice} (+ .json); just voice, or --voice",
              file=sys.stderr)
        return 2

    timings: dict[str, float] = {}
    t = time.perf_counter()
    try:
        model_dir = ensure_model(args.model_dir, log=lambda m: print(f"intelligibility: {m}"))
    except ModelError as e:
        print(f"intelligibility: {e}", file=sys.stderr)
        return 2
    timings["whisper model check/assembly"] = time.perf_counter() - t

    tmp = None
    if args.keep:
        out_dir = args.keep
        out_dir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="parla-intel-")
        out_dir = Path(tmp.name)

    try:
        print(f"intelligibility: {len(sentences)} sentences from {sentences_path}; voice {args.voice}")
        t = time.perf_counter()
        parla_wavs, failures = synth_parla(args, sentences, out_dir)
        timings["parla synthesis (one process)"] = time.perf_counter() - t
        for msg in failures:
            print(f"intelligibility: warning: {msg}", file=sys.stderr)

        t = time.perf_counter()
        piper_wavs, piper_load = synth_piper(args, sentences, out_dir)
        timings["piper-tts synthesis (incl. load)"] = time.perf_counter() - t

        t = time.perf_counter()
        from faster_whisper import WhisperModel
        model = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                             cpu_threads=args.threads, num_workers=1)
        timings["whisper load"] = time.perf_counter() - t
        t = time.perf_counter()
        transcribe = transcribe_each if args.isolated else transcribe_packed
        parla_hyp = transcribe(model, parla_wavs, args.beam_size)
        timings["whisper on parla"] = time.perf_counter() - t
        t = time.perf_counter()
        piper_hyp = transcribe(model, piper_wavs, args.beam_size)
        timings["whisper on piper-tts"] = time.perf_counter() - t

        parla_audio = sum(wav_seconds(p) for p in parla_wavs if p is not None)
        piper_audio = sum(wav_seconds(p) for p in piper_wavs)
    finally:
        if tmp is not None:
            tmp.cleanup()

    rows = []
    parla_tot, piper_tot = Errors(), Errors()
    for text, hp, hq in zip(sentences, parla_hyp, piper_hyp):
        ref = normalize(text)
        ep, eq = align(ref, normalize(hp)), align(ref, normalize(hq))
        parla_tot, piper_tot = parla_tot + ep, piper_tot + eq
        rows.append({"text": text, "parla": hp, "piper": hq,
                     "parla_wer": ep.wer, "piper_wer": eq.wer, "parla_edits": ep.edits,
                     "piper_edits": eq.edits, "words": ep.ref_words})
    timings["total"] = time.perf_counter() - t_start

    pw, qw = parla_tot.wer, piper_tot.wer
    diff_pp = 100 * (pw - qw)
    print()
    print(f"Whisper base (faster-whisper, int8, beam {args.beam_size}, "
          f"{'isolated' if args.isolated else 'packed'}) on "
          f"{len(sentences)} sentences, {parla_tot.ref_words} words")
    print(f"{'system':<10} {'WER':>8} {'subs':>5} {'dels':>5} {'ins':>5} {'audio s':>8}")
    for name, e, audio in (("parla", parla_tot, parla_audio), ("piper-tts", piper_tot, piper_audio)):
        print(f"{name:<10} {pct(e.wer):>8} {e.substitutions:>5} {e.deletions:>5} "
              f"{e.insertions:>5} {audio:>8.1f}")
    ratio = f"{pw / qw:.2f}x" if qw > 0 else ("1.00x" if pw == 0 else "inf")
    print(f"parla - piper-tts: {diff_pp:+.2f} percentage points; ratio {ratio}"
          + (f"; {len(failures)} parla failures (counted as empty transcripts)" if failures else ""))

    worst = sorted(range(len(rows)), key=lambda i: (-rows[i]["parla_edits"], -rows[i]["parla_wer"]))
    worst = [i for i in worst if rows[i]["parla_edits"] > 0][: args.worst]
    if worst:
        print(f"\nworst sentences for parla:")
        for i in worst:
            r = rows[i]
            print(f"  [{i + 1}] parla WER {pct(r['parla_wer']).strip()}, piper-tts {pct(r['piper_wer']).strip()}")
            print(f"      text:  {r['text']}")
            print(f"      parla: {r['parla']}")
            print(f"      piper: {r['piper']}")

    print("\ntimings (s):")
    for name, secs in timings.items():
        print(f"  {name:<36} {secs:7.1f}")
    print(f"  (piper-tts voice load {piper_load:.1f} s; audio made: parla {parla_audio:.1f} s, "
          f"piper-tts {piper_audio:.1f} s)")

    if args.json:
        args.json.write_text(json.dumps({
            "sentences": str(sentences_path), "beam_size": args.beam_size, "isolated": args.isolated,
            "parla_wer": pw, "piper_wer": qw, "words": parla_tot.ref_words,
            "timings_s": timings, "rows": rows}, indent=1), encoding="utf-8")

    if args.check and diff_pp > args.tolerance:
        print(f"\nFAIL: parla WER {100 * pw:.2f}% exceeds piper-tts {100 * qw:.2f}% "
              f"by more than {args.tolerance} percentage points")
        return 1
    if args.check:
        print(f"\nOK: parla WER within {args.tolerance} percentage points of piper-tts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
