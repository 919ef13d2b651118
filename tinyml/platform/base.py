"""A board family as one object (microTVM's Project API handler, Zephyr twister's DeviceAdapter):
the parts of a PlatformIO project it contributes, the fit rule, build, flash, the Target that talks
to the firmware, and what must be installed for each of those. Callers ask it; nothing outside
``tinyml.platform`` tests a board's port, target or PlatformIO platform name."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tinyml import console
from tinyml.boards import Board
from tinyml.build.firmware import Firmware, find_elf, run_pio
from tinyml.build.linkcheck import LinkCheck, link_check
from tinyml.build.pio import core_dir, environment
from tinyml.build.tflm import TFLM_PIN, define_flags, export_dir, include_flags, tflm_source_problem
from tinyml.device.target import Target
from tinyml.errors import TinymlError, ToolMissingError
from tinyml.platform.fit import FrontEndNeed, MemoryNeed, Placement, fit, place
from tinyml.tflite.model import TfliteModel

REGISTRY_HOST = "api.registry.platformio.org"
REGISTRY_DEADLINE_S = 3.0  # offline, a lookup fails at once; a slow network gets this long
INSTALL_DEADLINE_S = 1800.0  # a platform with its toolchain is hundreds of MB
BUILD_DEADLINE_S = 1800.0  # a TFLM build from scratch on 2 cores takes minutes
UPLOAD_DEADLINE_S = 300.0
# gcc flags per Cortex-M `core` of boards/*.yaml (the F746's Cortex-M7 has the single-precision FPU)
CORTEX_M_FLAGS = {"cortex-m4f": ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"),
                  "cortex-m7": ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard")}


@dataclass(frozen=True)
class TflmLibrary:
    lib_dep: str | None  # platformio.ini lib_deps entry, or None when the framework brings TFLM
    note: str  # how this board gets TFLM (a comment in platformio.ini)


@dataclass(frozen=True)
class ArenaAlloc:
    """Where a large arena comes from when it must not be a static array."""

    header: str
    expression: str  # C expression of (n)


@dataclass(frozen=True)
class Requirement:
    """One thing a stage needs on this machine: present or not, and how to get it."""

    what: str
    stage: str  # "build", "flash" or "run"
    present: bool
    detail: str
    fix: str
    install: tuple[str, ...] = ()  # a command that installs it when the internet is reachable


class Platform:
    """The default behaviour; a family overrides what differs (``families.py``)."""

    kind: ClassVar[str] = ""  # the firmware port of boards/*.yaml (firmware.port) this family serves
    emulated: ClassVar[bool] = False
    templates: ClassVar[dict[str, str]] = {}  # project file -> template under templates/
    flash_note: ClassVar[str] = ""  # shown by deploy's flash step

    def __init__(self, board: Board) -> None:
        self.board = board

    # ---- project parts -------------------------------------------------------------------------
    def platformio_platform(self) -> str:
        return self.board.platformio.platform

    def tflm_library(self) -> TflmLibrary:
        return TflmLibrary(f"symlink://{export_dir()}", f"tflite-micro {TFLM_PIN[:12]} with CMSIS-NN, exported by "
                           "tinyml into its cache (offline: from the checkout in TINYML_TFLM_DIR)")

    def build_flags(self, runtime: str, files: dict[str, str]) -> list[str]:
        flags = ["-Wl,-Tlinker.ld"] if "linker.ld" in files else []
        if runtime == "tflm" and self.tflm_library().lib_dep is not None:
            flags += [*define_flags(), *include_flags(export_dir())]
        return flags

    def extra_files(self, runtime: str, context: dict[str, Any]) -> dict[str, str]:
        """Project files (path -> rendered text) the family adds for ``runtime``; ``context`` is the
        templates' context."""
        return {}

    def arena_alloc(self, runtime: str, arena_bytes: int) -> ArenaAlloc | None:
        return None

    def static_files(self) -> dict[str, Path]:
        """Files copied into the project as they are (path in the project -> source)."""
        return {}

    @property
    def firmware_port(self) -> str:
        """The folder of firmware/ports/ whose console and timer driver this board uses."""
        return self.board.port

    @property
    def target_label(self) -> str:
        """How tinyml talks to the firmware, for listings."""
        return "serial"

    @property
    def cpu_flags(self) -> tuple[str, ...] | None:
        """gcc flags for the local Arm toolchain (Cortex-M boards), else None."""
        return CORTEX_M_FLAGS.get(self.board.core)

    # ---- fit -----------------------------------------------------------------------------------
    def place(self, model: TfliteModel, runtime: str, *, weights: str = "auto", name: str = "model",
              source_name: str = "model.tflite", where: str = "model", tflm_arena: int | None = None,
              front_end: FrontEndNeed | None = None) -> Placement:
        return place(self.board, model, runtime, weights=weights, name=name, source_name=source_name, where=where,
                     tflm_arena=tflm_arena, front_end=front_end)

    def fits(self, need: MemoryNeed) -> bool:
        return fit(self.board, need).fits

    # ---- build, flash, run ---------------------------------------------------------------------
    def build(self, project: Path, runtime: str) -> Firmware:
        if runtime == "tflm" and self.tflm_library().lib_dep is not None:
            from tinyml.build.tflm import export_tflm

            export_tflm()  # the project's lib_deps points at the exported tree; says how to get TFLM if missing
        run_pio(project, ["-e", self.board.id], BUILD_DEADLINE_S, "build")
        from tinyml.build.elf import elf_sizes

        elf = find_elf(project, self.board.id)
        return Firmware(project, self.board, runtime, elf, elf_sizes(elf))

    def flash(self, project: Path, port: str | None) -> str:
        """Flash the built project; returns what happened, for the user."""
        args = ["-e", self.board.id, "-t", "upload"] + (["--upload-port", port] if port else [])
        run_pio(project, args, UPLOAD_DEADLINE_S, "upload")
        return f"flashed {self.board.id}" + (f" on {port}" if port else "")

    def open_target(self, elf: Path | None, port: str | None) -> Target:
        from tinyml.device.serial_port import SerialTarget, find_port

        return SerialTarget(port or find_port(self.board), self.board.baud)

    def ends_session(self, port: str | None) -> bool:
        """True when the firmware should be asked to exit after a session (the emulator)."""
        return False

    def traced_target(self, elf: Path, log: Path, ranges: str) -> Target | None:
        """A Target that logs every instruction it executes in ``ranges`` (for the cycle estimate),
        or None: a real board runs at its own clock and measures time itself."""
        return None

    def offline_check(self, project: Path, runtime: str) -> LinkCheck:
        """Compile and link the project with the local Arm toolchain, without its PlatformIO platform."""
        flags = self.cpu_flags
        if flags is None:
            raise TinymlError(f"{self.board.id} ({self.board.core}) is not a Cortex-M board: the offline check uses "
                              "the local Arm toolchain; build it with PlatformIO (`tinyml build`)")
        return link_check(project, self.board, runtime, flags)

    # ---- what this machine has -----------------------------------------------------------------
    def requirements(self, runtime: str, port: str | None = None) -> list[Requirement]:
        name = self.board.platformio.platform
        installed = (core_dir() / "platforms" / name).is_dir()
        reqs = [Requirement(f"PlatformIO platform '{name}'", "build", installed,
                            str(core_dir() / "platforms" / name) if installed else "not installed",
                            f"with internet: python -m platformio pkg install -g -p {name} (its toolchain and "
                            "framework come with the first build)",
                            (sys.executable, "-m", "platformio", "pkg", "install", "-g", "-p", name))]
        if runtime == "tflm":
            reqs.append(self._tflm_requirement())
        reqs.append(self._port_requirement(port))
        return reqs

    def _tflm_requirement(self) -> Requirement:
        problem = tflm_source_problem()
        return Requirement("TensorFlow Lite Micro source", "build", problem is None,
                           str(export_dir()) if problem is None else problem,
                           "set TINYML_TFLM_DIR to a tflite-micro checkout with its downloads, or use --runtime native")

    def _port_requirement(self, port: str | None) -> Requirement:
        if port is not None:
            return Requirement("serial port", "flash", True, port, "")
        from tinyml.device.serial_port import find_port
        from tinyml.device.target import DeviceError

        try:
            found, detail = True, find_port(self.board)
        except DeviceError as err:
            found, detail = False, str(err).split(" — ")[0].split(";")[0]
        return Requirement("the board on USB", "flash", found, detail, "plug the board in or pass --port")


