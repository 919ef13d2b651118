"""PlatformIO runs for generated projects (``pio run [-t upload]``), offline-ready: the project's
board comes from its marker file, failures become one line plus the log path. What to run for a
board is its platform's decision (``tinyml.platform``)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tinyml.boards import Board, get_board
from tinyml.build.elf import ElfSizes
from tinyml.build.pio import environment, seed_scons
from tinyml.errors import TinymlError

MARKER = ".tinyml-project.json"
LOG_NAME = "tinyml-build.log"


class BuildError(TinymlError):
    """PlatformIO could not build or upload the project."""


@dataclass(frozen=True)
class Firmware:
    project: Path
    board: Board
    runtime: str
    elf: Path
    sizes: ElfSizes


def project_board(project: Path) -> tuple[Board, str]:
    marker = Path(project) / MARKER
    if not marker.is_file():
        raise TinymlError(f"{project} is not a tinyml project (no {MARKER}); create one with `tinyml generate`")
    meta = json.loads(marker.read_text())
    return get_board(meta["board"]), str(meta.get("runtime", "tflm"))


def require_project_model(project: Path, model: Path) -> None:
    """Refuse a model other than the one the project was generated from (same bytes, by SHA-256)."""
    meta = json.loads((Path(project) / MARKER).read_text())
    expected = meta.get("model_sha256")
    if not Path(model).is_file():
        raise TinymlError(f"model {model} does not exist; pass the .tflite {project} was generated from")
    actual = hashlib.sha256(Path(model).read_bytes()).hexdigest()
    if expected and actual != expected:
        raise TinymlError(f"{model} is not the model {project} was generated from (sha256 {actual[:12]}…, the "
                          f"project has {expected[:12]}…); pass that model, or run `tinyml generate` with this one")


def first_error(log: str) -> str:
    """The line of a build log that says what went wrong (compiler, linker or PlatformIO)."""
    for line in log.splitlines():
        low = line.lower()
        if "error:" in low or "fatal" in low or "undefined reference" in low or "overflowed" in low:
            return line.strip()[:200]
    tail = [line for line in log.splitlines() if line.strip()]
    return tail[-1].strip()[:200] if tail else "no output"


def run_pio(project: Path, args: list[str], deadline_s: float, what: str) -> str:
    seed_scons()
    cmd = [sys.executable, "-m", "platformio", "run", *args]
    log_path = project / ".pio" / LOG_NAME
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(cmd, cwd=project, env=environment(), capture_output=True, text=True,
                                timeout=deadline_s)
    except subprocess.TimeoutExpired as err:
        raise BuildError(f"{what} of {project} took longer than {deadline_s:.0f} s; see {log_path}") from err
    log = result.stdout + result.stderr
    log_path.write_text(log)
    if result.returncode != 0:
        hint = ""
        if "HTTPClientError" in log or "Could not resolve" in log:
            hint = " (PlatformIO needs the internet to install this board's platform once)"
        raise BuildError(f"{what} failed: {first_error(log)}{hint}; full log: {log_path}")
    return log


def find_elf(project: Path, env: str) -> Path:
    out = Path(project) / ".pio" / "build" / env
    elves = sorted(out.glob("*.elf"))
    if not elves:
        raise BuildError(f"no firmware ELF in {out}; build the project first (`tinyml build {project}`)")
    return elves[0]
