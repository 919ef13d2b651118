"""The TensorFlow Lite Micro library for Cortex-M firmware: one pinned tflite-micro version with
CMSIS-NN kernels, exported from a tflite-micro checkout into tinyml's cache as a PlatformIO
library. TFLM's own ``create_tflm_tree.py`` picks the files (so the list always matches the
pinned version); tinyml adds a ``library.json``. No TFLM code is ever part of tinyml itself.

Offline, ``TINYML_TFLM_DIR`` names the checkout; its third-party code must already be where
TFLM's Makefile keeps downloads (``tensorflow/lite/micro/tools/make/downloads/``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tinyml import console
from tinyml.errors import TinymlError, ToolMissingError

TFLM_PIN = "90b983c2b3f1480642e040bbd2ddb37b998f3424"  # tflite-micro commit the firmware is built against
EXPORT_DEADLINE_S = 900.0
DOWNLOADS = "tensorflow/lite/micro/tools/make/downloads"
REQUIRED_DOWNLOADS = ("flatbuffers", "gemmlowp", "ruy", "cmsis_nn", "cmsis", "kissfft")
MAKE_OPTIONS = ("TARGET=cortex_m_generic TARGET_ARCH=cortex-m4+fp OPTIMIZED_KERNEL_DIR=cmsis_nn TOOLCHAIN=gcc "
                "TARGET_TOOLCHAIN_ROOT=/usr/bin/")
# NDEBUG: TFLM's release build drops its debug checks (same speed, same outputs). Its other release
# define, TF_LITE_STRIP_ERROR_STRINGS, is left out: it also compiles out the per-layer profiler
# (operator names) that `tinyml bench` reports; benchmarks/mlperf.py adds it for the flash baseline.
DEFINES = ("CMSIS_NN", "TF_LITE_STATIC_MEMORY", "TF_LITE_DISABLE_X86_NEON", "KERNELS_OPTIMIZED_FOR_SPEED", "NDEBUG")
STRIP_ERROR_STRINGS = "-DTF_LITE_STRIP_ERROR_STRINGS"
INCLUDE_DIRS = (".", "third_party/flatbuffers/include", "third_party/gemmlowp", "third_party/ruy",
                "third_party/cmsis_nn", "third_party/cmsis_nn/Include", "third_party/cmsis/CMSIS/Core/Include")
# Replaced by the tinyml runtime (timing and logging through the board port) or not needed.
EXCLUDED = ("signal/", "third_party/kissfft/", "tensorflow/lite/micro/cortex_m_generic/debug_log.cc",
            "tensorflow/lite/micro/cortex_m_generic/micro_time.cc")


def cache_root() -> Path:
    return Path(os.environ.get("TINYML_CACHE", Path.home() / ".cache" / "tinyml"))


def export_dir() -> Path:
    return cache_root() / "tflm" / TFLM_PIN[:12]


def include_flags(root: Path) -> list[str]:
    return [f"-I{root / d}" if d != "." else f"-I{root}" for d in INCLUDE_DIRS]


def define_flags() -> list[str]:
    return [f"-D{d}" for d in DEFINES]


def _library_json(root: Path) -> dict[str, object]:
    return {
        "name": "tflite-micro", "version": f"0.0.0+{TFLM_PIN[:12]}",
        "description": "TensorFlow Lite Micro with CMSIS-NN, exported by tinyml (not part of tinyml)",
        "build": {"srcDir": ".", "includeDir": ".", "libArchive": True,
                  "flags": [*define_flags(), *include_flags(root)],
                  "srcFilter": ["+<*>", *(f"-<{e}>" for e in EXCLUDED)]},
    }


def _checkout() -> Path:
    value = os.environ.get("TINYML_TFLM_DIR")
    if not value:
        raise ToolMissingError(
            "TensorFlow Lite Micro sources are needed to build TFLM firmware for Cortex-M: set TINYML_TFLM_DIR to a "
            f"tflite-micro checkout (commit {TFLM_PIN[:12]}) with its third-party code in {DOWNLOADS}/ (README: "
            "'Firmware projects'), or use --runtime native, which needs no TFLM")
    root = Path(value).expanduser()
    if not (root / "tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py").is_file():
        raise ToolMissingError(f"TINYML_TFLM_DIR={root} is not a tflite-micro checkout; point it at one")
    missing = [d for d in REQUIRED_DOWNLOADS if not (root / DOWNLOADS / d).is_dir()]
    if missing:
        raise ToolMissingError(f"{root / DOWNLOADS} lacks {', '.join(missing)}; place them there as TFLM's Makefile "
                               "does (see its *_download.sh scripts for the pinned versions)")
    return root


def tflm_source_problem() -> str | None:
    """Why TFLM firmware cannot be built here, or None (exported already, or a usable checkout)."""
    if (export_dir() / "library.json").is_file():
        return None
    try:
        _checkout()
    except ToolMissingError as err:
        return str(err).split(";")[0].split(": set")[0]
    return None


def export_tflm() -> Path:
    """The exported library folder (built once per pinned version)."""
    out = export_dir()
    if (out / "library.json").is_file():
        return out
    root = _checkout()
    (root / DOWNLOADS / "pigweed").mkdir(exist_ok=True)  # the Makefile insists on it; the library does not use it
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_name(out.name + ".log")
    console.step(f"exporting TensorFlow Lite Micro {TFLM_PIN[:12]} + CMSIS-NN from {root}")
    try:
        proc = subprocess.run([sys.executable, "tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py",
                               f"--makefile_options={MAKE_OPTIONS}", str(tmp)], cwd=root, capture_output=True,
                              text=True, timeout=EXPORT_DEADLINE_S, check=False)
    except subprocess.TimeoutExpired as err:
        raise TinymlError(f"exporting TFLM took longer than {EXPORT_DEADLINE_S:.0f} s; run it again") from err
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise TinymlError(f"exporting TFLM failed (see {log}); check the checkout and its downloads")
    (tmp / "library.json").write_text(json.dumps(_library_json(out), indent=2) + "\n")
    tmp.rename(out)
    return out
