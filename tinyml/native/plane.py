"""The planar depthwise path's geometry (``tm_dwconv_t``'s planar fields): whether a packed 3x3
DEPTHWISE_CONV_2D takes it, and the int16 plane it widens one channel into — see the planar section
of ``firmware/runtime/native/tinyml_nn_dwconv.c``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

PLANE_BYTES = 2048  # the planar depthwise path's int16 plane at most (taller layers go in bands of rows)
# The planar path pays a set-up per channel and per plane row that the pixels of a channel share; the
# per-pixel path pays its tap set-up per pixel, shared by the channels. Measured per layer (QEMU
# instructions, MobileNetV1-0.25): planar 0.42x at 48x48, 0.76x at 24x24, 1.0x at 12x12, 1.5x at 6x6,
# 3.2x at 3x3; DS-CNN's 25x5 layers 0.90x in est. cycles; at stride 2 (four input pixels widened per
# output) 0.82x at 24x24, 1.15x at 12x12. So planar from this many output pixels (times stride^2):
PLANAR_MIN_PIXELS = 100


@dataclass(frozen=True)
class PlaneGeometry:
    """The planar depthwise path's plane (``tm_dwconv_t`` planar fields): rows along x, or along y
    when ``transposed``, each ``width`` int16 (the columns the outputs read in pairs), ``band``
    output rows per plane of ``stride * (band - 1) + 3`` rows; then one output row's int32 sums."""

    transposed: bool
    stride: int
    pairs: int  # output pairs per row
    width: int
    band: int

    NONE: ClassVar[dict[str, int]] = {"planar": 0, "plane_t": 0, "plane_w": 0, "band": 0}

    @property
    def bytes(self) -> int:  # tm_dwconv_scratch
        return (self.stride * (self.band - 1) + 3) * self.width * 2 + self.pairs * 2 * 4

    def fields(self) -> dict[str, int]:
        return {"planar": 1, "plane_t": int(self.transposed), "plane_w": self.width, "band": self.band}


def plane_geometry(out_h: int, out_w: int, stride: int) -> PlaneGeometry:
    """Rows along the axis that wastes fewer outputs in pairs (an odd row computes one output
    alone), as many rows per band as ``PLANE_BYTES`` holds."""
    transposed = (out_h + 1) // 2 * out_w < (out_w + 1) // 2 * out_h
    nu, nv = (out_h, out_w) if transposed else (out_w, out_h)
    pairs = (nu + 1) // 2
    width = 2 * stride * pairs + 2
    band = min(nv, max(1, (PLANE_BYTES // (2 * width) - 3) // stride + 1))
    return PlaneGeometry(transposed, stride, pairs, width, band)


def plane_for(out_h: int, out_w: int, kernel: tuple[int, int], stride: tuple[int, int],
              dilation: tuple[int, int]) -> PlaneGeometry | None:
    """The plane of a packed depthwise layer that takes the planar path, else None."""
    s = stride[0]
    if kernel != (3, 3) or dilation != (1, 1) or stride[1] != s or s not in (1, 2):
        return None
    if out_h * out_w < PLANAR_MIN_PIXELS * s * s:  # the widening reads s^2 input pixels per output
        return None
    return plane_geometry(out_h, out_w, s)
