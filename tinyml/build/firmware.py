"""Build and flash generated projects with PlatformIO (``pio run [-t upload]``), offline-ready:
the project's board comes from its marker file, failures become one line plus the log path."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tinyml.boards import Board, get_board
from tinyml.build.elf import ElfSizes, elf_sizes
from tinyml.build.pio import environment, seed_scons
from tinyml.errors import TinymlError

BUILD_DEADLINE_S = 1800.0  # a TFLM build from scratch on 2 cores takes minutes
UPLOAD_DEADLINE_S = 300.0
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


def _first_error(log: str) -> str:
    for line in log.splitlines():
        low = line.lower()
        if "error:" in low or "fatal" in low or "undefined reference" in low or "overflowed" in low:
            return line.strip()[:200]
    tail = [line for line in log.splitlines() if line.strip()]
    return tail[-1].strip()[:200] if tail else "no output"


def _pio(project: Path, args: list[str], deadline_s: float, what: str) -> str:
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
        raise BuildError(f"{what} failed: {_first_error(log)}{hint}; full log: {log_path}")
    return log


def find_elf(project: Path, board: Board) -> Path:
    out = Path(project) / ".pio" / "build" / board.id
    elves = sorted(out.glob("*.elf"))
    if not elves:
        raise BuildError(f"no firmware ELF in {out}; build the project first (`tinyml build {project}`)")
    return elves[0]


def build(project: Path) -> Firmware:
    project = Path(project)
    board, runtime = project_board(project)
    if runtime == "tflm" and board.port != "esp_idf":  # ESP-IDF fetches esp-tflite-micro by itself
        from tinyml.build.tflm import export_tflm

        export_tflm()  # the project's lib_deps points at the exported tree; says how to get TFLM if missing
    _pio(project, ["-e", board.id], BUILD_DEADLINE_S, "build")
    elf = find_elf(project, board)
    return Firmware(project, board, runtime, elf, elf_sizes(elf))


def upload(project: Path, port: str | None = None) -> None:
    """Flash a real board (PlatformIO's upload for its platform). The emulated board needs nothing."""
    project = Path(project)
    board, _ = project_board(project)
    if board.target == "qemu":
        return
    args = ["-e", board.id, "-t", "upload"] + (["--upload-port", port] if port else [])
    _pio(project, args, UPLOAD_DEADLINE_S, "upload")
