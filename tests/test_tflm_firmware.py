"""TFLite Micro firmware for the emulated STM32F405, built by PlatformIO offline against the TFLM
tree tinyml exports, run under QEMU and compared bit for bit with the TFLM host interpreter.
Needs TINYML_TFLM_DIR (a tflite-micro checkout with its downloads); skipped without it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from tinyml.boards import all_boards, get_board
from tinyml.build.elf import elf_sizes
from tinyml.build.pio import environment, seed_scons
from tinyml.build.tflm import EXCLUDED, TFLM_PIN, cache_root, define_flags, export_tflm, include_flags
from tinyml.device import protocol as p
from tinyml.generate.project import generate
from tinyml.resources import data_dir
from tinyml.tflite.interpreters import TflmRunner
from tinyml.tflite.model import load_model
from tinyml.train.rundir import RunDir

from .devices import HostDevice, qemu_argv

TINY = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
BUILD_DEADLINE_S = 1800

pytestmark = [pytest.mark.tflm, pytest.mark.slow, pytest.mark.skipif(
    not os.environ.get("TINYML_TFLM_DIR") or shutil.which("qemu-system-arm") is None,
    reason="needs TINYML_TFLM_DIR (tflite-micro checkout) and qemu-system-arm")]


def test_tflm_firmware_matches_the_host_interpreter(tmp_path: Path) -> None:
    export_tflm()
    seed_scons()
    board = get_board("qemu")
    project = generate(TINY, board, tmp_path / "project", name="tiny_kws")
    build = subprocess.run([sys.executable, "-m", "platformio", "run", "-j", "2"], cwd=project.path, env=environment(),
                           capture_output=True, text=True, timeout=BUILD_DEADLINE_S)
    assert build.returncode == 0, build.stdout[-3000:]
    elf = project.path / ".pio" / "build" / board.id / "program.elf"
    dev = HostDevice(qemu_argv(board, elf))
    model = load_model(TINY)
    host = TflmRunner(model.data)
    rng = np.random.default_rng(0)
    try:
        info = p.info(dev.send(p.command("tinyml", "info")))
        assert info["runtime"] == "tflm" and 0 < int(info["arena"]) < project.arena_bytes
        for _ in range(8):
            x = rng.integers(-128, 128, model.input_tensors[0].shape, dtype=np.int64).astype(np.int8)
            for cmd in p.load_commands(x.tobytes()):
                assert not p.errors_in(dev.send(cmd))
            result = p.inference(dev.send(p.command("infer", 1, 0)))
            assert result.raw == tuple(int(v) for v in host.run(x)[0])
        layers = p.layers(dev.send(p.command("tinyml", "layers")))
        assert [layer.name for layer in layers] == [op.opcode for op in model.operators]
        assert dev.proc.stdin is not None
        dev.proc.stdin.write(p.command("tinyml", "exit"))
    finally:
        assert dev.proc.wait(timeout=30) == 0


# gcc flags for each Cortex-M `core` named in boards/*.yaml (the F746's Cortex-M7 has the single-precision FPU).
CPU_FLAGS = {"cortex-m4f": ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"),
             "cortex-m7": ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard")}
COMMON = ("-O2", "-ffunction-sections", "-fdata-sections", *define_flags())
CXX = ("-std=c++17", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics")
CORTEX_M_BOARDS = [b.id for b in all_boards() if b.core in CPU_FLAGS]


def _compile_command(source: Path, obj: Path, flags: list[str], c_flags: tuple[str, ...] = ()) -> list[str]:
    cxx = source.suffix == ".cc"
    return ["arm-none-eabi-g++" if cxx else "arm-none-eabi-gcc", *flags, *(CXX if cxx else c_flags), "-c",
            str(source), "-o", str(obj)]


def _compile(jobs: list[list[str]]) -> None:
    def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_DEADLINE_S)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for result in pool.map(run, jobs):
            assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture(scope="module")
def tflm_libraries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The exported TFLM + CMSIS-NN tree compiled once per Cortex-M core into a static library."""
    root = export_tflm()
    sources = [s for s in sorted(root.rglob("*")) if s.suffix in (".c", ".cc")
               and not any(str(s.relative_to(root)).startswith(e) for e in EXCLUDED)]
    libs = {}
    for core in sorted({get_board(b).core for b in CORTEX_M_BOARDS}):
        # ~300 files take minutes per core: kept in tinyml's cache, keyed by the TFLM pin and the flags
        key = hashlib.sha256(repr((TFLM_PIN, CPU_FLAGS[core], COMMON, CXX)).encode()).hexdigest()[:12]
        lib = cache_root() / "tflm-link-check" / f"{core}-{key}" / "libtflm.a"
        if lib.is_file():
            libs[core] = lib
            continue
        out = tmp_path_factory.mktemp(f"tflm-{core}")
        objects = [out / f"{i}.o" for i in range(len(sources))]
        _compile([_compile_command(s, o, [*CPU_FLAGS[core], *COMMON, *include_flags(root)])
                  for s, o in zip(sources, objects, strict=True)])
        lib.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["arm-none-eabi-ar", "rcs", str(out / "libtflm.a"), *map(str, objects)], check=True, timeout=120)
        (out / "libtflm.a").replace(lib)
        libs[core] = lib
    return libs


