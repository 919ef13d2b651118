"""The host side of the firmware's serial protocol (firmware/PROTOCOL.md): pure functions that
turn received lines into typed events, and the commands the host sends. Reading lines from a
port (with deadlines) lives in the transport layer; nothing here does I/O.

Lines may carry junk before a message (boot noise, a half-received line): a message is
recognised at the end of the line, anything unrecognisable becomes :class:`Garbage`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tinyml.errors import TinymlError

TERMINATOR = "%"
HEX_CHUNK_BYTES = 48  # bytes per `db` command (96 hex digits; the firmware accepts 256 characters)


class ProtocolError(TinymlError):
    """The device answered, but not as the protocol says."""


@dataclass(frozen=True)
class Event:
    line: str


@dataclass(frozen=True)
class Ready(Event): ...


@dataclass(frozen=True)
class InitDone(Event): ...


@dataclass(frozen=True)
class Name(Event):
    name: str


@dataclass(frozen=True)
class Profile(Event):
    text: str


@dataclass(frozen=True)
class ModelId(Event):
    text: str


@dataclass(frozen=True)
class Lap(Event):
    us: int


@dataclass(frozen=True)
class TimestampMode(Event):
    """At boot, as the MLPerf reference: ``performance`` (timestamps on the UART) or ``energy`` (on a GPIO)."""

    mode: str


@dataclass(frozen=True)
class Expecting(Event):
    count: int


@dataclass(frozen=True)
class LoadDone(Event): ...


@dataclass(frozen=True)
class Phase(Event):
    """warmup-start-N, warmup-done, infer-start-N, infer-done."""

    phase: str
    count: int | None


@dataclass(frozen=True)
class InferTicks(Event):
    ticks: int


@dataclass(frozen=True)
class FrontEndTicks(Event):
    ticks: int  # port timer ticks the audio front end took for all timed runs


@dataclass(frozen=True)
class FrontEndFrames(Event):
    count: int  # frames (strides) a `tinyml frontend` measurement computed


@dataclass(frozen=True)
class Heard(Event):
    label: str  # a keyword the streaming detector heard
    score: float  # its mean probability over the averaging window
    ms: int  # audio time at the end of the window


@dataclass(frozen=True)
class Listening(Event):
    rate: int  # the microphone runs at this sample rate; detections follow as Heard


@dataclass(frozen=True)
class MicDropped(Event):
    count: int  # samples the microphone lost since listening began (the pipeline fell behind)


@dataclass(frozen=True)
class MicEnd(Event): ...  # the host build's file microphone reached the end of its file


@dataclass(frozen=True)
class RawInputs(Event):
    values: tuple[int, ...]


@dataclass(frozen=True)
class Results(Event):
    values: tuple[float, ...]


@dataclass(frozen=True)
class RawOutputs(Event):
    values: tuple[int, ...]


@dataclass(frozen=True)
class Info(Event):
    key: str
    value: str


@dataclass(frozen=True)
class Layer(Event):
    index: int
    name: str
    ticks: int


@dataclass(frozen=True)
class BufferLine(Event):
    data: bytes


@dataclass(frozen=True)
class Bye(Event): ...


@dataclass(frozen=True)
class DeviceError(Event):
    message: str


@dataclass(frozen=True)
class Garbage(Event): ...


_NUM = r"-?\d+(?:\.\d+)?"
_PATTERNS: tuple[tuple[re.Pattern[str], type[Event]], ...] = tuple((re.compile(p + r"$"), kind) for p, kind in (
    (r"m-ready", Ready),
    (r"m-init-done", InitDone),
    (r"m-name-dut-\[(?P<name>[^\]]*)\]", Name),
    (r"m-profile-\[(?P<text>[^\]]*)\]", Profile),
    (r"m-model-\[(?P<text>[^\]]*)\]", ModelId),
    (r"m-lap-us-(?P<us>\d+)", Lap),
    (r"m-timestamp-mode-(?P<mode>performance|energy)", TimestampMode),
    (r"m-\[Expecting (?P<count>\d+) bytes\]", Expecting),
    (r"m-load-done", LoadDone),
    (r"m-(?P<phase>warmup-start|warmup-done|infer-start|infer-done)(?:-(?P<count>\d+))?", Phase),
    (r"m-tinyml-infer-ticks-(?P<ticks>\d+)", InferTicks),
    (r"m-tinyml-frontend-ticks-(?P<ticks>\d+)", FrontEndTicks),
    (r"m-tinyml-frontend-frames-(?P<count>\d+)", FrontEndFrames),
    (rf"m-tinyml-heard-\[(?P<label>[^,\]]+),(?P<score>{_NUM}),(?P<ms>\d+)\]", Heard),
    (r"m-tinyml-listening-\[(?P<rate>\d+)\]", Listening),
    (r"m-tinyml-mic-dropped-(?P<count>\d+)", MicDropped),
    (r"m-tinyml-mic-end", MicEnd),
    (r"m-tinyml-in-\[(?P<values>(?:-?\d+(?:,-?\d+)*)?)\]", RawInputs),
    (rf"m-results-\[(?P<values>(?:{_NUM}(?:,{_NUM})*)?)\]", Results),
    (r"m-tinyml-out-\[(?P<values>(?:-?\d+(?:,-?\d+)*)?)\]", RawOutputs),
    (r"m-tinyml-info-(?P<key>ticks-hz|tick-unit|[a-z]+)-(?P<value>\S+)", Info),
    (r"m-tinyml-layer-(?P<index>\d+)-(?P<name>[A-Za-z0-9_:]+)-(?P<ticks>\d+)", Layer),
    (r"m-buffer-(?P<data>[0-9a-f]{2}(?:-[0-9a-f]{2})*)", BufferLine),
    (r"m-tinyml-bye", Bye),
    (r"e-\[(?P<message>.*)\]", DeviceError),
))


def parse_line(raw: str) -> Event:
    """One received line (with or without its line ending) -> an event."""
    line = "".join(ch for ch in raw if ch.isprintable()).strip()
    for pattern, kind in _PATTERNS:
        match = pattern.search(line)
        if match is None:
            continue
        g = match.groupdict()
        line = match.group(0)  # the message without whatever junk preceded it
        if kind in (Results, RawOutputs, RawInputs):
            cast = float if kind is Results else int
            return kind(line, tuple(cast(v) for v in g["values"].split(",") if v))  # type: ignore[call-arg]
        if kind is BufferLine:
            return BufferLine(line, bytes.fromhex(g["data"].replace("-", "")))
        if kind is Phase:
            return Phase(line, g["phase"], int(g["count"]) if g["count"] else None)
        if kind is Layer:
            return Layer(line, int(g["index"]), g["name"], int(g["ticks"]))
        if kind is Heard:
            return Heard(line, g["label"], float(g["score"]), int(g["ms"]))
        fields = {k: int(v) if k in ("us", "count", "ticks", "rate") else v for k, v in g.items()}
        return kind(line, **fields)  # type: ignore[call-arg]
    return Garbage(line)


def parse_lines(lines: Iterable[str]) -> list[Event]:
    return [parse_line(line) for line in lines if line.strip()]


def split_response(events: list[Event]) -> tuple[list[Event], list[Event]]:
    """(events up to and including the first m-ready, the rest)."""
    for i, event in enumerate(events):
        if isinstance(event, Ready):
            return events[: i + 1], events[i + 1 :]
    return events, []


# --- commands --------------------------------------------------------------------------------

def command(*words: object) -> bytes:
    return (" ".join(str(w) for w in words) + TERMINATOR).encode()


STREAM_CHUNK_BYTES = 120  # PCM bytes per `tinyml stream` command (240 hex digits fit the 256-character limit)


def stream_commands(pcm: bytes) -> list[bytes]:
    """`tinyml stream <hex>` commands carrying int16 little-endian ``pcm``."""
    return [command("tinyml", "stream", pcm[i : i + STREAM_CHUNK_BYTES].hex())
            for i in range(0, len(pcm) - len(pcm) % 2, STREAM_CHUNK_BYTES)]


def load_commands(data: bytes) -> list[bytes]:
    """The `db load` command and the `db <hex>` chunks that transfer ``data``."""
    chunks = [data[i : i + HEX_CHUNK_BYTES] for i in range(0, len(data), HEX_CHUNK_BYTES)]
    return [command("db", "load", len(data))] + [command("db", chunk.hex()) for chunk in chunks]


# --- interpreting responses ------------------------------------------------------------------

@dataclass(frozen=True)
class Inference:
    runs: int
    lap_us: int  # between the two m-lap-us stamps, for all runs
    ticks: int | None  # port timer ticks for all runs (tinyml extension)
    results: tuple[float, ...]
    raw: tuple[int, ...] | None
    frontend_ticks: int | None = None  # the audio front end's ticks for all runs (raw audio loaded)


def errors_in(events: Iterable[Event]) -> list[str]:
    return [e.message for e in events if isinstance(e, DeviceError)]


def inference(events: list[Event]) -> Inference:
    """Read an `infer` response; raises ProtocolError when a piece is missing."""
    if errs := errors_in(events):
        raise ProtocolError(f"the device reported: {errs[0]}")
    laps = [e.us for e in events if isinstance(e, Lap)]
    starts = [e.count for e in events if isinstance(e, Phase) and e.phase == "infer-start"]
    results = [e for e in events if isinstance(e, Results)]
    if len(laps) != 2 or not starts or not results:
        raise ProtocolError("incomplete inference response (expected infer-start, two m-lap-us and m-results); "
                            "check the firmware and the serial connection")
    ticks = next((e.ticks for e in events if isinstance(e, InferTicks)), None)
    raw = next((e.values for e in events if isinstance(e, RawOutputs)), None)
    frontend = next((e.ticks for e in events if isinstance(e, FrontEndTicks)), None)
    return Inference(starts[0] or 1, laps[1] - laps[0], ticks, results[-1].values, raw, frontend)


def frontend_cost(events: list[Event]) -> tuple[int, int]:
    """(ticks, strides) of a `tinyml frontend N` response."""
    if errs := errors_in(events):
        raise ProtocolError(f"the device reported: {errs[0]}")
    ticks = next((e.ticks for e in events if isinstance(e, FrontEndTicks)), None)
    frames = next((e.count for e in events if isinstance(e, FrontEndFrames)), None)
    if ticks is None or not frames:
        raise ProtocolError("incomplete `tinyml frontend` response (expected front-end ticks and frames)")
    return ticks, frames


def raw_inputs(events: Iterable[Event]) -> tuple[int, ...]:
    """The model input of a `tinyml in` response."""
    found = [e.values for e in events if isinstance(e, RawInputs)]
    if not found:
        raise ProtocolError("no m-tinyml-in line in the response; the firmware predates `tinyml in`: regenerate it")
    return found[-1]


def info(events: Iterable[Event]) -> dict[str, str]:
    return {e.key: e.value for e in events if isinstance(e, Info)}


def layers(events: Iterable[Event]) -> list[Layer]:
    return [e for e in events if isinstance(e, Layer)]
