"""TFLite Micro's quantization parameter arithmetic, reproduced exactly in Python.

The kernels are bit-exact with TFLM only if every multiplier, shift, padding and activation bound
is the one TFLM computes in its Prepare step — including where it rounds in float32 and where in
double. Each function names its TFLM counterpart.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5
ADD_LEFT_SHIFT = 20


def tflite_round(x: float) -> float:
    """TfLiteRound / std::round: halves away from zero."""
    a = abs(x)
    r = math.floor(a)
    if a - r >= 0.5:
        r += 1
    return math.copysign(r, x)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier (double rounding build): (int32 multiplier, shift) with real ≈ m * 2^(shift-31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(tflite_round(q * (1 << 31)))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def conv_multipliers(input_scale: float, filter_scales: tuple[float, ...], output_scale: float,
                     channels: int) -> tuple[list[int], list[int]]:
    """PopulateConvolutionQuantizationParams: per channel, double(input) * double(filter) / double(output)."""
    mults, shifts = [], []
    for c in range(channels):
        scale = filter_scales[c] if len(filter_scales) > 1 else filter_scales[0]
        m, s = quantize_multiplier(float(input_scale) * float(scale) / float(output_scale))
        mults.append(m)
        shifts.append(s)
    return mults, shifts


def fc_multipliers(input_scale: float, filter_scales: tuple[float, ...], output_scale: float,
                   channels: int, has_bias: bool) -> tuple[list[int], list[int]]:
    """CalculateOpDataFullyConnected: per-channel like conv; per-tensor through
    GetQuantizedConvolutionMultipler, whose overload with a bias multiplies the scales as doubles and
    whose overload without one multiplies them as floats (a last-bit difference in the multiplier
    that changes outputs lying near a rounding tie)."""
    if len(filter_scales) > 1 or has_bias:
        return conv_multipliers(input_scale, filter_scales, output_scale, channels)
    product = float(np.float32(input_scale) * np.float32(filter_scales[0]))
    m, s = quantize_multiplier(product / float(output_scale))
    return [m] * channels, [s] * channels


def _quantize_f32(scale: float, zero_point: int, value: float) -> int:
    return zero_point + int(tflite_round(float(np.float32(value) / np.float32(scale))))


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for int8 outputs."""
    if activation == "RELU":
        return max(INT8_MIN, _quantize_f32(scale, zero_point, 0.0)), INT8_MAX
    if activation == "RELU6":
        return (max(INT8_MIN, _quantize_f32(scale, zero_point, 0.0)),
                min(INT8_MAX, _quantize_f32(scale, zero_point, 6.0)))
    if activation == "RELU_N1_TO_1":
        return (max(INT8_MIN, _quantize_f32(scale, zero_point, -1.0)),
                min(INT8_MAX, _quantize_f32(scale, zero_point, 1.0)))
    if activation == "NONE":
        return INT8_MIN, INT8_MAX
    raise ValueError(activation)


def padding(stride: int, dilation: int, in_size: int, filter_size: int, out_size: int) -> int:
    """ComputePadding: the leading padding (TFLM pads the odd pixel at the end)."""
    effective = (filter_size - 1) * dilation + 1
    total = (out_size - 1) * stride + effective - in_size
    return max(total, 0) // 2


def softmax_params(input_scale: float, beta: float) -> tuple[int, int, int]:
    """CalculateSoftmaxParams for int8: (input multiplier, input left shift, diff_min)."""
    bits = SOFTMAX_SCALED_DIFF_INTEGER_BITS
    real = min(float(beta) * float(input_scale) * (1 << (31 - bits)), (1 << 31) - 1.0)
    mult, shift = quantize_multiplier(real)  # QuantizeMultiplierGreaterThanOne
    radius = math.floor(1.0 * ((1 << bits) - 1) * (1 << (31 - bits)) / (1 << shift))
    return mult, shift, -radius


def mean_multiplier(input_scale: float, output_scale: float, elements: int) -> tuple[int, int]:
    """Reduce MEAN: QuantizeMultiplier(in/out), then folded with 1/elements as QuantizedMeanOrSum does."""
    mult, shift = quantize_multiplier(float(input_scale) / float(output_scale))
    s = min(elements.bit_length() - 1, 32, 31 + shift)
    mult = (mult << s) // elements
    return mult, shift - s


def _int32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= 1 << 31 else x


def mbqm(x: int, mult: int, shift: int) -> int:
    """TFLM's MultiplyByQuantizedMultiplier (double rounding), as tm_mbqm computes it on int32."""
    # SaturatingRoundingDoublingHighMul: TFLM multipliers are never negative, so it never saturates
    high = (_int32(x << max(shift, 0)) * mult + (1 << 30)) >> 31
    right = max(-shift, 0)
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if (high & mask) > threshold else 0)  # RoundingDivideByPOT


def add_input_table(zero_point: int, mult: int, shift: int) -> list[int]:
    """One ADD input's term of TFLM's sum for every int8 value, indexed by the value's byte (v & 0xff):
    MultiplyByQuantizedMultiplierSmallerThanOneExp((v - zero_point) << 20, mult, shift)."""
    terms = {v: mbqm((v - zero_point) << ADD_LEFT_SHIFT, mult, shift) for v in range(-128, 128)}
    return [terms[b - 256 if b >= 128 else b] for b in range(256)]


def add_params(scale1: float, scale2: float, output_scale: float) -> tuple[tuple[int, int], tuple[int, int],
                                                                          tuple[int, int]]:
    """CalculateOpDataAdd: ((m1, s1), (m2, s2), (m_out, s_out)) with TFLM's left shift of 20."""
    twice_max = 2 * float(max(np.float32(scale1), np.float32(scale2)))
    real1 = float(scale1) / twice_max
    real2 = float(scale2) / twice_max
    real_out = twice_max / ((1 << ADD_LEFT_SHIFT) * float(output_scale))
    return quantize_multiplier(real1), quantize_multiplier(real2), quantize_multiplier(real_out)
