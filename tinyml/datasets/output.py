"""Writing a generated dataset safely: build it in a hidden staging folder next to the target,
publish it with a rename, reuse a complete one made with the same settings, and never write
into a folder that holds anything else."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A hidden staging folder beside ``out`` (``publish`` renames it into place). It is removed if
    an error or Ctrl-C stops the work first; staging folders of processes that died without
    cleaning up (SIGTERM, SIGKILL) are removed on the next run."""
    for stale in out.parent.glob(f".{out.name}.partial-*") if out.parent.is_dir() else ():
        pid = stale.name.rsplit("-", 1)[1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def publish(tmp: Path, out: Path, manifest_name: str, manifest: dict[str, Any]) -> Path:
    (tmp / manifest_name).write_text(json.dumps(manifest, indent=2) + "\n")
    if out.exists():
        out.rmdir()  # empty: checked by up_to_date
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    return out
