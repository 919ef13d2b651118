"""The pinned TFLite Micro source for the TFLM tests when ``TINYML_TFLM_DIR`` is unset.

CI and this workplace keep ``tflite-micro-<pin>.tar.xz`` (with its third-party code) in
``../shared/tflm/`` beside the repository. It is unpacked once into tinyml's cache — never into
the repository — checked against its ``SHA256SUMS``, and ``TINYML_TFLM_DIR`` is pointed at it, so
no TFLM test skips. Users keep setting ``TINYML_TFLM_DIR`` themselves."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from pathlib import Path

from tinyml.build.tflm import TFLM_PIN, cache_root

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "tflm"
MARKER = "tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _expected(tarball: Path) -> str | None:
    sums = tarball.parent / "SHA256SUMS"
    if not sums.is_file():
        return None
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == tarball.name:
            return parts[0]
    return None


def unpack_shared_tflm(shared: Path = SHARED) -> Path | None:
    """The unpacked ``tflite-micro/`` of the pinned tarball in ``shared`` (cached), or None if absent."""
    tarball = shared / f"tflite-micro-{TFLM_PIN[:12]}.tar.xz"
    if not tarball.is_file():
        return None
    dest = cache_root() / "tflm-source" / TFLM_PIN[:12]
    root = dest / "tflite-micro"
    if (root / MARKER).is_file():
        return root
    expected = _expected(tarball)
    if expected is not None and _sha256(tarball) != expected:
        raise RuntimeError(f"{tarball} does not match its SHA256SUMS; replace it")
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(partial, filter="data")
    if not (partial / "tflite-micro" / MARKER).is_file():
        raise RuntimeError(f"{tarball} does not hold tflite-micro/; replace it")
    shutil.rmtree(dest, ignore_errors=True)
    partial.rename(dest)
    return root


def use_shared_tflm() -> None:
    if os.environ.get("TINYML_TFLM_DIR"):
        return
    root = unpack_shared_tflm()
    if root is not None:
        os.environ["TINYML_TFLM_DIR"] = str(root)
