#!/usr/bin/env python3
"""Intelligibility benchmark (issue 3): Parla against piper-tts, judged by Whisper base.

Both systems speak the same sentences with the same Piper voice; faster-whisper (Whisper base,
CTranslate2, int8 on the CPU) transcribes every WAV; the word error rate (WER) of each system
against the text it was given is printed side by side. With --runs N every system speaks the
sentences N times (Parla with seeds --seed .. --seed+N-1, piper-tts unseeded N times) and the
mean WER and its min-max spread are reported. With --check the exit code is 1 when Parla's mean
WER exceeds piper-tts's by more than --tolerance percentage points.

--parla-phonemes adds bench-only oracle controls that separate Parla's G2P from its engine:
Parla speaks phonemes made by espeak-ng (`parla say --phonemes`) instead of its own G2P.

Setup: python3 -m pip install -r tests/bench/requirements.txt
Run:   python3 tests/bench/intelligibility.py [--sentences FILE] [--limit N] [--runs N] [--check]
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

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

# Oracle phoneme sources for --parla-phonemes (bench-only; never part of the product).
#   espeak: piper-phonemize(-cross), the espeak-ng build Piper voices were trained with and the
#           one tests/bench/g2p_agreement.py compares Parla's G2P against;
#   piper:  the espeak-ng bundled with piper-tts 1.8 (piper.espeakbridge), i.e. exactly the
#           phonemes the piper-tts column speaks (a newer espeak-ng: e.g. "more" mˈɔːɹ, not mˈoːɹ).
PHONEME_SOURCES = ("own", "espeak", "piper")
PARLA_NAMES = {"own": "parla", "espeak": "parla/espeak", "piper": "parla/piper-ph"}
PIPER = "piper-tts"
# `parla say --phonemes` processes run at once (each loads the voice, ~1.5 s of one core).
PHONEME_JOBS = 2


@dataclass
class System:
    """One column of the table: a name and how it turns sentences into WAVs for run `r`."""
    name: str
    synth: Callable[[int, list[str], Path], list[Path | None]]
    seed: Callable[[int], int | None] = lambda r: None


@dataclass
class Run:
    """One system's result on one run."""
    system: str
    run: int
    seed: int | None
    errors: Errors
    hyps: list[str]
    edits: list[int]
    audio_s: float
    synth_s: float
    whisper_s: float
    failures: list[str] = field(default_factory=list)


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


def espeak_voice(voice: Path) -> str:
    """The espeak voice the Piper voice was trained with (its config's espeak.voice)."""
    config = json.loads(Path(str(voice) + ".json").read_text(encoding="utf-8"))
    return config.get("espeak", {}).get("voice", "en-us")


def oracle_phonemes(source: str, sentences: list[str], voice: Path) -> list[list[str]]:
    """For every sentence, the IPA of each of its sentences as espeak-ng splits them, joined
    as piper does (the code points of one sentence, punctuation kept)."""
    lang = espeak_voice(voice)
    if source == "espeak":
        from piper_phonemize import phonemize_espeak
        split = [phonemize_espeak(text, lang) for text in sentences]
    else:
        from piper.phonemize_espeak import EspeakPhonemizer
        phonemizer = EspeakPhonemizer()
        split = [phonemizer.phonemize(lang, text) for text in sentences]
    return [["".join(ph) for ph in parts if ph] for parts in split]


def peak_normalize(path: Path) -> None:
    """Scales a 16-bit WAV in place so its peak is full scale, as piper-tts's synthesize_wav
    does to every sentence by default (SynthesisConfig.normalize_audio)."""
    import numpy as np

    with wave.open(str(path), "rb") as r:
        params = r.getparams()
        audio = np.frombuffer(r.readframes(r.getnframes()), dtype=np.int16).astype(np.float32)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > 0:
        audio = np.clip(audio * (32767.0 / peak), -32767, 32767)
    with wave.open(str(path), "wb") as w:
        w.setparams(params)
        w.writeframes(audio.astype(np.int16).tobytes())


def concat_wavs(parts: list[Path], out: Path) -> None:
    """Joins WAVs of one format end to end, without silence (as piper-tts's synthesize_wav
    joins the sentences of one text)."""
    with wave.open(str(parts[0]), "rb") as first:
        params = first.getparams()
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        for part in parts:
            with wave.open(str(part), "rb") as r:
                w.writeframes(r.readframes(r.getnframes()))


