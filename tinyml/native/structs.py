"""The native runtime's kernel parameter structs, typed: one frozen dataclass per C struct of
``firmware/runtime/native/tinyml_nn.h``, its integer members annotated with their C types.

Values are checked against the C type when a layer is lowered, so a dimension that does not fit
a ``uint16_t`` is refused with its operator named (``lower.py`` turns the ValueError into an
UnsupportedOpError) instead of being truncated by the C compiler; ``tests/test_native.py`` checks
every name and type against the header. The constant arrays and the requantization sub-struct
are the generator's own (``emit.py``), not members here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import Annotated, ClassVar, get_type_hints

U8 = Annotated[int, "uint8_t"]
I8 = Annotated[int, "int8_t"]
U16 = Annotated[int, "uint16_t"]
I32 = Annotated[int, "int32_t"]
U32 = Annotated[int, "uint32_t"]
RANGES = {"uint8_t": (0, 2**8 - 1), "int8_t": (-(2**7), 2**7 - 1), "uint16_t": (0, 2**16 - 1),
          "int32_t": (-(2**31), 2**31 - 1), "uint32_t": (0, 2**32 - 1)}


@dataclass(frozen=True)
class KernelParams:
    C_STRUCT: ClassVar[str]

    def __post_init__(self) -> None:
        for name, ctype in c_types(type(self)).items():
            value = getattr(self, name)
            lo, hi = RANGES[ctype]
            if not lo <= value <= hi:
                raise ValueError(f"{self.C_STRUCT}.{name} = {value} does not fit its {ctype}")

    def members(self) -> list[tuple[str, int]]:
        """(member, value) in declaration order: the struct's designated initializers."""
        return [(f.name, int(getattr(self, f.name))) for f in fields(self)]


@cache
def c_types(cls: type[KernelParams]) -> dict[str, str]:
    """Member -> its C type, from the annotations."""
    hints = get_type_hints(cls, include_extras=True)
    return {f.name: hints[f.name].__metadata__[0] for f in fields(cls)}


@dataclass(frozen=True)
class _Window(KernelParams):
    """The members tm_conv_t and tm_dwconv_t begin with: shapes, kernel, stride, dilation, padding."""

    in_h: U16
    in_w: U16
    in_c: U16
    out_h: U16
    out_w: U16
    out_c: U16
    k_h: U8
    k_w: U8
    stride_h: U8
    stride_w: U8
    dil_h: U8
    dil_w: U8
    pad_top: U8
    pad_left: U8


@dataclass(frozen=True)
class ConvParams(_Window):
    C_STRUCT = "tm_conv_t"
    k_padded: U16
    in_zp: I8
    out_zp: I8
    act_min: I8
    act_max: I8
    wide: U8
    acc_x2: U8
    winograd: U8 = 0
    groups: U8 = 1


@dataclass(frozen=True)
class DwconvParams(_Window):
    C_STRUCT = "tm_dwconv_t"
    depth_mult: U8
    c_padded: U16
    in_zp: I8
    out_zp: I8
    act_min: I8
    act_max: I8
    acc_x2: U8
    planar: U8
    plane_t: U8
    plane_w: U16
    band: U16


@dataclass(frozen=True)
class FcParams(KernelParams):
    C_STRUCT = "tm_fc_t"
    in_c: U16
    out_c: U16
    k_padded: U16
    in_zp: I8
    out_zp: I8
    act_min: I8
    act_max: I8


@dataclass(frozen=True)
class PoolParams(KernelParams):
    C_STRUCT = "tm_pool_t"
    in_h: U16
    in_w: U16
    c: U16
    out_h: U16
    out_w: U16
    k_h: U8
    k_w: U8
    stride_h: U8
    stride_w: U8
    pad_top: U8
    pad_left: U8
    act_min: I8
    act_max: I8


@dataclass(frozen=True)
class MeanParams(KernelParams):
    C_STRUCT = "tm_mean_t"
    outer: U16
    reduce: U16
    inner: U16
    in_zp: I8
    out_zp: I8
    mult: I32
    shift: I8


@dataclass(frozen=True)
class AddParams(KernelParams):
    C_STRUCT = "tm_add_t"
    size: U32
    out_zp: I32
    out_mult: I32
    out_shift: I8
    out_add: I32
    fast: U8
    act_min: I8
    act_max: I8


@dataclass(frozen=True)
class SoftmaxParams(KernelParams):
    C_STRUCT = "tm_softmax_t"
    rows: U16
    depth: U16
    input_mult: I32
    input_left_shift: I8
    diff_min: I32


@dataclass(frozen=True)
class PadParams(KernelParams):
    C_STRUCT = "tm_pad_t"
    in_h: U16
    in_w: U16
    c: U16
    out_h: U16
    out_w: U16
    pad_top: U16
    pad_left: U16
    value: I8


ALL: tuple[type[KernelParams], ...] = (ConvParams, DwconvParams, FcParams, PoolParams, MeanParams, AddParams,
                                       SoftmaxParams, PadParams)
