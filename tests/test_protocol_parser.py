"""The host-side protocol parser on recorded transcripts: normal sessions, garbage, partial
lines and a silent device. Pure functions: no device needed."""

from __future__ import annotations

import pytest

from tinyml.device import protocol as p

# Recorded from the host build of the firmware (echo runtime), then reordered/damaged by hand.
INFER = """m-warmup-start-1\r
m-warmup-done\r
m-infer-start-3\r
m-lap-us-1024\r
m-lap-us-1530\r
m-infer-done\r
m-tinyml-infer-ticks-506\r
m-results-[0.500,0.000,1.000,0.250]\r
m-tinyml-out-[0,-128,127,-64]\r
m-ready\r
"""


def test_parse_an_inference() -> None:
    events = p.parse_lines(INFER.splitlines())
    result = p.inference(events)
    assert result == p.Inference(runs=3, lap_us=506, ticks=506, results=(0.5, 0.0, 1.0, 0.25), raw=(0, -128, 127, -64))
    assert isinstance(events[-1], p.Ready)


@pytest.mark.parametrize(("line", "expected"), [
    ("m-ready", p.Ready("m-ready")),
    ("\x00\xffm-ready\r\n", p.Ready("m-ready")),  # boot noise before the message
    ("m-name-dut-[tinyml kws]", p.Name("m-name-dut-[tinyml kws]", "tinyml kws")),
    ("m-[Expecting 490 bytes]", p.Expecting("m-[Expecting 490 bytes]", 490)),
    ("m-buffer-0a-ff", p.BufferLine("m-buffer-0a-ff", b"\x0a\xff")),
    ("m-tinyml-layer-3-CONV_2D-12345", p.Layer("m-tinyml-layer-3-CONV_2D-12345", 3, "CONV_2D", 12345)),
    ("m-tinyml-info-ticks-hz-1000000000", p.Info("m-tinyml-info-ticks-hz-1000000000", "ticks-hz", "1000000000")),
    ("m-tinyml-info-tick-unit-instructions", p.Info("m-tinyml-info-tick-unit-instructions", "tick-unit",
                                                    "instructions")),
    ("e-[Unknown command: x]", p.DeviceError("e-[Unknown command: x]", "Unknown command: x")),
    ("m-results-[]", p.Results("m-results-[]", ())),
])
def test_parse_line(line: str, expected: p.Event) -> None:
    assert p.parse_line(line) == expected


@pytest.mark.parametrize("line", ["m-lap-us-", "m-results-[0.5,", "m-tinyml-out-[1,2", "ready", "m-lap-us-12x",
                                  "\x1b[2J", "m-rea"])
def test_partial_and_garbage_lines_are_garbage(line: str) -> None:
    assert isinstance(p.parse_line(line), p.Garbage)


def test_garbage_between_messages_does_not_break_an_inference() -> None:
    lines = INFER.splitlines()
    lines.insert(3, "\x00\x00#$%garbage")
    lines.insert(6, "m-lap-")
    assert p.inference(p.parse_lines(lines)).lap_us == 506


def test_silent_device_and_truncated_responses() -> None:
    assert p.split_response([]) == ([], [])
    with pytest.raises(p.ProtocolError, match="incomplete inference response"):
        p.inference([])
    truncated = p.parse_lines(INFER.splitlines()[:5])
    with pytest.raises(p.ProtocolError, match="incomplete"):
        p.inference(truncated)


def test_device_errors_surface() -> None:
    events = p.parse_lines(["e-[tinyml: inference failed]", "m-ready"])
    with pytest.raises(p.ProtocolError, match="inference failed"):
        p.inference(events)


def test_split_response_stops_at_ready() -> None:
    events = p.parse_lines(["m-init-done", "m-ready", "m-name-dut-[x]", "m-ready"])
    first, rest = p.split_response(events)
    assert [type(e) for e in first] == [p.InitDone, p.Ready] and len(rest) == 2


def test_commands() -> None:
    assert p.command("infer", 10, 1) == b"infer 10 1%"
    cmds = p.load_commands(bytes(range(100)))
    assert cmds[0] == b"db load 100%" and len(cmds) == 1 + 3
    assert cmds[1] == b"db " + bytes(range(48)).hex().encode() + b"%"
