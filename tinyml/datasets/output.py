"""Writing a generated dataset safely: build it in a hidden staging folder next to the target,
publish it with a rename, reuse a complete one made with the same settings, and never write
into a folder that holds anything else."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from tinyml import console
from tinyml.errors import DatasetError


def up_to_date(out: Path, manifest_name: str, identity: dict[str, Any], force: bool) -> bool:
    """True when ``out`` already holds a dataset with this identity; otherwise make room for a new
    one (only replacing a generated dataset of ours, and only with ``force``)."""
    manifest_path = out / manifest_name
    if manifest_path.is_file():
        existing = json.loads(manifest_path.read_text())
        if {k: existing.get(k) for k in identity} == identity:
            console.info(f"{out} is up to date ({existing.get('items', '?')} items); reusing it")
            return True
        if not force:
            raise DatasetError(f"{out} holds a dataset generated with other settings; pass --force to rebuild it "
                               "or choose another folder")
        shutil.rmtree(out)
    elif out.exists() and any(out.iterdir()):
        raise DatasetError(f"{out} is not empty and is not a tinyml-generated dataset; choose an empty or new folder")
    return False


def staging(out: Path) -> Path:
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def publish(tmp: Path, out: Path, manifest_name: str, manifest: dict[str, Any]) -> Path:
    (tmp / manifest_name).write_text(json.dumps(manifest, indent=2) + "\n")
    if out.exists():
        out.rmdir()  # empty: checked by up_to_date
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    return out
