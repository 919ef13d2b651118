"""A conversation with tinyml firmware over any Target: wait for it to be ready, send commands,
collect each response up to its ``m-ready`` within a named deadline, and turn responses into
results with the pure parser in ``tinyml.device.protocol``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinyml.audio import features
from tinyml.device import protocol as p
from tinyml.device.target import BOOT_DEADLINE_S, RESPONSE_DEADLINE_S, DeviceError, Target, deadline, remaining

GARBAGE_LIMIT = 50  # this many unparseable lines in one response: the baud rate or the firmware is wrong
WAKE_COMMAND = p.command("name")
STREAM_BATCH_S = 0.5  # audio pipelined per round of `tinyml stream` commands (emulator)
LISTEN_POLL_S = 0.5  # while a microphone listens: how often the listening deadline is checked
PIPELINE_DEPTH = 128  # commands written ahead of their answers (their answers stay well inside 64 KB)


@dataclass(frozen=True)
class DeviceInfo:
    runtime: str
    model: str
    arena: int
    input_bytes: int
    output_bytes: int
    ticks_hz: int
    tick_unit: str
    audio_bytes: int = 0  # a raw clip the firmware's audio front end takes (0: no front end)


class Session:
    def __init__(self, target: Target, response_deadline_s: float = RESPONSE_DEADLINE_S) -> None:
        self.target = target
        self.response_deadline_s = response_deadline_s
        self.log: list[str] = []  # every line received, for reports and bug reports

    def wait_ready(self, boot_deadline_s: float = BOOT_DEADLINE_S) -> None:
        """Until the firmware's first m-ready; a board that booted before we connected is woken with `name%`."""
        until = deadline(boot_deadline_s)
        woken = False
        garbage = 0
        while remaining(until) > 0:
            line = self.target.readline(min(remaining(until), 1.0))
            if line is None:
                if not woken:
                    self.target.write(WAKE_COMMAND)
                    woken = True
                continue
            self.log.append(line)
            event = p.parse_line(line)
            if isinstance(event, p.Ready):
                return
            if isinstance(event, p.TimestampMode) and event.mode == "energy":
                raise DeviceError(f"{self.target.name} runs MLPerf energy-mode firmware (timestamps on a GPIO, for "
                                  "the EnergyRunner); to measure it with tinyml, flash firmware generated without "
                                  "--energy")
            if isinstance(event, p.Garbage) and line.strip():
                garbage += 1
                if garbage > GARBAGE_LIMIT:
                    raise DeviceError(f"{self.target.name} sends garbage ({line[:40]!r}…); check the baud rate "
                                      "and that tinyml firmware is flashed")
        if self.target.bytes_received and not self.log:
            raise DeviceError(f"{self.target.name} sent {self.target.bytes_received} bytes but never ended a line "
                              f"({self.target.partial_line!r}…); check the baud rate and that tinyml firmware is "
                              "flashed")
        raise DeviceError(f"{self.target.name} stayed silent for {boot_deadline_s:.0f} s after reset; check that "
                          "tinyml firmware is flashed and the port/baud are right")

    def send(self, cmd: bytes, deadline_s: float | None = None) -> list[p.Event]:
        """One command's response (the events up to and including m-ready)."""
        self.target.write(cmd)
        return self._response(cmd, deadline_s)

    def send_all(self, cmds: list[bytes]) -> list[list[p.Event]]:
        """Several commands' responses; pipelined when the link cannot drop input (the emulator),
        one answer at a time otherwise (a board's UART has no room for a second command)."""
        if not self.target.lossless_input:
            return [self.send(cmd) for cmd in cmds]
        responses: list[list[p.Event]] = []
        for start in range(0, len(cmds), PIPELINE_DEPTH):  # bounded: the answers must fit the link's buffers
            window = cmds[start : start + PIPELINE_DEPTH]
            self.target.write(b"".join(window))
            responses += [self._response(cmd, None) for cmd in window]
        return responses

    def _response(self, cmd: bytes, deadline_s: float | None) -> list[p.Event]:
        allowed = deadline_s if deadline_s is not None else self.response_deadline_s
        until = deadline(allowed)
        events: list[p.Event] = []
        garbage = 0
        while True:
            line = self.target.readline(remaining(until))
            if line is None:
                what = cmd.decode(errors="replace")
                got = f"; last line: {self.log[-1][:60]!r}" if events else ""
                raise DeviceError(f"no complete answer to `{what}` within {allowed:.0f} s{got} — the device hung, "
                                  "reset, or the link is broken")
            if not line.strip():
                continue  # blank lines (a \r\n split across reads, or the firmware's own) carry nothing
            event, garbage = self._event(line, garbage, "answers garbage")
            if isinstance(event, p.Garbage):
                continue
            if isinstance(event, p.InitDone) and events:
                raise DeviceError(f"{self.target.name} reset while running `{cmd.decode(errors='replace')}`; "
                                  "check its power supply and stack/heap sizes")
            events.append(event)
            if isinstance(event, p.Ready):
                return events

    def _event(self, line: str, garbage: int, doing: str) -> tuple[p.Event, int]:
        """A received line logged and parsed, with the count of garbage lines so far; too many of
        them mean the baud rate or the firmware is wrong."""
        self.log.append(line)
        event = p.parse_line(line)
        if isinstance(event, p.Garbage):
            garbage += 1
            if garbage > GARBAGE_LIMIT:
                raise DeviceError(f"{self.target.name} {doing} ({line[:40]!r}…); check the baud rate")
        return event, garbage

    def info(self) -> DeviceInfo:
        values = p.info(self.send(p.command("tinyml", "info")))
        try:
            return DeviceInfo(values["runtime"], values["model"], int(values["arena"]), int(values["input"]),
                              int(values["output"]), int(values["ticks-hz"]), values["tick-unit"],
                              int(values.get("audio", "0")))
        except (KeyError, ValueError) as err:
            raise DeviceError(f"{self.target.name} answered `tinyml info` without {err}; is this tinyml firmware?"
                              ) from err

    def load(self, data: bytes) -> None:
        for response in self.send_all(p.load_commands(data)):
            if errs := p.errors_in(response):
                raise DeviceError(f"the device refused the input: {errs[0]}")

    def infer(self, runs: int = 1, warmup: int = 0, deadline_s: float | None = None) -> p.Inference:
        return p.inference(self.send(p.command("infer", runs, warmup), deadline_s))

    def run(self, x: np.ndarray, deadline_s: float | None = None) -> np.ndarray:
        """Load one int8 input, run it once, return the raw int8 output."""
        self.load(np.ascontiguousarray(x, dtype=np.int8).tobytes())
        result = self.infer(1, 0, deadline_s)
        if result.raw is None:
            raise DeviceError("the firmware did not report raw outputs (m-tinyml-out); update it")
        return np.array(result.raw, dtype=np.int8)

    def run_audio(self, pcm: np.ndarray, deadline_s: float | None = None) -> tuple[np.ndarray, p.Inference]:
        """Load one raw clip (int16 samples), run front end + model once; returns the int8 features
        the device computed and the inference (raw outputs, front-end ticks)."""
        self.load(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
        features = self.features()
        result = self.infer(1, 0, deadline_s)
        if result.frontend_ticks is None or result.raw is None:
            raise DeviceError("the device ran the clip without its audio front end; the firmware has none "
                              "(generate it from a `tinyml train kws` run)")
        return features, result

    def features(self) -> np.ndarray:
        """The model input the firmware computes from the loaded bytes (the front end over a raw clip)."""
        return np.array(p.raw_inputs(self.send(p.command("tinyml", "in"))), dtype=np.int8)

    def frontend_cost(self, strides: int = 49) -> tuple[int, int]:
        """(ticks, strides): the streaming audio front end over ``strides`` 20 ms strides."""
        return p.frontend_cost(self.send(p.command("tinyml", "frontend", strides)))

    def stream(self, pcm: np.ndarray, on_heard: Callable[[p.Heard], None] | None = None,
               batch_s: float = STREAM_BATCH_S) -> list[p.Heard]:
        """Stream int16 16 kHz samples through the firmware's front end and detector (from a fresh
        stream); returns what it heard, calling ``on_heard`` as detections arrive."""
        if errs := p.errors_in(self.send(p.command("tinyml", "stream", "reset"))):
            raise DeviceError(f"the firmware cannot stream audio ({errs[0]}); generate it from a `tinyml train kws` "
                              "run")
        cmds = p.stream_commands(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
        per_batch = max(1, round(batch_s * features.SAMPLE_RATE * 2 / p.STREAM_CHUNK_BYTES))
        heard: list[p.Heard] = []
        for start in range(0, len(cmds), per_batch):
            for response in self.send_all(cmds[start : start + per_batch]):
                if errs := p.errors_in(response):
                    raise DeviceError(f"the device failed while streaming: {errs[0]}")
                for event in response:
                    if isinstance(event, p.Heard):
                        heard.append(event)
                        if on_heard is not None:
                            on_heard(event)
        return heard

    def listen(self, seconds: float, on_heard: Callable[[p.Heard], None] | None = None,
               max_heard: int | None = None) -> tuple[list[p.Heard], int, bool]:
        """Listen to the board's microphone (`tinyml listen`) for ``seconds`` or until ``max_heard``
        detections, then stop it (any byte does; an empty command answers). Returns (what it heard,
        samples the microphone dropped, whether a file microphone reached its end)."""
        response = self.send(p.command("tinyml", "listen"))
        if errs := p.errors_in(response):
            raise DeviceError(f"the firmware cannot listen: {errs[0]}")
        heard: list[p.Heard] = []
        dropped, ended, garbage = 0, False, 0

        def take(event: p.Event) -> None:
            nonlocal dropped, ended
            if isinstance(event, p.Heard):
                heard.append(event)
                if on_heard is not None:
                    on_heard(event)
            elif isinstance(event, p.MicDropped):
                dropped = event.count
            elif isinstance(event, p.MicEnd):
                ended = True
            elif isinstance(event, p.DeviceError):
                raise DeviceError(f"the device failed while listening: {event.message}")
            elif isinstance(event, p.InitDone):
                raise DeviceError(f"{self.target.name} reset while listening; check its power supply and stack "
                                  "size")

        until = deadline(seconds)
        while remaining(until) > 0 and not ended and (max_heard is None or len(heard) < max_heard):
            line = self.target.readline(min(remaining(until), LISTEN_POLL_S))
            if line is None or not line.strip():
                continue
            event, garbage = self._event(line, garbage, "sends garbage while listening")
            take(event)
        for event in self.send(p.command()):  # stops the microphone; detections already in flight come first
            take(event)
        return heard, dropped, ended

    def layers(self) -> list[p.Layer]:
        return p.layers(self.send(p.command("tinyml", "layers")))

    def exit(self) -> None:
        """Ask the firmware to leave (QEMU exits; boards reset or idle)."""
        self.target.write(p.command("tinyml", "exit"))
