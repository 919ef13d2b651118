"""Lower an int8 .tflite to kernel calls: one ``Layer`` per operator with the exact parameters its
kernel needs (TFLM's multipliers, shifts, paddings and activation bounds, in the typed structs of
``structs.py``), weights laid out for the kernels (``layout.py``) and the input zero point folded
into the bias.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from tinyml.errors import UnsupportedOpError
from tinyml.native import quant, winograd
from tinyml.native.layout import (
    diagonal_groups,
    fc_rows,
    group_blocks,
    interleave,
    pair_bytes,
    pair_interleave,
    round4,
)
from tinyml.native.plane import PlaneGeometry, plane_for
from tinyml.native.structs import (
    AddParams,
    ConvParams,
    DwconvParams,
    FcParams,
    KernelParams,
    MeanParams,
    PadParams,
    PoolParams,
    SoftmaxParams,
)
from tinyml.tflite.model import Operator, Tensor, TfliteModel

MAX_TAPS = 64  # TM_MAX_TAPS in tinyml_nn_dwconv.c
WINOGRAD = True  # 3x3 stride-1 convolutions by Winograd F(2x2, 3x3) where winograd.eligible (tests compare both)
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
ALIAS_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
SUPPORTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "ADD",
             "SOFTMAX", "PAD", "PADV2", *ALIAS_OPS)


@dataclass(frozen=True)
class Layer:
    index: int
    kind: str  # conv, dwconv, fc, avgpool, maxpool, mean, add, softmax, pad, alias
    opcode: str
    inputs: tuple[int, ...]  # activation tensors read
    output: int
    params: KernelParams | None  # the kernel's parameter struct (None: a view, no kernel)
    arrays: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)  # constant arrays: (C type, values)
    macs: int = 0
    in_place_ok: bool = False  # the kernel may write its output over its first input
    scratch: int = 0  # bytes of scratch when not in place
    scratch_in_place: int = 0  # bytes of scratch when in place
    rq_fast: bool = False  # requantize with tm_mbqm_fast (see fast_requant)

    @property
    def conv(self) -> ConvParams:
        assert isinstance(self.params, ConvParams), f"layer {self.index} is {self.kind}"
        return self.params

    @property
    def dwconv(self) -> DwconvParams:
        assert isinstance(self.params, DwconvParams), f"layer {self.index} is {self.kind}"
        return self.params


def _int32(values: np.ndarray) -> np.ndarray:
    """Wrap to int32 two's complement (the kernels' accumulators wrap the same way)."""
    return ((values.astype(np.int64) + 2**31) % 2**32 - 2**31).astype(np.int32)


FAST_ACC_LIMIT = 2**30


def fast_requant(mults: list[int], shifts: list[int], out_zp: int, bias: np.ndarray, weights: np.ndarray) -> bool:
    """Whether tm_rq_fast is exact for this layer: every multiplier is normalized (>= 2^30), every
    shift a right shift whose zero-point term stays below 2^30, and no accumulator (nor its partial
    sums, with the zero point folded into the bias) can reach 2^30 for any int8 input.
    ``weights`` is [channels, taps]; bias is TFLM's bias per channel."""
    reach = np.abs(bias).astype(np.int64) + 256 * np.abs(weights).astype(np.int64).sum(axis=1)
    return (all(m >= 1 << 30 for m in mults) and all(s <= -1 and (abs(out_zp) + 1) << -s < FAST_ACC_LIMIT
                                                     for s in shifts)
            and int(reach.max(initial=0)) < FAST_ACC_LIMIT)