def synth_parla(args, seed: int, sentences: list[str], out_dir: Path) -> tuple[list[Path | None], list[str]]:
    """One `parla say --each-line` process: the voice is loaded once for every sentence."""
    extra = shlex.split(args.parla_args)
    line_dir = out_dir / "parla"
    cmd = [args.parla, "say", "--each-line", str(line_dir), "--seed", str(seed),
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


def synth_parla_phonemes(args, seed: int, phonemes: list[list[str]], out_dir: Path) -> tuple[list[Path | None], list[str]]:
    """One `parla say --phonemes IPA` process per espeak sentence (the flag takes one
    utterance), PHONEME_JOBS at a time, the parts of one line joined without silence. Slower
    than --each-line: the voice is loaded for every sentence."""
    from concurrent.futures import ThreadPoolExecutor

    extra = shlex.split(args.parla_args)

    def speak(i: int) -> tuple[Path | None, str | None]:
        wavs = []
        for k, ipa in enumerate(phonemes[i]):
            part = out_dir / f"{i + 1:04d}-{k}.wav"
            cmd = [args.parla, "say", "--phonemes", ipa, "--seed", str(seed),
                   "--voice", str(args.voice), "-o", str(part), *extra]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0 or not part.is_file():
                return None, f"sentence {i + 1}: no audio (parla exited {r.returncode}: {r.stderr.strip()[:300]})"
            wavs.append(part)
        if not wavs:
            return None, f"sentence {i + 1}: espeak gave no phonemes"
        out = out_dir / f"{i + 1:04d}.wav"
        concat_wavs(wavs, out)
        return out, None

    with ThreadPoolExecutor(PHONEME_JOBS) as pool:
        results = list(pool.map(speak, range(len(phonemes))))
    return [p for p, _ in results], [e for _, e in results if e]


_PIPER_VOICES: dict = {}


def piper_voice(path: Path):
    """The piper-tts voice, loaded once per process. onnxruntime seeds the model's random ops
    once per process (not per session), so a voice loaded afresh for each run replays the same
    noise and every run gives the same WER; one session keeps drawing new noise."""
    # piper-tts (GPL-3.0) is only the reference being compared against: imported here, at run
    # time, by this benchmark, and never a dependency of Parla.
    from piper import PiperVoice

    key = str(path)
    if key not in _PIPER_VOICES:
        _PIPER_VOICES[key] = PiperVoice.load(key)  # noise settings: the voice's config defaults
    return _PIPER_VOICES[key]


def synth_piper(args, sentences: list[str], out_dir: Path) -> list[Path]:
    voice = piper_voice(args.voice)
    paths = []
    for i, text in enumerate(sentences):
        out = out_dir / f"piper-{i:04d}.wav"
        with wave.open(str(out), "wb") as w:
            voice.synthesize_wav(text, w)
        paths.append(out)
    return paths


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


def systems(args, sentences: list[str]) -> list[System]:
    """The columns asked for: Parla with each --parla-phonemes source, then piper-tts. Parla's
    run r (0-based) uses seed --seed + r; oracle phonemes are made once, before any run."""
    out: list[System] = []
    for source in args.parla_phonemes:
        if source == "own":
            synth = lambda r, s, d: synth_parla(args, args.seed + r, s, d)
        else:
            phonemes = oracle_phonemes(source, sentences, args.voice)
            synth = (lambda ph: lambda r, s, d: synth_parla_phonemes(args, args.seed + r, ph, d))(phonemes)
        out.append(System(PARLA_NAMES[source], synth, lambda r: args.seed + r))
    out.append(System(PIPER, lambda r, s, d: (synth_piper(args, s, d), [])))
    return out


def run_once(system: System, r: int, sentences: list[str], model, args, out_dir: Path) -> Run:
    """Synthesizes and transcribes every sentence once with one system, and scores it."""
    run_dir = out_dir / f"run{r + 1}" / system.name.replace("/", "-")
    run_dir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    wavs, failures = system.synth(r, sentences, run_dir)
    synth_s = time.perf_counter() - t
    if args.peak_normalize and system.name != PIPER:
        for w in wavs:
            if w is not None:
                peak_normalize(w)
    for msg in failures:
        print(f"intelligibility: warning: {system.name} run {r + 1}: {msg}", file=sys.stderr)
    t = time.perf_counter()
    transcribe = transcribe_each if args.isolated else transcribe_packed
    hyps = transcribe(model, wavs, args.beam_size)
    whisper_s = time.perf_counter() - t
    total, edits = Errors(), []
    for text, hyp in zip(sentences, hyps):
        e = align(normalize(text), normalize(hyp))
        total = total + e
        edits.append(e.edits)
    audio_s = sum(wav_seconds(p) for p in wavs if p is not None)
    return Run(system.name, r + 1, system.seed(r), total, hyps, edits, audio_s, synth_s,
               whisper_s, failures)


def summary(runs: list[Run]) -> dict[str, dict]:
    """Per system: every run's WER, their mean and min-max."""
    out: dict[str, dict] = {}
    for run in runs:
        out.setdefault(run.system, {"wers": [], "seeds": []})
        out[run.system]["wers"].append(run.errors.wer)
        out[run.system]["seeds"].append(run.seed)
    for s in out.values():
        s["mean"] = statistics.fmean(s["wers"])
        s["min"], s["max"] = min(s["wers"]), max(s["wers"])
    return out


def print_runs(runs: list[Run]) -> None:
    print(f"{'system':<15} {'run':>3} {'seed':>4} {'WER':>8} {'subs':>5} {'dels':>5} {'ins':>5} "
          f"{'audio s':>8} {'synth s':>8} {'whisper s':>9}")
    for r in runs:
        seed = "-" if r.seed is None else str(r.seed)
        e = r.errors
        print(f"{r.system:<15} {r.run:>3} {seed:>4} {pct(e.wer):>8} {e.substitutions:>5} "
              f"{e.deletions:>5} {e.insertions:>5} {r.audio_s:>8.1f} {r.synth_s:>8.1f} "
              f"{r.whisper_s:>9.1f}" + (f"  ({len(r.failures)} failures)" if r.failures else ""))


def print_summary(stats: dict[str, dict], n_runs: int) -> None:
    print(f"\n{'system':<15} {'mean WER':>9} {'min':>8} {'max':>8}   (over {n_runs} run{'s' * (n_runs > 1)})")
    for name, s in stats.items():
        print(f"{name:<15} {pct(s['mean']):>9} {pct(s['min']):>8} {pct(s['max']):>8}")
    ref = stats[PIPER]["mean"]
    for name, s in stats.items():
        if name == PIPER:
            continue
        ratio = f"{s['mean'] / ref:.2f}x" if ref > 0 else ("1.00x" if s["mean"] == 0 else "inf")
        print(f"{name} - {PIPER}: {100 * (s['mean'] - ref):+.2f} percentage points (means); ratio {ratio}")


def print_worst(runs: list[Run], system: str, sentences: list[str], n: int) -> None:
    """The sentences with the most word errors for `system`, summed over runs."""
    mine = [r for r in runs if r.system == system]
    piper = [r for r in runs if r.system == PIPER]
    edits = [sum(r.edits[i] for r in mine) for i in range(len(sentences))]
    worst = [i for i in sorted(range(len(sentences)), key=lambda i: -edits[i]) if edits[i] > 0][:n]
    if not worst:
        return
    print(f"\nworst sentences for {system} (word errors summed over {len(mine)} run(s)):")
    for i in worst:
        print(f"  [{i + 1}] {system} {edits[i]} errors, {PIPER} {sum(r.edits[i] for r in piper)}")
        print(f"      text:  {sentences[i]}")
        print(f"      {system}: {mine[0].hyps[i]}")
        print(f"      {PIPER}: {piper[0].hyps[i]}")


def write_json(path: Path, args, sentences_path: Path, sentences: list[str], runs: list[Run],
               stats: dict[str, dict], timings: dict[str, float]) -> None:
    rows = []
    for i, text in enumerate(sentences):
        row: dict = {"text": text, "words": len(normalize(text))}
        for r in runs:
            row.setdefault(r.system, {"hyps": [], "edits": []})
            row[r.system]["hyps"].append(r.hyps[i])
            row[r.system]["edits"].append(r.edits[i])
        rows.append(row)
    parla = stats.get(PARLA_NAMES[args.parla_phonemes[0]]) if args.parla_phonemes else None
    path.write_text(json.dumps({
        "sentences": str(sentences_path), "beam_size": args.beam_size, "isolated": args.isolated,
        "peak_normalize": args.peak_normalize,
        "runs": args.runs, "words": len(normalize(" ".join(sentences))),
        "parla_wer": parla["mean"] if parla else None, "piper_wer": stats[PIPER]["mean"],
        "systems": stats,
        "per_run": [{"system": r.system, "run": r.run, "seed": r.seed, "wer": r.errors.wer,
                     "substitutions": r.errors.substitutions, "deletions": r.errors.deletions,
                     "insertions": r.errors.insertions, "audio_s": r.audio_s,
                     "synth_s": r.synth_s, "whisper_s": r.whisper_s, "failures": len(r.failures)}
                    for r in runs],
        "timings_s": timings, "rows": rows}, indent=1), encoding="utf-8")


def phoneme_sources(value: str) -> list[str]:
    sources = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in sources if v not in PHONEME_SOURCES]
    if bad or not sources:
        raise argparse.ArgumentTypeError(f"expected a comma list of {', '.join(PHONEME_SOURCES)}")
    return list(dict.fromkeys(sources))


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
    ap.add_argument("--parla-phonemes", type=phoneme_sources, default=["own"],
                    help="comma list of what Parla speaks, one column each: own (its G2P, the "
                         "default), espeak (piper-phonemize's espeak-ng phonemes, an oracle "
                         "that isolates the engine from the G2P), piper (the phonemes of "
                         "piper-tts's own espeak-ng). Oracles are bench-only and slower (one "
                         "parla process per sentence)")
    ap.add_argument("--voice", type=Path, default=Path(os.environ.get("PARLA_VOICE", DEFAULT_VOICE)),
                    help="Piper voice .onnx (its .onnx.json beside it), used by both systems")
    ap.add_argument("--seed", type=int, default=1, help="parla --seed of the first run (default 1)")
    ap.add_argument("--runs", type=int, default=1,
                    help="speak everything N times: Parla with seeds --seed..--seed+N-1, "
                         "piper-tts (unseeded) N times; report each run, the mean and min-max")
    ap.add_argument("--beam-size", type=int, default=BEAM_SIZE,
                    help=f"Whisper beam size (default {BEAM_SIZE}: greedy)")
    ap.add_argument("--peak-normalize", action="store_true",
                    help="scale each of Parla's WAVs to full-scale peak before Whisper, as "
                         "piper-tts does to each sentence (a loudness control: Parla's output is "
                         "the model's raw level, about 7 dB below piper-tts's)")
    ap.add_argument("--isolated", action="store_true",
                    help="transcribe each sentence on its own (slower) instead of packed windows")
    ap.add_argument("--threads", type=int, default=2, help="Whisper CPU threads (default 2)")
    ap.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR,
                    help="where Whisper base is assembled (default models/.cache/whisper-base)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if Parla's mean WER > piper-tts's mean WER + tolerance")
    ap.add_argument("--tolerance", type=float, default=1.0,
                    help="allowed excess of Parla's WER, percentage points (default 1.0)")
    ap.add_argument("--worst", type=int, default=5, help="list this many worst sentences for Parla")
    ap.add_argument("--keep", type=Path, default=None, help="keep the WAVs in this folder")
    ap.add_argument("--json", type=Path, default=None, help="also write per-run and per-sentence results here")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")

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

    runs: list[Run] = []
    try:
        print(f"intelligibility: {len(sentences)} sentences from {sentences_path}; voice {args.voice}; "
              f"{args.runs} run(s)")
        t = time.perf_counter()
        columns = systems(args, sentences)
        timings["oracle phonemes"] = time.perf_counter() - t
        t = time.perf_counter()
        from faster_whisper import WhisperModel
        model = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                             cpu_threads=args.threads, num_workers=1)
        timings["whisper load"] = time.perf_counter() - t
        for r in range(args.runs):
            for system in columns:
                run = run_once(system, r, sentences, model, args, out_dir)
                runs.append(run)
                print(f"intelligibility: run {r + 1} {system.name}: WER {pct(run.errors.wer).strip()} "
                      f"(synth {run.synth_s:.0f} s, whisper {run.whisper_s:.0f} s)", flush=True)
    finally:
        if tmp is not None:
            tmp.cleanup()
    for run in runs:
        key = f"{run.system} (synth + whisper, all runs)"
        timings[key] = timings.get(key, 0.0) + run.synth_s + run.whisper_s
    timings["total"] = time.perf_counter() - t_start

    stats = summary(runs)
    print()
    print(f"Whisper base (faster-whisper, int8, beam {args.beam_size}, "
          f"{'isolated' if args.isolated else 'packed'}) on "
          f"{len(sentences)} sentences, {runs[0].errors.ref_words} words")
    print_runs(runs)
    print_summary(stats, args.runs)
    for source in args.parla_phonemes:
        print_worst(runs, PARLA_NAMES[source], sentences, args.worst)

    print("\ntimings (s):")
    for name, secs in timings.items():
        print(f"  {name:<44} {secs:7.1f}")

    if args.json:
        write_json(args.json, args, sentences_path, sentences, runs, stats, timings)

    if not args.check:
        return 0
    name = PARLA_NAMES[args.parla_phonemes[0]]
    pw, qw = stats[name]["mean"], stats[PIPER]["mean"]
    if 100 * (pw - qw) > args.tolerance:
        print(f"\nFAIL: {name} mean WER {100 * pw:.2f}% exceeds {PIPER} {100 * qw:.2f}% "
              f"by more than {args.tolerance} percentage points")
        return 1
    print(f"\nOK: {name} mean WER within {args.tolerance} percentage points of {PIPER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
