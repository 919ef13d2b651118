"""The board families tinyml builds for. Each is chosen by the ``firmware.port`` of a board file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from tinyml.device.target import DeviceError, Target
from tinyml.generate.render import render
from tinyml.platform.base import ArenaAlloc, Platform, Requirement, TflmLibrary, tool_requirement
from tinyml.resources import data_dir

PROJECT_PLATFORM = "tinyml-qemu"  # the emulated board's PlatformIO dev-platform, copied into each project
APT_HINT = "apt-get install {} (or run scripts/bootstrap.sh)"


class QemuStm32(Platform):
    """The emulated STM32F405 (QEMU netduinoplus2): tinyml's own PlatformIO dev-platform in
    ``platforms/`` with the local Arm toolchain, a linker script rendered from the board's memory,
    and QEMU as the Target. Nothing to flash: QEMU loads the ELF."""

    kind = "qemu_stm32"
    emulated = True
    templates: ClassVar[dict[str, str]] = {"linker.ld": "ports/qemu_stm32/linker.ld.j2"}
    flash_note = "emulated board: QEMU loads the ELF"

    @property
    def target_label(self) -> str:
        assert self.board.emulator is not None  # the board file loader insists on it for target: qemu
        return f"QEMU {self.board.emulator.machine}"

    def platformio_platform(self) -> str:
        # the dev-platform travels inside the project: moving or deleting the checkout breaks nothing
        return f"symlink://{PROJECT_PLATFORM}"

    def static_files(self) -> dict[str, Path]:
        root = data_dir("platforms") / self.board.platformio.platform
        return {f"{PROJECT_PLATFORM}/{p.relative_to(root).as_posix()}": p for p in sorted(root.rglob("*"))
                if p.is_file() and "__pycache__" not in p.parts}

    def flash(self, project: Path, port: str | None) -> str:
        return "nothing to flash: QEMU loads the ELF when it starts"

    def open_target(self, elf: Path | None, port: str | None) -> Target:
        if port is not None:
            raise DeviceError(f"{self.board.id} is emulated: its firmware runs under QEMU, not on {port}; drop "
                              "--port, or generate the project for the real board on that port")
        from tinyml.device.qemu import QemuTarget

        if elf is None:
            raise DeviceError(f"{self.board.id} is emulated: pass the firmware ELF to run (build the project first)")
        return QemuTarget(self.board, elf)

    def ends_session(self, port: str | None) -> bool:
        return port is None

    def traced_target(self, elf: Path, log: Path, ranges: str) -> Target | None:
        from tinyml.device.qemu import ExecTrace, QemuTarget

        return QemuTarget(self.board, elf, ExecTrace(log, ranges))

    def requirements(self, runtime: str, port: str | None = None) -> list[Requirement]:
        emulator = self.board.emulator
        assert emulator is not None  # the board file loader insists on it for target: qemu
        reqs = [tool_requirement("arm-none-eabi-gcc", "build", APT_HINT.format(
                    "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib")),
                tool_requirement(emulator.binary, "run", APT_HINT.format("qemu-system-arm"))]
        if runtime == "tflm":
            reqs.insert(1, self._tflm_requirement())
        if port is not None:
            reqs.append(Requirement("no serial port", "run", False, f"--port {port} was given",
                                    "drop --port: the emulated board runs under QEMU"))
        return reqs


class Stm32Cube(Platform):
    """ST NUCLEO boards: PlatformIO's ststm32 platform with the STM32Cube HAL, flashed through the
    on-board ST-LINK, printing on the ST-LINK's virtual COM port."""

    kind = "stm32cube"


class ArduinoNrf52(Platform):
    """nRF52840: PlatformIO's nordicnrf52 platform with the Arduino core; flashed through the DK's
    on-board J-Link, printing on the J-Link's virtual COM port."""

    kind = "arduino"


class EspIdf(Platform):
    """ESP32 family: PlatformIO's espressif32 platform with ESP-IDF. ESP-IDF's component manager
    fetches esp-tflite-micro (TFLM with ESP-NN) by itself; arenas over the board's threshold come
    from the heap (PSRAM when present)."""

    kind = "esp_idf"
    templates: ClassVar[dict[str, str]] = {"CMakeLists.txt": "ports/esp_idf/CMakeLists.txt.j2",
                 "src/CMakeLists.txt": "ports/esp_idf/src_CMakeLists.txt.j2"}
    component = "espressif/esp-tflite-micro"
    component_version = "^1.3.4"

    def tflm_library(self) -> TflmLibrary:
        return TflmLibrary(None, f"the ESP-IDF component manager fetches {self.component} {self.component_version} "
                           "(with ESP-NN) as src/idf_component.yml says")

    def extra_files(self, runtime: str, context: dict[str, Any]) -> dict[str, str]:
        if runtime != "tflm":
            return {}
        return {"src/idf_component.yml": render("ports/esp_idf/idf_component.yml.j2", component=self.component,
                                                version=self.component_version, **context)}

    def arena_alloc(self, runtime: str, arena_bytes: int) -> ArenaAlloc | None:
        threshold = int(dict(self.board.defines).get("arena_heap_threshold", "0"))
        if runtime != "tflm" or not 0 < threshold < arena_bytes:
            return None
        return ArenaAlloc("esp_heap_caps.h", "heap_caps_malloc((n), MALLOC_CAP_8BIT | (heap_caps_get_free_size("
                          "MALLOC_CAP_SPIRAM) >= (n) ? MALLOC_CAP_SPIRAM : 0))")

    def requirements(self, runtime: str, port: str | None = None) -> list[Requirement]:
        reqs = super().requirements("native", port)  # TFLM comes from the component manager, not TINYML_TFLM_DIR
        if runtime == "tflm":
            reqs.insert(1, Requirement(f"ESP-IDF component {self.component}", "build", reqs[0].present,
                                       "fetched on the first build (needs the internet)",
                                       "build once with internet"))
        return reqs


FAMILIES: dict[str, type[Platform]] = {cls.kind: cls for cls in (QemuStm32, Stm32Cube, ArduinoNrf52, EspIdf)}
