"""Estimated cycles of one inference on an emulated board: run it once under QEMU's execution log
and cost the executed instructions with the core's timings (``tinyml.measure.cycles``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tinyml.build.elf import elf_functions
from tinyml.device.session import Session
from tinyml.errors import TinymlError
from tinyml.measure.cycles import CycleEstimate, FunctionMap, estimate, parse_trace, return_addresses
from tinyml.platform.base import Platform

INVOKE = "tm_runner_invoke"  # the runtime's entry: one inference, nothing of the protocol
# the firmware's polling loop: kept out of the log (it spins while the host talks)
IDLE = ("tm_app_run", "tm_port_read", "tm_protocol_idle", "tm_listen_poll")
TRACED_INFER_DEADLINE_S = 600.0  # logging every block slows QEMU ~20x


def traced_ranges(functions: dict[str, tuple[int, int]]) -> str:
    """QEMU ``-dfilter`` ranges: the whole address space but the idle loop's code."""
    idle = sorted(functions[name] for name in IDLE if name in functions)
    ranges, cursor, hi = [], 0, 1 << 32
    for addr, size in idle:
        if addr > cursor:
            ranges.append(f"0x{cursor:x}..0x{addr - 1:x}")
        cursor = max(cursor, addr + size)
    ranges.append(f"0x{cursor:x}..0x{hi - 1:x}")
    return ",".join(ranges)


def estimate_inference(platform: Platform, elf: Path, x: np.ndarray | None = None) -> CycleEstimate | None:
    """One inference of ``x`` (default: zeros, as bench) with every instruction logged, costed;
    None when the board is real."""
    functions = elf_functions(elf)
    if INVOKE not in functions:
        raise TinymlError(f"{elf} has no {INVOKE}(); is it tinyml firmware?")
    with tempfile.TemporaryDirectory(prefix="tinyml-trace-") as tmp:
        log = Path(tmp) / "exec.log"
        target = platform.traced_target(elf, log, traced_ranges(functions))
        if target is None:
            return None
        with target:
            session = Session(target)
            session.wait_ready()
            data = np.zeros(session.info().input_bytes, np.int8) if x is None else np.ascontiguousarray(x, np.int8)
            session.load(data.tobytes())
            session.infer(1, 0, TRACED_INFER_DEADLINE_S)
            session.exit()
            target.wait_exit()  # type: ignore[attr-defined]
        text = log.read_text(errors="replace")
    invoke = functions[INVOKE][0]
    try:
        executed = parse_trace(text)
        return estimate(executed, invoke, return_addresses(executed, invoke), FunctionMap(functions))
    except ValueError as err:
        raise TinymlError(f"cannot estimate cycles from the execution log of {elf}: {err}") from err
