"""A .tflite flatbuffer as frozen dataclasses (parsed with LiteRT's generated schema).

Everything downstream — analysis, C arrays, op resolvers, the code-generated runtime — reads
models through this module.
"""

from __future__ import annotations

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
    tensors = tuple(_tensor(i, t, buffers, data) for i, t in enumerate(g.tensors or []))
    codes = [_opcode_name(c) for c in (m.operatorCodes or [])]
    ops = tuple(Operator(i, codes[op.opcodeIndex], tuple(int(x) for x in op.inputs),
                         tuple(int(x) for x in op.outputs), op.builtinOptions)
                for i, op in enumerate(g.operators or []))
    desc = m.description.decode() if isinstance(m.description, bytes) else str(m.description or "")
    return TfliteModel(data, tensors, ops, tuple(int(i) for i in g.inputs), tuple(int(o) for o in g.outputs),
                       int(m.version), desc, len(m.subgraphs))


def load_model(path: Path) -> TfliteModel:
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path} does not exist; create it with `tinyml quantize RUN`")
    return parse_model(path.read_bytes(), str(path))


def require_full_int8(model: TfliteModel, where: str = "model") -> None:
    """Refuse float and hybrid models: every input, output and activation must be int8."""
    hybrid = any(t.is_constant and t.dtype == "INT8" for t in model.tensors)
    kind = "a hybrid (dynamic-range) model" if hybrid else "a float model"
    for t in model.input_tensors + model.output_tensors:
        if t.dtype != "INT8" or t.quant is None:
            raise ModelError(f"{where}: tensor '{t.name}' is {t.dtype}, not int8 — {kind}; convert it "
                             "with full-integer quantization (`tinyml quantize RUN`)")
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
