"""A .tflite flatbuffer as frozen dataclasses (parsed with LiteRT's generated schema).

Everything downstream — analysis, C arrays, op resolvers, the code-generated runtime — reads
models through this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from tinyml.errors import ModelError

FILE_IDENTIFIER = b"TFL3"
# TFLM's int8 softmax turns input_scale * 2**26 into a multiplier that must exceed 1 (it aborts otherwise).
SOFTMAX_INPUT_SCALE_FACTOR = float(1 << 26)
_DTYPES = {"FLOAT32": np.float32, "FLOAT16": np.float16, "INT32": np.int32, "UINT8": np.uint8,
           "INT64": np.int64, "INT16": np.int16, "INT8": np.int8, "BOOL": np.bool_, "UINT32": np.uint32}


@cache
def _enum_names(enum: type) -> dict[int, str]:
    return {v: k for k, v in vars(enum).items() if not k.startswith("_") and isinstance(v, int)}

MAX_ELEMENTS = 1 << 31  # no tensor of a microcontroller model comes near this
# (fewest inputs, options required) of the operators tinyml's kernels read; others: one input
OP_SHAPE = {"CONV_2D": (2, True), "DEPTHWISE_CONV_2D": (2, True), "FULLY_CONNECTED": (2, False),
            "SOFTMAX": (1, True), "AVERAGE_POOL_2D": (1, True), "MAX_POOL_2D": (1, True), "ADD": (2, False),
            "MEAN": (2, False), "PAD": (2, False), "TRANSPOSE_CONV": (3, True)}
# the options class each of those operators must carry (when it carries any)
OP_OPTIONS = {"CONV_2D": "Conv2DOptionsT", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptionsT",
              "FULLY_CONNECTED": "FullyConnectedOptionsT", "SOFTMAX": "SoftmaxOptionsT",
              "AVERAGE_POOL_2D": "Pool2DOptionsT", "MAX_POOL_2D": "Pool2DOptionsT", "ADD": "AddOptionsT",
              "MEAN": "ReducerOptionsT", "PAD": "PadOptionsT", "TRANSPOSE_CONV": "TransposeConvOptionsT"}
WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")  # input 1: constant weights


@dataclass(frozen=True)
class Quantization:
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # TFLite TensorType name: "INT8", "FLOAT32", ...
    quant: Quantization | None
    data: np.ndarray | None  # constant data (weights, biases), None for activations

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.elements * np.dtype(_DTYPES.get(self.dtype, np.uint8)).itemsize


@dataclass(frozen=True)
class Operator:
    index: int
    opcode: str  # BuiltinOperator name, e.g. "CONV_2D", or "CUSTOM:<name>"
    inputs: tuple[int, ...]  # -1 marks an omitted optional input
    outputs: tuple[int, ...]
    options: Any  # the schema's object-API options (e.g. Conv2DOptionsT) or None


@dataclass(frozen=True)
class TfliteModel:
    data: bytes
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    version: int
    description: str
    subgraphs: int

    @property
    def input_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    @property
    def output_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]

    @property
    def op_names(self) -> list[str]:
        """Distinct operators, in first-use order."""
        return list(dict.fromkeys(op.opcode for op in self.operators))


def _opcode_name(code: Any) -> str:
    builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
    name = _enum_names(schema.BuiltinOperator).get(builtin, f"UNKNOWN_{builtin}")
    if name == "CUSTOM":
        custom = code.customCode.decode() if isinstance(code.customCode, bytes) else str(code.customCode)
        return f"CUSTOM:{custom}"
    return name


def _tensor(index: int, t: Any, buffers: list[Any], data: bytes) -> Tensor:
    dtype = _enum_names(schema.TensorType).get(int(t.type), f"TYPE_{t.type}")
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
    quant = None
    q = t.quantization
    if q is not None and q.scale is not None and len(q.scale) > 0:
        quant = Quantization(tuple(float(s) for s in q.scale), tuple(int(z) for z in q.zeroPoint),
                             int(q.quantizedDimension))
    const = None
    buf = buffers[t.buffer] if 0 < t.buffer < len(buffers) else None
    if buf is not None:
        raw: bytes | None = None
        if buf.data is not None and len(buf.data) > 0:
            raw = np.asarray(buf.data, dtype=np.uint8).tobytes()
        elif getattr(buf, "offset", 0) > 1:
            raw = data[buf.offset : buf.offset + buf.size]
        if raw is not None and dtype in _DTYPES:
            const = np.frombuffer(raw, dtype=_DTYPES[dtype]).reshape(shape or ())
    name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
    return Tensor(index, name, shape, dtype, quant, const)


def parse_model(data: bytes, where: str = "<bytes>") -> TfliteModel:
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise ModelError(f"{where} is not a TFLite flatbuffer (no 'TFL3' identifier); pass a .tflite file "
                         "made by `tinyml quantize` or TFLiteConverter")
    try:
        m = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
    except Exception as err:  # a corrupt flatbuffer can fail anywhere inside the generated code
        raise ModelError(f"{where} is a damaged TFLite flatbuffer ({err.__class__.__name__}); re-export it") from err
    if not m.subgraphs:
        raise ModelError(f"{where} has no subgraph; re-export the model")
    g = m.subgraphs[0]
    buffers = list(m.buffers or [])
    part = "its tensors"
    try:  # a corrupt model parses into nonsense: say which part does not hold together
        tensors = tuple(_tensor(i, t, buffers, data) for i, t in enumerate(g.tensors or []))
        part = "its operator codes"
        codes = [_opcode_name(c) for c in (m.operatorCodes or [])]
        ops = []
        for i, op in enumerate(g.operators or []):
            part = f"operator {i}"
            ops.append(Operator(i, codes[op.opcodeIndex], tuple(int(x) for x in _ints(op.inputs)),
                                tuple(int(x) for x in _ints(op.outputs)), op.builtinOptions))
        part = "its description"
        desc = m.description.decode() if isinstance(m.description, bytes) else str(m.description or "")
        part = "its inputs and outputs"
        model = TfliteModel(data, tensors, tuple(ops), tuple(int(i) for i in _ints(g.inputs)),
                            tuple(int(o) for o in _ints(g.outputs)), int(m.version), desc, len(m.subgraphs))
    except (IndexError, ValueError, KeyError, TypeError, OverflowError, UnicodeDecodeError) as err:
        raise ModelError(f"{where} is a damaged TFLite flatbuffer: {part} ({_short(err)}); re-export the model"
                         ) from err
    _check_references(model, where)
    return model


def _ints(values: Any) -> list[int]:
    return [] if values is None else [int(v) for v in values]


def _short(err: Exception) -> str:
    text = str(err).split("\n")[0][:80]
    return f"{err.__class__.__name__}: {text}" if text else err.__class__.__name__


def _check_references(model: TfliteModel, where: str) -> None:
    """Every index inside the graph must name something that exists (an interpreter trusts them)."""
    n = len(model.tensors)
    for op in model.operators:
        min_inputs, needs_options = OP_SHAPE.get(op.opcode, (1, False))
        if len(op.inputs) < min_inputs or not op.outputs or op.inputs[0] < 0 or (needs_options
                                                                                 and op.options is None):
            raise ModelError(f"{where} is a damaged TFLite flatbuffer: operator {op.index} ({op.opcode}) has "
                             f"{len(op.inputs)} inputs, {len(op.outputs)} outputs"
                             f"{'' if op.options is not None else ' and no options'}; re-export the model")
        expected = OP_OPTIONS.get(op.opcode)
        if expected and op.options is not None and type(op.options).__name__ != expected:
            raise ModelError(f"{where} is a damaged TFLite flatbuffer: operator {op.index} ({op.opcode}) carries "
                             f"{type(op.options).__name__}; re-export the model")
        bad = [t for t in op.inputs + op.outputs if not -1 <= t < n] + [t for t in op.outputs if t < 0]
        if not bad and op.opcode in WEIGHTED and not model.tensors[op.inputs[1]].is_constant:
            raise ModelError(f"{where} is a damaged TFLite flatbuffer: operator {op.index} ({op.opcode}) has no "
                             "constant weights; re-export the model")
        if bad:
            raise ModelError(f"{where} is a damaged TFLite flatbuffer: operator {op.index} ({op.opcode}) refers to "
                             f"tensor {bad[0]} of {n}; re-export the model")
    for kind, indices in (("input", model.inputs), ("output", model.outputs)):
        if not indices or any(not 0 <= t < n for t in indices):
            raise ModelError(f"{where} is a damaged TFLite flatbuffer: its {kind} tensors {list(indices)} are not "
                             f"among its {n} tensors; re-export the model")
    for t in model.tensors:
        if any(d < 0 for d in t.shape) or math.prod(t.shape) > MAX_ELEMENTS:
            raise ModelError(f"{where} is a damaged TFLite flatbuffer: tensor {t.index} has shape {list(t.shape)}; "
                             "re-export the model")


def load_model(path: Path) -> TfliteModel:
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path} does not exist; create it with `tinyml quantize RUN`")
    return parse_model(path.read_bytes(), str(path))


def require_full_int8(model: TfliteModel, where: str = "model") -> None:
    """Refuse float and hybrid models: every input, output and activation must be int8."""
    hybrid = any(t.is_constant and t.dtype == "INT8" for t in model.tensors)
    float_edges = any(op.opcode in ("QUANTIZE", "DEQUANTIZE") for op in model.operators) and any(
        t.dtype == "INT8" and not t.is_constant for t in model.tensors)
    kind = ("an int8 model with float input/output (QUANTIZE/DEQUANTIZE at its edges)" if float_edges
            else "a hybrid (dynamic-range) model" if hybrid else "a float model")
    for t in model.input_tensors + model.output_tensors:
        if t.dtype != "INT8" or t.quant is None:
            raise ModelError(f"{where}: tensor '{t.name}' is {t.dtype}, not int8 — {kind}; convert it "
                             "with full-integer quantization (`tinyml quantize RUN`)")
    for t in model.tensors:
        if t.dtype == "INT8" and t.quant is None:
            raise ModelError(f"{where}: int8 tensor {t.index} ('{t.name}') has no quantization parameters — a "
                             "damaged or hand-edited model; re-export it with `tinyml quantize RUN`")
    for op in model.operators:
        if op.opcode == "SOFTMAX":
            q = model.tensors[op.inputs[0]].quant
            if q is not None and q.scale[0] * SOFTMAX_INPUT_SCALE_FACTOR <= 1.0:
                raise ModelError(f"{where}: SOFTMAX input scale {q.scale[0]:.3g} is below what TFLite Micro accepts "
                                 f"({1 / SOFTMAX_INPUT_SCALE_FACTOR:.3g}): the logits are degenerate — train the model "
                                 "(or recalibrate batch norm) before converting")
        for i in op.outputs:
            t = model.tensors[i]
            if t.dtype in ("FLOAT32", "FLOAT16"):
                raise ModelError(f"{where}: operator {op.index} ({op.opcode}) computes in {t.dtype} — a hybrid or "
                                 "float model; use full-integer quantization (`tinyml quantize RUN`)")