def tool_requirement(binary: str, stage: str, fix: str) -> Requirement:
    path = shutil.which(binary)
    return Requirement(binary, stage, path is not None, path or "not on PATH", fix)


def registry_reachable(deadline_s: float = REGISTRY_DEADLINE_S) -> bool:
    """Whether PlatformIO's registry answers (a TCP connection within the deadline)."""
    try:
        with socket.create_connection((REGISTRY_HOST, 443), timeout=deadline_s):
            return True
    except OSError:
        return False


def _install(req: Requirement) -> bool:
    """Install ``req`` with its command when online; True when it ran and succeeded."""
    if not req.install or not registry_reachable():
        return False
    console.step(f"installing {req.what} (once; needs the internet)")
    try:
        result = subprocess.run(list(req.install), env=environment(), capture_output=True, text=True,
                                timeout=INSTALL_DEADLINE_S)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def preflight(platform: Platform, runtime: str, port: str | None, stages: tuple[str, ...]) -> None:
    """Refuse in seconds what would fail after minutes of data and training; install what can be
    installed when the internet is reachable."""
    for req in platform.requirements(runtime, port):
        if req.stage in stages and not req.present and not _install(req):
            raise ToolMissingError(f"{platform.board.id} needs {req.what} ({req.detail}); {req.fix} "
                                   f"(`tinyml doctor --board {platform.board.id}` lists everything)")
