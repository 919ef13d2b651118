"""Weight layouts the native kernels read (see ``firmware/runtime/native/tinyml_nn.h``): convolution
weights in channel pairs, int16 pair-interleaved (``pair_interleave``; Winograd's transformed filters
too) or int8 (``pair_bytes``); depthwise weights int16 [channel group][tap][4] interleaved
(0, 2, 1, 3) per four channels (``interleave``); fully-connected weights int8 rows, interleaved in
groups of four (``fc_rows``). A pointwise convolution whose weights are block-diagonal (an
ensemble merged into one model: ``tinyml/train/ensemble.py``) stores only its diagonal blocks
(``diagonal_groups``, ``group_blocks``).
"""

from __future__ import annotations

import numpy as np

_INTERLEAVE = np.array([0, 2, 1, 3])


def round4(n: int) -> int:
    """n rounded up to a multiple of 4 (rows of K, channel groups, scratch parts)."""
    return (n + 3) // 4 * 4


def interleave(rows: np.ndarray) -> np.ndarray:
    """[n, k] int -> [n, k padded to 4] int16, each group of four stored as (0, 2, 1, 3)."""
    n, k = rows.shape
    kp = round4(k)
    padded = np.zeros((n, kp), dtype=np.int16)
    padded[:, :k] = rows
    return padded.reshape(n, kp // 4, 4)[:, :, _INTERLEAVE].reshape(n, kp)


def _pairs(rows: np.ndarray) -> np.ndarray:
    """[n, k] -> [ceil(n/2), 2, k padded to 4]; an odd last row is paired with itself."""
    if len(rows) % 2:
        rows = np.concatenate([rows, rows[-1:]])
    n, k = rows.shape
    padded = np.zeros((n, round4(k)), dtype=np.int64)
    padded[:, :k] = rows
    return padded.reshape(n // 2, 2, -1)


def pair_interleave(rows: np.ndarray) -> np.ndarray:
    """int16 conv weights: per channel pair and group of four K, the words
    (c0: k0,k2) (c1: k0,k2) (c0: k1,k3) (c1: k1,k3)."""
    pairs = _pairs(rows)
    q, _, kp = pairs.shape
    g = pairs.reshape(q, 2, kp // 4, 4)  # [pair, channel, group, k]
    # -> [pair, group, odd(k), channel, k>>1]
    out = g.reshape(q, 2, kp // 4, 2, 2).transpose(0, 2, 4, 1, 3)
    return out.reshape(-1).astype(np.int16)


def pair_bytes(rows: np.ndarray) -> np.ndarray:
    """int8 conv weights: per channel pair and group of four K, c0's four bytes then c1's."""
    pairs = _pairs(rows)
    q, _, kp = pairs.shape
    return pairs.reshape(q, 2, kp // 4, 4).transpose(0, 2, 1, 3).reshape(-1).astype(np.int8)


def pad_rows(rows: np.ndarray) -> np.ndarray:
    """[n, k] int -> [n, k padded to 4] int8 in natural order."""
    n, k = rows.shape
    padded = np.zeros((n, round4(k)), dtype=np.int8)
    padded[:, :k] = rows
    return padded


def fc_rows(rows: np.ndarray) -> np.ndarray:
    """[n, k] int -> the fully-connected weight layout, flat int8: rows padded to k4 = k rounded up to
    4; each group of four rows as [k4 / 4][4 rows][4 bytes] (one pointer walks a group's rows
    together, 16 bytes per four inputs); the last n % 4 rows after them in natural order."""
    padded = pad_rows(rows)
    n, k4 = padded.shape
    g = n // 4 * 4
    grouped = padded[:g].reshape(g // 4, 4, k4 // 4, 4).transpose(0, 2, 1, 3)
    return np.concatenate([grouped.reshape(-1), padded[g:].reshape(-1)])


MAX_GROUPS = 255  # tm_conv_t.groups is a uint8_t


def diagonal_groups(rows: np.ndarray) -> int:
    """The most groups G for which pointwise weights rows [out_c, in_c] are block-diagonal — output
    channels g * out_c / G .. read only input channels g * in_c / G .. (every other weight exactly
    zero) — with whole channel pairs (out_c / G even) and whole groups of four K (in_c / G a
    multiple of 4) per block, as the grouped kernel takes them; 1 when there is no such G > 1."""
    out_c, in_c = rows.shape
    nonzero = rows != 0
    for groups in range(min(out_c // 2, in_c // 4, MAX_GROUPS), 1, -1):
        if out_c % (2 * groups) or in_c % (4 * groups):
            continue
        blocks = nonzero.reshape(groups, out_c // groups, groups, in_c // groups)
        outside = blocks.any(axis=(1, 3)) & ~np.eye(groups, dtype=bool)
        if not outside.any():
            return groups
    return 1


def group_blocks(rows: np.ndarray, groups: int) -> np.ndarray:
    """The diagonal blocks of rows [out_c, in_c], [out_c, in_c / groups]: channel c's weights over
    its group's input channels."""
    out_c, in_c = rows.shape
    blocks = rows.reshape(groups, out_c // groups, groups, in_c // groups)
    return np.concatenate([blocks[g, :, g] for g in range(groups)])