@pytest.mark.parametrize("board_id", CORTEX_M_BOARDS)
def test_tflm_kws_firmware_links_for_every_cortex_m_board(board_id: str, trained_run: Path, tmp_path: Path,
                                                          tflm_libraries: dict[str, Path]) -> None:
    """The KWS DS-CNN as TFLM firmware for each Cortex-M board's CPU, compiled and linked with Debian's
    arm-none-eabi-g++ against TFLM + CMSIS-NN: generated model, op resolver, TFLM runtime and protocol
    engine as generated for that board. The vendor port (STM32Cube HAL, Arduino core) needs the board's
    PlatformIO platform, which cannot be installed offline: the host (stdio) port stands in for it, so this
    checks everything but the console driver — and that the image fits the board's flash and SRAM budgets."""
    board = get_board(board_id)
    project = generate(RunDir(trained_run).int8_model, board, tmp_path / "project", name="kws")
    src = project.path / "src"
    sources = [*sorted(src.glob("*.cc")), *sorted((src / "tinyml" / "core").glob("*.c")),
               *sorted((src / "tinyml" / "runtime").glob("*.cc")),
               data_dir("firmware") / "ports" / "host" / "tinyml_port_host.c"]
    flags = [*CPU_FLAGS[board.core], *COMMON, f"-I{src}", f"-I{src / 'tinyml/core'}", f"-I{src / 'tinyml/runtime'}",
             *include_flags(export_tflm())]
    objects = [tmp_path / f"{s.stem}.o" for s in sources]
    _compile([_compile_command(s, o, flags, ("-std=c11",)) for s, o in zip(sources, objects, strict=True)])
    elf = tmp_path / "firmware.elf"
    link = subprocess.run(["arm-none-eabi-g++", *CPU_FLAGS[board.core], "--specs=nano.specs", "--specs=nosys.specs",
                           "-Wl,--gc-sections", *map(str, objects), str(tflm_libraries[board.core]), "-lm", "-o",
                           str(elf)], capture_output=True, text=True, timeout=BUILD_DEADLINE_S)
    assert link.returncode == 0, link.stderr[-2000:]
    sizes = elf_sizes(elf)
    print(f"{board_id}: flash {sizes.flash} B (text {sizes.text}), RAM {sizes.ram} B, arena {project.arena_bytes} B")
    assert project.arena_bytes < sizes.ram <= board.sram_bytes
    assert len(RunDir(trained_run).int8_model.read_bytes()) < sizes.flash <= board.flash_bytes
