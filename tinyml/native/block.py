"""Residual blocks run in bands of rows (``tm_block_s8``): the block's second convolution B and its
ADD produce ``BAND`` output rows at a time from a window of the first convolution A's output rows,
computed just ahead of them; a 1x1 (or any) shortcut convolution S, if the block has one, computes
the same band into the output, where B's ADD then runs in place. A's output tensor never exists, and
the block's output may be written over its input as the bands consume it.

A block here: conv A reads X; conv B (stride 1, dilation 1) reads only A's output; the ADD reads B's
output and either X itself (identity shortcut) or the output of conv S, which reads X; A's, B's and
S's outputs have no other reader. ResNet-8's three blocks are such blocks: the first needs its input
and A's output at once (two 16 KB tensors) as separate calls, one tensor and a 4-row window here.

Whether the output may overwrite X is decided by replaying, byte by byte, the order in which the
kernel reads X and writes the output (``writes_over_input_safely``): every write must land on bytes
no later step reads. The row schedule below is the C kernel's (tinyml_nn_block.c), stated on both
sides of the generator like every kernel's scratch size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tinyml.native.layout import round4
from tinyml.native.lower import Layer
from tinyml.native.structs import ConvParams

BAND = 2  # output rows of B per step: one row of Winograd F(2x2, 3x3) tiles (TM_BLOCK_BAND)


@dataclass(frozen=True)
class Block:
    a: Layer
    b: Layer
    add: Layer
    s: Layer | None  # the shortcut convolution; None: the ADD's other input is X itself

    @property
    def layers(self) -> tuple[Layer, ...]:
        """In the order tm_block_s8 takes them: A, (S,) B, ADD."""
        return (self.a, *((self.s,) if self.s else ()), self.b, self.add)

    @property
    def x(self) -> int:
        return self.a.inputs[0]

    @property
    def window_rows(self) -> int:
        return BAND + self.b.conv.k_h - 1


def match(layers: list[Layer], i: int, readers: dict[int, int], outputs: set[int]) -> Block | None:
    """The block that layers[i:i+3] or layers[i:i+4] form (in any order that runs A before B and
    ends with the ADD), or None."""
    for n in (3, 4):
        group = layers[i : i + n]
        if len(group) < n or group[-1].kind != "add" or any(ly.kind != "conv" for ly in group[:-1]):
            continue
        block = _roles(group, readers, outputs)
        if block is not None:
            return block
    return None


def _roles(group: list[Layer], readers: dict[int, int], outputs: set[int]) -> Block | None:
    add, convs = group[-1], group[:-1]
    if len(set(add.inputs)) != 2 or any(readers.get(c.output, 0) != 1 or c.output in outputs for c in convs):
        return None
    by_output = {c.output: c for c in convs}
    for b in convs:
        a = next((c for c in convs if c.output == b.inputs[0]), None)
        if b.output not in add.inputs or a is None or convs.index(a) > convs.index(b):
            continue
        other = add.inputs[0] if add.inputs[1] == b.output else add.inputs[1]
        s = by_output.get(other)
        identity = len(convs) == 2 and other == a.inputs[0]
        shortcut = len(convs) == 3 and s is not None and s.inputs[0] == a.inputs[0]
        if identity or shortcut:
            block = Block(a, b, add, s)
            return block if _bandable(block) else None
    return None


def _bandable(block: Block) -> bool:
    b = block.b.conv
    return b.stride_h == 1 and b.dil_h == 1 and b.in_h == block.a.conv.out_h


def scratch(block: Block) -> int:
    """tm_block_s8's scratch: the window of A's rows (tm_block_window_bytes), then the largest of A's,
    S's and B's (+ its ADD's pair buffer) scratch."""
    a = block.a.conv
    work = [round4(block.a.scratch), round4(block.b.scratch) + round4(2 * block.b.conv.out_c)]
    if block.s is not None:
        work.append(round4(block.s.scratch))
    return round4(block.window_rows * a.out_w * a.out_c) + max(work)


@dataclass(frozen=True)
class _Event:
    reads: tuple[tuple[int, int], ...]  # byte ranges of X
    writes: tuple[int, int]  # byte range of the output (at X's address)
    reads_first: bool  # all reads happen before any write (else a write may precede a read)


def _rows_read(p: ConvParams, r0: int, r1: int) -> tuple[int, int]:
    """Input rows [lo, hi) that output rows [r0, r1) of a convolution read."""
    lo = max(0, r0 * p.stride_h - p.pad_top)
    hi = min(p.in_h, (r1 - 1) * p.stride_h - p.pad_top + (p.k_h - 1) * p.dil_h + 1)
    return lo, hi


def _pixel_reads(p: ConvParams, oy: int, ox: int) -> Iterator[tuple[int, int]]:
    for ky in range(p.k_h):
        iy = oy * p.stride_h - p.pad_top + ky * p.dil_h
        if not 0 <= iy < p.in_h:
            continue
        xs = [ox * p.stride_w - p.pad_left + kx * p.dil_w for kx in range(p.k_w)]
        xs = [x for x in xs if 0 <= x < p.in_w]
        if xs:
            yield ((iy * p.in_w + min(xs)) * p.in_c, (iy * p.in_w + max(xs) + 1) * p.in_c)


def _schedule_rows(block: Block) -> Iterator[tuple[int, int, int, int]]:
    """Per band: (r, n, first new A row, end of A rows): B's output rows [r, r + n) need A's rows up to
    the end; those from the first new one are computed in that band (tm_block_s8's loop)."""
    b = block.b.conv
    have = 0
    for r in range(0, b.out_h, BAND):
        n = min(BAND, b.out_h - r)
        need_hi = min(b.in_h, r + n - 1 - b.pad_top + b.k_h)
        yield r, n, have, max(have, need_hi)
        have = max(have, need_hi)


def _events(block: Block) -> Iterator[_Event]:
    a, b = block.a.conv, block.b.conv
    in_row = a.in_w * a.in_c
    out_row = b.out_w * b.out_c
    for r, n, a_lo, a_hi in _schedule_rows(block):
        if a_hi > a_lo:
            lo, hi = _rows_read(a, a_lo, a_hi)
            yield _Event(((lo * in_row, hi * in_row),), (0, 0), True)
        if block.s is not None:
            s = block.s.conv
            if s.winograd:  # tiles: reads and writes interleave — assume any order
                lo, hi = _rows_read(s, r, r + n)
                yield _Event(((lo * in_row, hi * in_row),), (r * out_row, (r + n) * out_row), False)
            else:  # conv_pixels: a pixel pair's taps are read before its outputs are written
                pixels = n * s.out_w
                for q in range(0, pixels, 2):
                    m = min(q + 1, pixels - 1)
                    reads = [rg for k in (q, m) for rg in _pixel_reads(s, r + k // s.out_w, k % s.out_w)]
                    at = (r * s.out_w + q) * s.out_c
                    yield _Event(tuple(reads), (at, at + (m - q + 1) * s.out_c), True)
        # B's ADD reads each residual element right before writing its sum there (identity: X's same
        # bytes; with S: the output itself, not X)
        rows = (r * out_row, (r + n) * out_row)
        yield _Event((rows,) if block.s is None else (), rows, True)


def writes_over_input_safely(block: Block) -> bool:
    """True when tm_block_s8 may write the block's output at X's address: no write lands on a byte
    of X that a later step (or, where reads and writes interleave, the same step) still reads. The
    identity shortcut needs the output laid out like X (the ADD runs in place, element by element)."""
    a, b = block.a.conv, block.b.conv
    if block.s is None and (b.out_h, b.out_w, b.out_c) != (a.in_h, a.in_w, a.in_c):
        return False
    size = a.in_h * a.in_w * a.in_c
    read_later = np.zeros(size, dtype=bool)
    for event in reversed(list(_events(block))):
        mine = np.zeros(size, dtype=bool)
        for lo, hi in event.reads:
            mine[lo:hi] = True
        lo, hi = min(event.writes[0], size), min(event.writes[1], size)
        if read_later[lo:hi].any() or (not event.reads_first and mine[lo:hi].any()):
            return False
        read_later |= mine
    return True
