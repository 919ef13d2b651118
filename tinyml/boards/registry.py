"""Load ``boards/*.yaml`` into frozen, validated dataclasses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tinyml.errors import BoardError
from tinyml.resources import data_dir

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_USB = re.compile(r"^(?P<vid>[0-9A-Fa-f]{4}):(?P<pid>[0-9A-Fa-f]{4})$")
TARGETS = ("serial", "qemu")


@dataclass(frozen=True)
class UsbId:
    vid: int
    pid: int

    def __str__(self) -> str:
        return f"{self.vid:04X}:{self.pid:04X}"


@dataclass(frozen=True)
class PlatformIO:
    platform: str
    board: str
    framework: str | None
    upload_protocol: str | None = None  # PlatformIO's default for the board when None


@dataclass(frozen=True)
class Emulator:
    """How to run the board under QEMU."""

    binary: str
    machine: str
    cpu: str


@dataclass(frozen=True)
class Energy:
    """MLPerf Tiny energy mode on this board: the EnergyRunner's IO manager talks to the firmware at
    ``baud`` and timestamps are falling edges on ``pin`` (the port drives it through ``defines``)."""

    pin: str  # as printed on the board, e.g. "D7 (PF13)"
    baud: int
    defines: tuple[tuple[str, str], ...]  # TM_<NAME> for the port's timestamp pin


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    aliases: tuple[str, ...]
    family: str
    mcu: str
    core: str
    clock_mhz: int
    flash_bytes: int
    sram_bytes: int
    reserve_flash_bytes: int
    reserve_sram_bytes: int
    platformio: PlatformIO
    baud: int
    usb_ids: tuple[UsbId, ...]
    target: str
    emulator: Emulator | None
    port: str  # firmware/ports/<port>
    defines: tuple[tuple[str, str], ...]  # board facts for the port (TM_<NAME>)
    source: Path
    microphone: str | None = None  # firmware/mics/<microphone>: the driver of the board's microphone
    energy: Energy | None = None  # MLPerf Tiny energy mode (None: the board file names no timestamp pin)

    @property
    def clock_hz(self) -> int:
        return self.clock_mhz * 1_000_000

    @property
    def model_flash_budget(self) -> int:
        """Flash left for model weights and the inference code after the firmware reserve."""
        return self.flash_bytes - self.reserve_flash_bytes

    @property
    def model_sram_budget(self) -> int:
        """SRAM left for the tensor arena after the firmware reserve (stack, buffers, heap)."""
        return self.sram_bytes - self.reserve_sram_bytes


class _Fields:
    """Typed access to one YAML mapping that reports problems with the file and key."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise BoardError(f"{where}: expected a mapping; see boards/README.md for the format")
        self.data = data
        self.where = where
        self.used: set[str] = set()

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., ) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise BoardError(f"{self.where}: missing key '{key}'; add it (see boards/README.md)")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise BoardError(f"{self.where}: '{key}' must be {_kind_name(kind)}, got {value!r}")
        return value

    def positive(self, key: str) -> int:
        value = self.get(key, int)
        if value <= 0:
            raise BoardError(f"{self.where}: '{key}' must be a positive integer, got {value}")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise BoardError(f"{self.where}: unknown key(s) {', '.join(unknown)}; check their spelling")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({"int": "an integer", "str": "a string", "list": "a list", "dict": "a mapping"}.get(
        k.__name__, k.__name__) for k in kinds)


def _usb_id(text: Any, where: str) -> UsbId:
    match = _USB.match(str(text))
    if not match:
        raise BoardError(f"{where}: USB id {text!r} must look like '0483:374B' (VID:PID in hex)")
    return UsbId(int(match["vid"], 16), int(match["pid"], 16))


