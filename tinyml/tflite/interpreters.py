"""Host interpreters for int8 models: TFLite Micro (the golden reference for anything that
must match a device) and LiteRT (TensorFlow Lite's reference kernels)."""

from __future__ import annotations

import os
import pickle
import re
import sys
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

import numpy as np

from tinyml.console import capture_c_stderr
from tinyml.errors import ModelError

ARENA_PROBE_START = 1 << 20
ARENA_SEARCH_MAX = 256 << 20
ARENA_MARGIN = 1024


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
    (it has no verifier): a damaged model can crash the process, so on Linux the interpreter first
    meets a model in a forked child, and a crash there is a one-line error here."""
    if sys.platform != "linux":
        return _arena_usage(model)
    return _in_child(_arena_usage, model)


def _in_child(fn: Callable[[bytes], ArenaUsage], model: bytes) -> ArenaUsage:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send the pickled outcome, leave without any cleanup of the parent's state
        code = 0
        try:
            os.close(read_fd)
            try:
                outcome: tuple[str, object] = ("ok", fn(model))
            except ModelError as err:
                outcome = ("error", str(err))
            with os.fdopen(write_fd, "wb") as pipe:
                pickle.dump(outcome, pipe)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()  # EOF when the child ends, however it ends
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or not payload:
        why = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.waitstatus_to_exitcode(status)}"
        raise ModelError(f"the TFLite Micro interpreter crashed on this model ({why}): the flatbuffer is damaged or "
                         "not a model TFLite Micro can read; re-export it")
    kind, value = pickle.loads(payload)
    if kind == "error":
        raise ModelError(str(value))
    assert isinstance(value, ArenaUsage)
    return value


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
