"""The offline link check (``tinyml build DIR --offline-check``): a Cortex-M board's project compiled
and linked with the local Arm toolchain (Debian's ``arm-none-eabi-gcc``) when the board's
PlatformIO platform is not installed, and its flash/RAM compared with the board's budget.

Everything the project generates is compiled for the board's CPU — model, op resolver or native
kernels, runtime, protocol engine — and TFLM + CMSIS-NN (TFLM runtime) as a static library built
once per CPU into tinyml's cache. The vendor console driver (STM32Cube HAL, Arduino core) needs the
platform that is missing, so the host (stdio) port stands in for it: the check covers everything
but that driver (and a microphone driver, for which the host port's file microphone stands in),
and says so.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tinyml import console
from tinyml.boards import Board
from tinyml.build.elf import ElfSizes, elf_sizes
from tinyml.build.firmware import first_error
from tinyml.build.tflm import EXCLUDED, TFLM_PIN, cache_root, define_flags, export_tflm, include_flags
from tinyml.errors import TinymlError, ToolMissingError
from tinyml.resources import data_dir

COMPILE_DEADLINE_S = 600.0  # one file
LINK_DEADLINE_S = 300.0
COMMON = ("-O2", "-ffunction-sections", "-fdata-sections", *define_flags())
CXX = ("-std=c++17", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics")
C = ("-std=c11",)


@dataclass(frozen=True)
class LinkCheck:
    board: Board
    runtime: str
    elf: Path
    sizes: ElfSizes

    @property
    def fits(self) -> bool:
        return self.sizes.flash <= self.board.flash_bytes and self.sizes.ram <= self.board.sram_bytes

    def describe(self) -> str:
        return (f"{self.board.id} ({self.runtime}, linked offline with arm-none-eabi-gcc; console driver stood in "
                f"by the host port): flash {self.sizes.flash:,} of {self.board.flash_bytes:,} B, RAM "
                f"{self.sizes.ram:,} of {self.board.sram_bytes:,} B")


def _compile_command(source: Path, obj: Path, flags: list[str]) -> list[str]:
    cxx = source.suffix in (".cc", ".cpp")
    return ["arm-none-eabi-g++" if cxx else "arm-none-eabi-gcc", *flags, *(CXX if cxx else C), "-c", str(source),
            "-o", str(obj)]


def _compile_all(jobs: list[list[str]]) -> None:
    def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_DEADLINE_S)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for cmd, result in zip(jobs, pool.map(run, jobs), strict=True):
            if result.returncode != 0:
                raise TinymlError(f"compiling {Path(cmd[-3]).name} failed: {first_error(result.stderr)}")


def tflm_library(core: str, cpu_flags: tuple[str, ...], work: Path) -> Path:
    """TFLM + CMSIS-NN compiled for one CPU into a static library, kept in tinyml's cache (keyed by
    the TFLM pin and the flags: ~300 files take minutes per CPU on 2 cores)."""
    key = hashlib.sha256(repr((TFLM_PIN, cpu_flags, COMMON, CXX)).encode()).hexdigest()[:12]
    lib = cache_root() / "tflm-link-check" / f"{core}-{key}" / "libtflm.a"
    if lib.is_file():
        return lib
    root = export_tflm()
    sources = [s for s in sorted(root.rglob("*")) if s.suffix in (".c", ".cc")
               and not any(str(s.relative_to(root)).startswith(e) for e in EXCLUDED)]
    out = work / "tflm"
    out.mkdir(parents=True, exist_ok=True)
    console.step(f"compiling TensorFlow Lite Micro for {' '.join(cpu_flags)} (once; minutes)")
    objects = [out / f"{i}.o" for i in range(len(sources))]
    flags = [*cpu_flags, *COMMON, *include_flags(root)]
    _compile_all([_compile_command(s, o, flags) for s, o in zip(sources, objects, strict=True)])
    lib.parent.mkdir(parents=True, exist_ok=True)
    partial = lib.with_suffix(".partial")
    subprocess.run(["arm-none-eabi-ar", "rcs", str(partial), *map(str, objects)], check=True,
                   timeout=LINK_DEADLINE_S)
    partial.replace(lib)
    return lib


def link_check(project: Path, board: Board, runtime: str, cpu_flags: tuple[str, ...]) -> LinkCheck:
    """Compile and link ``project`` for ``board``'s CPU with the local Arm toolchain."""
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-g++"):
        if shutil.which(tool) is None:
            raise ToolMissingError(f"{tool} not found; install it (apt-get install gcc-arm-none-eabi "
                                   "libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib)")
    src = Path(project) / "src"
    work = Path(project) / ".pio" / "offline-check"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    runtime_dir, frontend_dir = src / "tinyml" / "runtime", src / "tinyml" / "frontend"
    sources = [*sorted(src.glob("*.c")), *sorted(src.glob("*.cc")), *sorted((src / "tinyml" / "core").glob("*.c")),
               *sorted(runtime_dir.glob("*.c")), *sorted(runtime_dir.glob("*.cc")), *sorted(frontend_dir.glob("*.c")),
               data_dir("firmware") / "ports" / "host" / "tinyml_port_host.c"]  # stands in for the vendor driver
    if board.microphone and frontend_dir.is_dir():  # and the host's file microphone for the board's
        sources.append(data_dir("firmware") / "ports" / "host" / "tinyml_mic_host.c")
    flags = [*cpu_flags, *COMMON, f"-I{src}", f"-I{src / 'tinyml/core'}", f"-I{runtime_dir}", f"-I{frontend_dir}"]
    libs: list[str] = []
    if runtime == "tflm":
        flags += include_flags(export_tflm())
        libs.append(str(tflm_library(board.core, cpu_flags, work)))
    objects = [work / f"{i}-{s.stem}.o" for i, s in enumerate(sources)]
    _compile_all([_compile_command(s, o, flags) for s, o in zip(sources, objects, strict=True)])
    elf = work / "firmware.elf"
    link = subprocess.run(["arm-none-eabi-g++", *cpu_flags, "--specs=nano.specs", "--specs=nosys.specs",
                           "-Wl,--gc-sections", *map(str, objects), *libs, "-lm", "-o", str(elf)],
                          capture_output=True, text=True, timeout=LINK_DEADLINE_S)
    if link.returncode != 0:
        raise TinymlError(f"linking for {board.id} failed: {first_error(link.stderr)}")
    return LinkCheck(board, runtime, elf, elf_sizes(elf))
