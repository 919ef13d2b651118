"""Winograd F(2x2, 3x3) for the native runtime's 3x3 stride-1 convolutions: which layers take it,
and their transformed filters (the kernel: ``firmware/runtime/native/tinyml_nn_winograd.c``).

A tile of 2x2 outputs costs 16 multiplies per input channel instead of 36. The arithmetic stays
exact in integers: the filters are transformed with 2G (integer entries), U = (2G) g (2G)^T, so
the kernel's output transform gives 4 times the convolution's sum, which it halves into the fast
path's doubled accumulator. The price is flash: 16 int16 values per filter instead of 9.
"""

from __future__ import annotations

import numpy as np

from tinyml.native.layout import round4
from tinyml.native.structs import ConvParams

G2 = np.array([[2, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 2]], dtype=np.int64)  # 2G of F(2x2, 3x3)
ELEMENTS = 16  # of a transformed 4x4 tile
# Input channel counts the Cortex-M kernel has an unrolled loop for (others would run its portable C).
FAST_IN_C = (16, 32, 64)
# Every sum stays in int32: |V| <= 4 * 128, |U| <= 9 * 128, and the output transform adds 9 elements.
MAX_IN_C = (2**31 - 1) // (9 * 512 * 1152)


def eligible(p: ConvParams, packed: bool) -> bool:
    """A convolution the Winograd kernel runs: 3x3, stride 1, no dilation, on the packed fast path
    with int16 weights stored doubled (its accumulators are the fast path's), and an input channel
    count with an unrolled Cortex-M loop."""
    return (packed and bool(p.wide) and bool(p.acc_x2) and (p.k_h, p.k_w) == (3, 3)
            and (p.stride_h, p.stride_w, p.dil_h, p.dil_w) == (1, 1, 1, 1)
            and p.in_c in FAST_IN_C and p.in_c <= MAX_IN_C)


def filters(weights: np.ndarray) -> np.ndarray:
    """[out_c, 3, 3, in_c] int8 filters -> [out_c, 16 * in_c] rows of U = (2G) g (2G)^T, element-major
    (K = element * in_c + input channel), each |value| <= 1152."""
    g = weights.astype(np.int64)
    u = np.einsum("ak,okli,bl->oabi", G2, g, G2)  # [out_c, 4, 4, in_c]
    return u.reshape(len(g), ELEMENTS * g.shape[3])


def scratch(in_c: int, out_c: int) -> int:
    """tm_conv_winograd_scratch: two tiles' V (int16), one channel pair's products, two tiles' outputs,
    a row of input zero points (each part rounded up to 4)."""
    return 2 * ELEMENTS * in_c * 2 + ELEMENTS * 4 * 4 + round4(8 * out_c) + round4(in_c)