def load_board(path: Path) -> Board:
    """Parse and validate one board file."""
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise BoardError(f"{path}: not valid YAML ({err.__class__.__name__}); fix the syntax") from err
    where = str(path)
    f = _Fields(raw, where)
    board_id = f.get("id", str)
    if not _ID.match(board_id) or board_id != path.stem:
        raise BoardError(f"{where}: id '{board_id}' must be lowercase [a-z0-9_-] and match the file name")

    mem = _Fields(f.get("memory", dict), f"{where}: memory")
    flash, sram = mem.positive("flash_kb") * 1024, mem.positive("sram_kb") * 1024
    reserve_flash, reserve_sram = mem.positive("reserve_flash_kb") * 1024, mem.positive("reserve_sram_kb") * 1024
    mem.finish()
    if reserve_flash >= flash or reserve_sram >= sram:
        raise BoardError(f"{where}: the firmware reserve must be smaller than the flash and SRAM budgets")

    pio = _Fields(f.get("platformio", dict), f"{where}: platformio")
    platformio = PlatformIO(pio.get("platform", str), pio.get("board", str), pio.get("framework", str, None),
                            pio.get("upload_protocol", str, None))
    pio.finish()

    serial = _Fields(f.get("serial", dict), f"{where}: serial")
    baud = serial.positive("baud")
    usb_ids = tuple(_usb_id(u, where) for u in serial.get("usb_ids", list, []))
    serial.finish()

    target = f.get("target", str)
    if target not in TARGETS:
        raise BoardError(f"{where}: target must be one of {', '.join(TARGETS)}, got '{target}'")
    emulator = None
    if "emulator" in f.data:
        emu = _Fields(f.get("emulator", dict), f"{where}: emulator")
        emulator = Emulator(emu.get("binary", str), emu.get("machine", str), emu.get("cpu", str))
        emu.finish()
    if target == "qemu" and emulator is None:
        raise BoardError(f"{where}: target 'qemu' needs an 'emulator' section (binary, machine, cpu)")

    fw = _Fields(f.get("firmware", dict), f"{where}: firmware")
    port = fw.get("port", str)
    microphone = fw.get("microphone", str, None)
    mics = data_dir("firmware") / "mics"
    if microphone is not None and not (mics / microphone).is_dir():
        known = ", ".join(sorted(d.name for d in mics.iterdir() if d.is_dir()))
        raise BoardError(f"{where}: firmware.microphone '{microphone}' is not a driver in firmware/mics/ ({known})")
    defines = _defines(fw.get("defines", dict, {}), where)
    fw.finish()
    energy = None
    if "energy" in f.data:
        en = _Fields(f.get("energy", dict), f"{where}: energy")
        energy = Energy(en.get("pin", str), en.positive("baud"), _defines(en.get("defines", dict), where))
        en.finish()

    aliases = f.get("aliases", list, [])
    if not all(isinstance(a, str) and _ID.match(a) for a in aliases):
        raise BoardError(f"{where}: aliases must be lowercase [a-z0-9_-] strings")
    board = Board(
        id=board_id,
        name=f.get("name", str),
        aliases=tuple(aliases),
        family=f.get("family", str),
        mcu=f.get("mcu", str),
        core=f.get("core", str),
        clock_mhz=f.positive("clock_mhz"),
        flash_bytes=flash,
        sram_bytes=sram,
        reserve_flash_bytes=reserve_flash,
        reserve_sram_bytes=reserve_sram,
        platformio=platformio,
        baud=baud,
        usb_ids=usb_ids,
        target=target,
        emulator=emulator,
        port=port,
        defines=defines,
        source=path,
        microphone=microphone,
        energy=energy,
    )
    f.finish()
    return board


def _defines(raw: dict[Any, Any], where: str) -> tuple[tuple[str, str], ...]:
    for key, value in raw.items():
        if not re.match(r"^[a-z][a-z0-9_]*$", str(key)) or not isinstance(value, str | int) or isinstance(value, bool):
            raise BoardError(f"{where}: firmware define {key!r} must be a lowercase identifier with a string or "
                             "integer value")
    return tuple((str(k), str(v)) for k, v in raw.items())


@cache
def _registry(folder: Path) -> dict[str, Board]:
    boards: dict[str, Board] = {}
    names: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        board = load_board(path)
        for name in (board.id, *board.aliases):
            if name in names:
                raise BoardError(f"{path}: name '{name}' is already used by board '{names[name]}'")
            names[name] = board.id
        boards[board.id] = board
    if not boards:
        raise BoardError(f"no board files in {folder}; reinstall tinyml")
    return boards


def all_boards(folder: Path | None = None) -> list[Board]:
    return list(_registry(folder or data_dir("boards")).values())


def get_board(name: str, folder: Path | None = None) -> Board:
    """A board by id or alias (case-insensitive)."""
    key = name.strip().lower()
    for board in all_boards(folder):
        if key == board.id or key in board.aliases:
            return board
    known = ", ".join(sorted(n for b in all_boards(folder) for n in (b.id, *b.aliases)))
    raise BoardError(f"unknown board '{name}'; choose one of: {known} (or run `tinyml boards`)")


def write_variant(base: Board, new_id: str, folder: Path, *, sram_kb: int | None = None,
                  flash_kb: int | None = None) -> Board:
    """A copy of ``base``'s board file under ``new_id`` (no aliases) with other memory sizes, in
    ``folder`` — e.g. the emulated chip with all the SRAM QEMU maps, or a tighter budget."""
    raw = yaml.safe_load(base.source.read_text())
    raw["id"], raw["aliases"] = new_id, []
    if sram_kb is not None:
        raw["memory"]["sram_kb"] = sram_kb
    if flash_kb is not None:
        raw["memory"]["flash_kb"] = flash_kb
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{new_id}.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return get_board(new_id, folder)
