"""Estimated cycles of one inference on an emulated board: run it once under QEMU's execution log
and cost the executed instructions with the core's timings (``tinyml.measure.cycles``).

The estimate is a function of the firmware, the input and the timing model alone, so it is kept
beside the ELF (``program.elf.cycles.json``) and reused while all three are unchanged: an unchanged
re-deploy does not trace again (tracing logs every executed block, seconds per inference).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from tinyml.build.elf import elf_functions
from tinyml.device.session import Session
from tinyml.errors import TinymlError
from tinyml.measure import cycles
from tinyml.measure.cycles import CycleEstimate, FunctionMap, estimate, parse_trace, return_addresses
from tinyml.platform.base import Platform

INVOKE = "tm_runner_invoke"  # the runtime's entry: one inference, nothing of the protocol
# the firmware's polling loop: kept out of the log (it spins while the host talks)
IDLE = ("tm_app_run", "tm_port_read", "tm_protocol_idle", "tm_listen_poll")
TRACED_INFER_DEADLINE_S = 600.0  # logging every block slows QEMU ~20x
CACHE_SUFFIX = ".cycles.json"


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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cache_key(platform: Platform, elf: Path, x: np.ndarray | None) -> dict[str, str]:
    """What the estimate depends on: the firmware, the input, the timing model's source, the platform."""
    return {"elf": _sha256(elf.read_bytes()),
            "input": "zeros" if x is None else _sha256(np.ascontiguousarray(x, np.int8).tobytes()),
            "model": _sha256(Path(cycles.__file__).read_bytes()), "platform": type(platform).__name__}


def _cached(path: Path, key: dict[str, str]) -> CycleEstimate | None:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != key:
        return None
    return CycleEstimate(int(saved["instructions"]), int(saved["cycles"]), Counter(saved["by_class"]),
                         Counter(saved["by_function"]))


def _keep(path: Path, key: dict[str, str], result: CycleEstimate) -> None:
    """Keep the estimate beside the ELF (best effort: a folder that cannot be written only costs a trace)."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"key": key, "instructions": result.instructions, "cycles": result.cycles,
                                   "by_class": dict(result.by_class), "by_function": dict(result.by_function)}))
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)


def estimate_inference(platform: Platform, elf: Path, x: np.ndarray | None = None) -> CycleEstimate | None:
    """One inference of ``x`` (default: zeros, as bench) with every instruction logged, costed;
    None when the board is real. Reused from beside the ELF while firmware, input and timing
    model are unchanged."""
    functions = elf_functions(elf)
    if INVOKE not in functions:
        raise TinymlError(f"{elf} has no {INVOKE}(); is it tinyml firmware?")
    key, cache = _cache_key(platform, elf, x), elf.with_name(elf.name + CACHE_SUFFIX)
    if (kept := _cached(cache, key)) is not None:
        return kept
    result = _trace_and_cost(platform, elf, x, functions)
    if result is not None:
        _keep(cache, key, result)
    return result


def _trace_and_cost(platform: Platform, elf: Path, x: np.ndarray | None,
                    functions: dict[str, tuple[int, int]]) -> CycleEstimate | None:
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