def _hw(shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(shape) != 4 or shape[0] != 1:
        raise ValueError(shape)
    return shape[1], shape[2], shape[3]


def _activation(op: Operator, out: Tensor) -> tuple[int, int]:
    code = int(getattr(op.options, "fusedActivationFunction", 0) or 0)
    if code not in ACTIVATIONS:
        raise UnsupportedOpError(f"operator {op.index} ({op.opcode}) has fused activation {code}, which the native "
                                 "runtime does not support; use --runtime tflm")
    assert out.quant is not None
    return quant.activation_range(ACTIVATIONS[code], out.quant.scale[0], out.quant.zero_point[0])


def _requant_arrays(mults: list[int], shifts: list[int], fast: bool = False,
                    out_zp: int = 0) -> dict[str, tuple[str, np.ndarray]]:
    """Multiplier and shift tables; fast layers store the right shift r = -shift the fast kernels
    use, and the addend 2^(r-1) + (zero point << r) of tm_rq_fast."""
    arrays = {"mult": ("int32_t", np.array(mults, dtype=np.int32))}
    if not fast:
        arrays["shift"] = ("int8_t", np.array(shifts, dtype=np.int8))
        return arrays
    rights, adds = _fast_terms(mults, shifts, out_zp)
    arrays["shift"] = ("int8_t", np.array(rights, dtype=np.int8))
    arrays["add"] = ("int32_t", np.array(adds, dtype=np.int32))
    return arrays


def _fast_terms(mults: list[int], shifts: list[int], out_zp: int) -> tuple[list[int], list[int]]:
    """The right shifts r = -shift of fast layers and tm_rq_fast's addends 2^(r-1) + (zero point << r)."""
    rights = [-s for s in shifts]
    return rights, [(1 << (r - 1)) + out_zp * (1 << r) for r in rights]


def conv_pack(bias: np.ndarray, mults: list[int], shifts: list[int], out_zp: int) -> np.ndarray:
    """Packed per-channel-pair constants of the fast convolution path (``TM_CONV_PACK`` words each):
    bias0, bias1, mult0, add0, mult1, add1, r0 | r1 << 8 — one LDRD and one LDM in the Cortex-M kernel."""
    rights, adds = _fast_terms(mults, shifts, out_zp)
    rows = [[int(bias[c]), int(bias[c + 1]), mults[c], adds[c], mults[c + 1], adds[c + 1],
             rights[c] | rights[c + 1] << 8] for c in range(0, len(mults), 2)]
    return np.array(rows, dtype=np.int64).astype(np.int32).reshape(-1)


def dwconv_pack(bias: np.ndarray, mults: list[int], shifts: list[int], out_zp: int) -> np.ndarray:
    """Packed per-group-of-four constants of the fast depthwise path (``TM_DWCONV_PACK`` words each):
    bias0..3, then (mult, add) per channel, then r0 | r1 << 8 | r2 << 16 | r3 << 24."""
    rights, adds = _fast_terms(mults, shifts, out_zp)
    rows = []
    for c in range(0, len(mults), 4):
        terms = [v for j in range(c, c + 4) for v in (mults[j], adds[j])]
        rows.append([*(int(b) for b in bias[c : c + 4]), *terms, sum(rights[c + j] << (8 * j) for j in range(4))])
    return np.array(rows, dtype=np.int64).astype(np.uint32).view(np.int32).reshape(-1)


def _zp(t: Tensor) -> int:
    assert t.quant is not None
    return t.quant.zero_point[0]


def _scale(t: Tensor) -> float:
    assert t.quant is not None
    return t.quant.scale[0]


def _bias(model: TfliteModel, op: Operator, channels: int) -> np.ndarray:
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        data = model.tensors[op.inputs[2]].data
        assert data is not None
        return data.astype(np.int64).reshape(channels)
    return np.zeros(channels, dtype=np.int64)


def _conv(model: TfliteModel, op: Operator, x: Tensor, w: Tensor, y: Tensor, wide: bool) -> Layer:
    o = op.options
    in_h, in_w, in_c = _hw(x.shape)
    out_h, out_w, out_c = _hw(y.shape)
    assert w.data is not None and w.quant is not None
    oc, kh, kw, ic = w.shape
    if ic != in_c:
        raise UnsupportedOpError(f"operator {op.index} (CONV_2D) is a grouped convolution; the native runtime "
                                 "supports ungrouped ones only (use --runtime tflm)")
    rows = w.data.astype(np.int64).reshape(oc, kh * kw * ic)
    tflm_bias = _bias(model, op, oc)
    bias = tflm_bias - _zp(x) * rows.sum(axis=1)
    lo, hi = _activation(op, y)
    mults, shifts = quant.conv_multipliers(_scale(x), w.quant.scale, _scale(y), oc)
    fast = fast_requant(mults, shifts, _zp(y), tflm_bias, rows)
    x2 = fast and wide  # int16 weights and the bias stored doubled: the accumulator is 2*acc for free
    if x2:
        rows, bias = rows * 2, bias * 2
    sh, sw, dh, dw = o.strideH, o.strideW, o.dilationHFactor, o.dilationWFactor
    params = ConvParams(in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c, k_h=kh, k_w=kw,
                        stride_h=sh, stride_w=sw, dil_h=dh, dil_w=dw,
                        pad_top=quant.padding(sh, dh, in_h, kh, out_h), pad_left=quant.padding(sw, dw, in_w, kw, out_w),
                        k_padded=round4(kh * kw * ic), in_zp=_zp(x), out_zp=_zp(y), act_min=lo, act_max=hi,
                        wide=int(wide), acc_x2=int(x2))
    pointwise = (kh, kw, sh, sw) == (1, 1, 1, 1) and params.pad_top == 0 and params.pad_left == 0
    in_place = pointwise and in_c % 4 == 0 and out_c <= in_c and (out_h, out_w) == (in_h, in_w)
    scratch = 2 * params.k_padded * 3  # tm_conv_scratch: int16 pair buffer + two int8 im2col rows
    packed = fast and out_c % 2 == 0 and (lo, hi) == (-128, 127)
    if WINOGRAD and winograd.eligible(params, packed):
        params = replace(params, winograd=1)
        arrays = {"weights": ("int16_t", pair_interleave(winograd.filters(w.data)))}
        scratch = winograd.scratch(in_c, out_c)
    else:
        # the packed path skips zero blocks (diagonal_groups asks whole groups of four K of each block)
        params = replace(params, groups=diagonal_groups(rows) if packed and pointwise else 1)
        blocks = group_blocks(rows, params.groups)
        arrays = {"weights": ("int16_t", pair_interleave(blocks)) if wide else ("int8_t", pair_bytes(blocks))}
    if packed:
        arrays["pack"] = ("int32_t", conv_pack(_int32(bias), mults, shifts, _zp(y)))
    else:
        arrays.update({"bias": ("int32_t", _int32(bias)), **_requant_arrays(mults, shifts, fast, _zp(y))})
    return Layer(op.index, "conv", op.opcode, (x.index,), y.index, params, arrays,
                 macs=out_h * out_w * out_c * kh * kw * ic // params.groups, in_place_ok=in_place, scratch=scratch,
                 scratch_in_place=scratch, rq_fast=fast)


def _dwconv(model: TfliteModel, op: Operator, x: Tensor, w: Tensor, y: Tensor) -> Layer:
    o = op.options
    in_h, in_w, in_c = _hw(x.shape)
    out_h, out_w, out_c = _hw(y.shape)
    assert w.data is not None and w.quant is not None
    _, kh, kw, oc = w.shape
    if kh * kw > MAX_TAPS:
        raise UnsupportedOpError(f"operator {op.index} (DEPTHWISE_CONV_2D) has a {kh}x{kw} kernel; the native "
                                 f"runtime supports at most {MAX_TAPS} taps (use --runtime tflm)")
    taps = w.data.astype(np.int64).reshape(kh * kw, oc)
    tflm_bias = _bias(model, op, oc)
    bias = tflm_bias - _zp(x) * taps.sum(axis=0)
    lo, hi = _activation(op, y)
    mults, shifts = quant.conv_multipliers(_scale(x), w.quant.scale, _scale(y), oc)
    fast = fast_requant(mults, shifts, _zp(y), tflm_bias, taps.T)
    if fast:
        taps, bias = taps * 2, bias * 2
    sh, sw, dh, dw = o.strideH, o.strideW, o.dilationHFactor, o.dilationWFactor
    pad_top = quant.padding(sh, dh, in_h, kh, out_h)
    ntaps = kh * kw
    # [tap][channel] interleaved per four channels -> [group][tap][4]
    weights = interleave(taps).reshape(ntaps, -1, 4).transpose(1, 0, 2).reshape(-1)
    zp_row = round4(in_c)
    in_place = (sh, sw) == (1, 1) and (out_h, out_w, out_c) == (in_h, in_w, in_c)
    arrays = {"weights": ("int16_t", weights)}
    packed = fast and out_c == in_c and in_c % 4 == 0 and (lo, hi) == (-128, 127)
    if packed:
        arrays["pack"] = ("int32_t", dwconv_pack(_int32(bias), mults, shifts, _zp(y)))
    else:
        arrays.update({"bias": ("int32_t", _int32(bias)), **_requant_arrays(mults, shifts, fast, _zp(y))})
    plane = plane_for(out_h, out_w, (kh, kw), (sh, sw), (dh, dw)) if packed else None
    params = DwconvParams(in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c, k_h=kh, k_w=kw,
                          stride_h=sh, stride_w=sw, dil_h=dh, dil_w=dw, pad_top=pad_top,
                          pad_left=quant.padding(sw, dw, in_w, kw, out_w), depth_mult=out_c // in_c,
                          c_padded=round4(out_c), in_zp=_zp(x), out_zp=_zp(y), act_min=lo, act_max=hi,
                          acc_x2=int(fast), **(plane.fields() if plane else PlaneGeometry.NONE))
    scratch = plane.bytes if plane else zp_row
    return Layer(op.index, "dwconv", op.opcode, (x.index,), y.index, params, arrays,
                 macs=out_h * out_w * out_c * kh * kw, in_place_ok=in_place, scratch=scratch,
                 scratch_in_place=plane.bytes if plane else zp_row + (pad_top + 1) * out_w * out_c, rq_fast=fast)


def _fc(model: TfliteModel, op: Operator, x: Tensor, w: Tensor, y: Tensor) -> Layer:
    assert w.data is not None and w.quant is not None
    oc, ic = w.shape
    if x.elements != ic:
        raise UnsupportedOpError(f"operator {op.index} (FULLY_CONNECTED) has a batch of {x.elements // ic}; the "
                                 "native runtime supports batch 1 (use --runtime tflm)")
    rows = w.data.astype(np.int64)
    bias = _bias(model, op, oc) - _zp(x) * rows.sum(axis=1)
    lo, hi = _activation(op, y)
    has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
    mults, shifts = quant.fc_multipliers(_scale(x), w.quant.scale, _scale(y), oc, has_bias)
    fast = fast_requant(mults, shifts, _zp(y), _bias(model, op, oc), rows)
    params = FcParams(in_c=ic, out_c=oc, k_padded=round4(ic), in_zp=_zp(x), out_zp=_zp(y), act_min=lo, act_max=hi)
    return Layer(op.index, "fc", op.opcode, (x.index,), y.index, params,
                 {"weights": ("int8_t", fc_rows(rows)), "bias": ("int32_t", _int32(bias)),
                  **_requant_arrays(mults, shifts, fast, _zp(y))}, macs=oc * ic, rq_fast=fast)


def _pool(op: Operator, x: Tensor, y: Tensor, kind: str) -> Layer:
    o = op.options
    in_h, in_w, c = _hw(x.shape)
    out_h, out_w, _ = _hw(y.shape)
    if x.quant != y.quant:
        raise UnsupportedOpError(f"operator {op.index} ({op.opcode}) rescales; TFLM requires equal input and "
                                 "output quantization for int8 pooling")
    lo, hi = _activation(op, y)
    params = PoolParams(in_h=in_h, in_w=in_w, c=c, out_h=out_h, out_w=out_w, k_h=o.filterHeight, k_w=o.filterWidth,
                        stride_h=o.strideH, stride_w=o.strideW,
                        pad_top=quant.padding(o.strideH, 1, in_h, o.filterHeight, out_h),
                        pad_left=quant.padding(o.strideW, 1, in_w, o.filterWidth, out_w), act_min=lo, act_max=hi)
    return Layer(op.index, kind, op.opcode, (x.index,), y.index, params)


def _mean(model: TfliteModel, op: Operator, x: Tensor, y: Tensor) -> Layer:
    axis_data = model.tensors[op.inputs[1]].data
    if axis_data is None:
        raise UnsupportedOpError(f"operator {op.index} (MEAN) has a non-constant axis; use --runtime tflm")
    rank = len(x.shape)
    axes = sorted({int(a) % rank for a in np.asarray(axis_data).reshape(-1)})
    if axes != list(range(axes[0], axes[-1] + 1)):
        raise UnsupportedOpError(f"operator {op.index} (MEAN) reduces non-adjacent axes {axes}; use --runtime tflm")
    outer = int(np.prod(x.shape[: axes[0]]))
    reduce = int(np.prod(x.shape[axes[0] : axes[-1] + 1]))
    inner = int(np.prod(x.shape[axes[-1] + 1 :]))
    mult, shift = quant.mean_multiplier(_scale(x), _scale(y), reduce)
    return Layer(op.index, "mean", op.opcode, (x.index,), y.index,
                 MeanParams(outer=outer, reduce=reduce, inner=inner, in_zp=_zp(x), out_zp=_zp(y), mult=mult,
                            shift=shift))


def _add(op: Operator, a: Tensor, b: Tensor, y: Tensor) -> Layer:
    if not (a.shape == b.shape == y.shape):
        raise UnsupportedOpError(f"operator {op.index} (ADD) broadcasts {a.shape} + {b.shape}; the native runtime "
                                 "adds equal shapes only (use --runtime tflm)")
    (m1, s1), (m2, s2), (mo, so) = quant.add_params(_scale(a), _scale(b), _scale(y))
    lo, hi = _activation(op, y)
    t1 = np.array(quant.add_input_table(_zp(a), m1, s1), dtype=np.int64)
    t2 = np.array(quant.add_input_table(_zp(b), m2, s2), dtype=np.int64)
    # the sum's requantization is exact in tm_rq_fast under fast_requant's conditions (the sum plays the
    # accumulator: a "bias" that reaches its largest magnitude, no weights)
    reach = np.array([np.abs(t1).max() + np.abs(t2).max()])
    fast = fast_requant([mo], [so], _zp(y), reach, np.zeros((1, 1), dtype=np.int64))
    rights, adds = _fast_terms([mo], [so], _zp(y))
    params = AddParams(size=y.elements, out_zp=_zp(y), out_mult=mo, out_shift=rights[0] if fast else so,
                       out_add=adds[0] if fast else 0, fast=int(fast), act_min=lo, act_max=hi)
    arrays = {"in1_table": ("int32_t", t1.astype(np.int32)), "in2_table": ("int32_t", t2.astype(np.int32))}
    # Elementwise: the output may overwrite either input once nothing else reads it.
    return Layer(op.index, "add", op.opcode, (a.index, b.index), y.index, params, arrays, in_place_ok=True,
                 rq_fast=fast)


def _softmax(op: Operator, x: Tensor, y: Tensor) -> Layer:
    mult, shift, diff_min = quant.softmax_params(_scale(x), float(op.options.beta))
    depth = x.shape[-1]
    return Layer(op.index, "softmax", op.opcode, (x.index,), y.index,
                 SoftmaxParams(rows=x.elements // depth, depth=depth, input_mult=mult, input_left_shift=shift,
                               diff_min=diff_min), in_place_ok=True)


def _pad(model: TfliteModel, op: Operator, x: Tensor, y: Tensor) -> Layer:
    pads = model.tensors[op.inputs[1]].data
    if pads is None or len(x.shape) != 4:
        raise UnsupportedOpError(f"operator {op.index} ({op.opcode}) needs constant 4-D paddings; use --runtime tflm")
    pads = np.asarray(pads).reshape(4, 2)
    if pads[0].any() or pads[3].any():
        raise UnsupportedOpError(f"operator {op.index} ({op.opcode}) pads the batch or channel axis; the native "
                                 "runtime pads height and width only (use --runtime tflm)")
    value = _zp(y)
    if op.opcode == "PADV2" and len(op.inputs) > 2:
        const = model.tensors[op.inputs[2]].data
        assert const is not None
        value = int(np.asarray(const).reshape(-1)[0])
    in_h, in_w, c = _hw(x.shape)
    out_h, out_w, _ = _hw(y.shape)
    return Layer(op.index, "pad", op.opcode, (x.index,), y.index,
                 PadParams(in_h=in_h, in_w=in_w, c=c, out_h=out_h, out_w=out_w, pad_top=int(pads[1][0]),
                           pad_left=int(pads[2][0]), value=value))


def lower(model: TfliteModel, where: str = "model", wide_weights: bool | frozenset[int] = True) -> list[Layer]:
    """One Layer per operator, in schedule order; raises UnsupportedOpError naming the first op it cannot run.
    ``wide_weights``: int16 convolution weights (fastest) instead of int8 (half the flash) — for every
    CONV_2D (True), none (False) or the operators whose indices are in the set."""
    layers = []
    for op in model.operators:
        if op.opcode not in SUPPORTED:
            raise UnsupportedOpError(f"{where}: operator {op.index} is {op.opcode}, which the native runtime does not "
                                     f"implement (it runs {', '.join(SUPPORTED)}); use --runtime tflm")
        t = [model.tensors[i] if i >= 0 else None for i in op.inputs]
        x = t[0]
        y = model.tensors[op.outputs[0]]
        data_inputs = [x, t[1]] if op.opcode == "ADD" else [x]
        if any(d is None or d.is_constant for d in data_inputs):
            raise UnsupportedOpError(f"{where}: operator {op.index} ({op.opcode}) reads a constant as its data "
                                     "input; the native runtime needs activations there (use --runtime tflm)")
        assert x is not None
        try:
            if op.opcode == "CONV_2D":
                assert t[1] is not None
                wide = wide_weights if isinstance(wide_weights, bool) else op.index in wide_weights
                layers.append(_conv(model, op, x, t[1], y, wide))
            elif op.opcode == "DEPTHWISE_CONV_2D":
                assert t[1] is not None
                layers.append(_dwconv(model, op, x, t[1], y))
            elif op.opcode == "FULLY_CONNECTED":
                assert t[1] is not None
                layers.append(_fc(model, op, x, t[1], y))
            elif op.opcode in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
                layers.append(_pool(op, x, y, "avgpool" if op.opcode == "AVERAGE_POOL_2D" else "maxpool"))
            elif op.opcode == "MEAN":
                layers.append(_mean(model, op, x, y))
            elif op.opcode == "ADD":
                assert t[1] is not None
                layers.append(_add(op, x, t[1], y))
            elif op.opcode == "SOFTMAX":
                layers.append(_softmax(op, x, y))
            elif op.opcode in ("PAD", "PADV2"):
                layers.append(_pad(model, op, x, y))
            else:
                layers.append(Layer(op.index, "alias", op.opcode, (x.index,), y.index, None, in_place_ok=True))
        except ValueError as err:
            raise UnsupportedOpError(f"{where}: operator {op.index} ({op.opcode}) has shapes the native runtime does "
                                     f"not handle ({err}); use --runtime tflm") from err
    return layers
