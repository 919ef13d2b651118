"""Map a model's builtin operators to TFLite Micro's MicroMutableOpResolver calls.

Where TFLM has an int8-only registration (``Register_*_INT8``) it is used: with CMSIS-NN the
generic registrations also link the int16/int4 kernels (~25 KB of flash for nothing)."""

from __future__ import annotations

from dataclasses import dataclass

from tinyml.errors import UnsupportedOpError
from tinyml.tflite.model import TfliteModel


@dataclass(frozen=True)
class OpRegistration:
    opcode: str
    method: str  # MicroMutableOpResolver method, e.g. "AddConv2D"
    registration: str | None  # argument, e.g. "tflite::Register_CONV_2D_INT8()"


_INT8 = {op: op for op in ("ADD", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CONV_2D", "DEPTHWISE_CONV_2D",
                            "FULLY_CONNECTED", "MAXIMUM", "MAX_POOL_2D", "MINIMUM", "MUL", "PAD", "SOFTMAX", "SVDF",
                            "TRANSPOSE", "TRANSPOSE_CONV", "UNIDIRECTIONAL_SEQUENCE_LSTM")}
_METHODS = {
    "ABS": "AddAbs", "ADD": "AddAdd", "ARG_MAX": "AddArgMax", "ARG_MIN": "AddArgMin",
    "AVERAGE_POOL_2D": "AddAveragePool2D", "BATCH_MATMUL": "AddBatchMatMul", "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "CAST": "AddCast", "CEIL": "AddCeil", "CONCATENATION": "AddConcatenation", "CONV_2D": "AddConv2D",
    "CUMSUM": "AddCumSum", "DEPTH_TO_SPACE": "AddDepthToSpace", "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEQUANTIZE": "AddDequantize", "DIV": "AddDiv", "ELU": "AddElu", "EQUAL": "AddEqual", "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims", "FILL": "AddFill", "FLOOR": "AddFloor", "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather", "GATHER_ND": "AddGatherNd", "GREATER": "AddGreater", "HARD_SWISH": "AddHardSwish",
    "L2_NORMALIZATION": "AddL2Normalization", "LEAKY_RELU": "AddLeakyRelu", "LESS": "AddLess", "LOG": "AddLog",
    "LOG_SOFTMAX": "AddLogSoftmax", "LOGISTIC": "AddLogistic", "MAX_POOL_2D": "AddMaxPool2D",
    "MAXIMUM": "AddMaximum", "MEAN": "AddMean", "MINIMUM": "AddMinimum", "MIRROR_PAD": "AddMirrorPad",
    "MUL": "AddMul", "NEG": "AddNeg", "PACK": "AddPack", "PAD": "AddPad", "PADV2": "AddPadV2", "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize", "REDUCE_MAX": "AddReduceMax", "RELU": "AddRelu", "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape", "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor", "RSQRT": "AddRsqrt", "SHAPE": "AddShape",
    "SLICE": "AddSlice", "SOFTMAX": "AddSoftmax", "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth", "SPLIT": "AddSplit", "SPLIT_V": "AddSplitV", "SQRT": "AddSqrt",
    "SQUARE": "AddSquare", "SQUARED_DIFFERENCE": "AddSquaredDifference", "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice", "SUB": "AddSub", "SUM": "AddSum", "SVDF": "AddSvdf", "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose", "TRANSPOSE_CONV": "AddTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM", "UNPACK": "AddUnpack",
    "ZEROS_LIKE": "AddZerosLike",
}


def supported(opcode: str) -> bool:
    return opcode in _METHODS


def registrations(model: TfliteModel, where: str = "model") -> list[OpRegistration]:
    """One registration per distinct op, in first-use order; unknown ops are a clear error."""
    regs = []
    for opcode in model.op_names:
        if opcode not in _METHODS:
            raise UnsupportedOpError(f"{where}: operator {opcode} is not available in TensorFlow Lite Micro; "
                                     "replace it in the model (or use a supported equivalent) and convert again")
        int8 = _INT8.get(opcode)
        regs.append(OpRegistration(opcode, _METHODS[opcode], f"tflite::Register_{int8}_INT8()" if int8 else None))
    return regs
