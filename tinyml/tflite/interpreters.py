"""Host interpreters for int8 models: TFLite Micro (the golden reference for anything that
must match a device) and LiteRT (TensorFlow Lite's reference kernels)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from contextlib import suppress
from dataclasses import dataclass

import numpy as np

from tinyml.console import capture_c_stderr
from tinyml.errors import ModelError

ARENA_PROBE_START = 1 << 20
ARENA_SEARCH_MAX = 256 << 20
ARENA_MARGIN = 1024
PROBE_DEADLINE_S = 120.0  # a fresh process allocating the largest model tinyml accepts


def _tflm(model: bytes, arena_size: int):
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_bytes(model, arena_size=arena_size)


_ARENA_LINE = re.compile(r"Arena allocation (?P<part>total|head|tail) (?P<bytes>\d+) bytes")


@dataclass(frozen=True)
class ArenaUsage:
    total: int
    head: int  # planned, non-persistent: activations and kernel scratch
    tail: int  # persistent: tensor structs, op data, quantization parameters


def tflm_arena_size(model: bytes) -> int:
    """Bytes of tensor arena the TFLM host interpreter uses for ``model`` (head + tail)."""
    return tflm_arena_usage(model).total


def tflm_arena_usage(model: bytes) -> ArenaUsage:
    """TFLM's arena use, read from its allocation recorder. TFLM trusts the flatbuffer it is given
    (it has no verifier): a damaged model can crash the process, so the interpreter first meets a
    model in a fresh Python process (not a fork: a fork of a process running TensorFlow's threads
    can itself crash), and a crash there is a one-line error here."""
    try:
        proc = subprocess.run([sys.executable, "-m", "tinyml.tflite.interpreters"], input=model,
                              capture_output=True, timeout=PROBE_DEADLINE_S)
    except subprocess.TimeoutExpired as err:
        raise ModelError(f"the TFLite Micro interpreter did not finish allocating this model within "
                         f"{PROBE_DEADLINE_S:.0f} s; the flatbuffer is damaged — re-export it") from err
    if proc.returncode != 0 or not proc.stdout:
        why = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
        raise ModelError(f"the TFLite Micro interpreter crashed on this model ({why}): the flatbuffer is damaged or "
                         "not a model TFLite Micro can read; re-export it")
    answer = json.loads(proc.stdout)
    if "error" in answer:
        raise ModelError(answer["error"])
    return ArenaUsage(answer["total"], answer["head"], answer["tail"])


def _probe_main() -> None:
    """``python -m tinyml.tflite.interpreters`` < model: its arena use as JSON on stdout."""
    try:
        usage = _arena_usage(sys.stdin.buffer.read())
        answer: dict[str, object] = {"total": usage.total, "head": usage.head, "tail": usage.tail}
    except ModelError as err:
        answer = {"error": str(err)}
    sys.stdout.write(json.dumps(answer))


def _arena_usage(model: bytes) -> ArenaUsage:
    size = ARENA_PROBE_START
    while True:
        with capture_c_stderr() as log:
            try:
                interpreter = _tflm(model, size)
                interpreter.print_allocations()
                break
            except RuntimeError:
                pass
        size *= 2
        if size > ARENA_SEARCH_MAX:
            detail = next((line for line in log if "fail" in line.lower()), "allocation failed")
            raise ModelError(f"TFLite Micro cannot allocate this model ({detail.strip()}); check its ops and "
                             "size with `tinyml analyze`")
    parts = {m["part"]: int(m["bytes"]) for line in log if (m := _ARENA_LINE.search(line))}
    if len(parts) == 3:
        return ArenaUsage(parts["total"], parts["head"], parts["tail"])
    raise ModelError("the TFLite Micro host interpreter printed no allocation summary; "
                     "reinstall the pinned tflite-micro wheel")


class TflmRunner:
    """Runs int8 inputs through the TFLM host interpreter."""

    def __init__(self, model: bytes, arena_size: int | None = None) -> None:
        self._model = model  # the interpreter points into these bytes
        size = arena_size or tflm_arena_size(model) + ARENA_MARGIN
        interpreter = None
        with capture_c_stderr() as log, suppress(RuntimeError):
            interpreter = _tflm(model, size)
        if interpreter is None:
            detail = next((line.strip() for line in log if line.strip()), "allocation failed")
            raise ModelError(f"TFLite Micro cannot run this model ({detail}); check it with `tinyml analyze`")
        self._it = interpreter

    def run(self, x: np.ndarray) -> np.ndarray:
        """(N, *input_shape) int8 -> (N, *output_shape) int8, one invoke per row."""
        outs = []
        for row in x:
            self._it.set_input(row[None, ...], 0)
            self._it.invoke()
            outs.append(np.array(self._it.get_output(0))[0])
        return np.stack(outs)


class LiteRtRunner:
    """Runs int8 inputs through LiteRT with its reference kernels (BUILTIN_REF)."""

    def __init__(self, model: bytes) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        self._it = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        self._it.allocate_tensors()
        self._in = self._it.get_input_details()[0]["index"]
        self._out = self._it.get_output_details()[0]["index"]

    def run(self, x: np.ndarray) -> np.ndarray:
        outs = []
        for row in x:
            self._it.set_tensor(self._in, row[None, ...])
            self._it.invoke()
            outs.append(self._it.get_tensor(self._out)[0].copy())
        return np.stack(outs)


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (q.astype(np.float32) - zero_point) * scale


if __name__ == "__main__":
    _probe_main()
