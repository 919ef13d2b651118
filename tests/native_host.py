"""Compile a generated project's runtime for the host with gcc and run it on many inputs — the
emlearn-style check that generated C matches the TFLM host interpreter bit for bit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from tinyml.errors import TinymlError, ToolMissingError
from tinyml.resources import data_dir

COMPILE_DEADLINE_S = 300.0
RUN_DEADLINE_S = 300.0
HOST_CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter")


def build_host_runner(project: Path, out: Path, cc: str = "gcc", extra: tuple[str, ...] = ()) -> Path:
    """Compile the project's runtime (src/tinyml/runtime + generated sources) with the batch driver."""
    if shutil.which(cc) is None:
        raise ToolMissingError(f"no host C compiler '{cc}'; install gcc (apt-get install gcc)")
    src = Path(project) / "src"
    frontend = src / "tinyml" / "frontend"  # KWS projects: the audio front end's tables are among src/*.c
    sources = sorted((src / "tinyml" / "runtime").glob("*.c")) + sorted(src.glob("*.c")) + sorted(frontend.glob("*.c"))
    sources.append(data_dir("firmware") / "host" / "tinyml_batch.c")
    exe = Path(out)
    cmd = [cc, *HOST_CFLAGS, *extra, f"-I{src}", f"-I{src / 'tinyml' / 'core'}", f"-I{src / 'tinyml' / 'runtime'}",
           f"-I{frontend}", *map(str, sources), "-o", str(exe), "-lm"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_DEADLINE_S)
    if result.returncode != 0:
        raise TinymlError(f"host compile of {project} failed: {result.stderr.strip().splitlines()[:3]}")
    return exe


def run_host(exe: Path, inputs: np.ndarray, output_bytes: int) -> np.ndarray:
    """inputs [n, input_bytes] int8 -> outputs [n, output_bytes] int8."""
    data = np.ascontiguousarray(inputs, dtype=np.int8)
    result = subprocess.run([str(exe)], input=data.tobytes(), capture_output=True, timeout=RUN_DEADLINE_S)
    if result.returncode != 0:
        raise TinymlError(f"{exe} exited with {result.returncode}: {result.stderr.decode(errors='replace').strip()}")
    return np.frombuffer(result.stdout, dtype=np.int8).reshape(len(data), output_bytes)
