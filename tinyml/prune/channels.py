"""Channel pruning of a DS-CNN: which output channels of each convolution to keep (an importance
criterion), and the smaller network's weights taken from the larger one.

A *group* is the output channels of one regular convolution (the first, then each block's
pointwise); they flow through its batch norm, the next depthwise convolution and its batch norm,
into the next convolution's input channels (or the classifier's rows). A channel's importance is
its effective scale: the L1 norm of its convolution filter times |gamma| / sqrt(var + eps) of the
batch norm after it (network slimming, Liu et al. 2017, with the filter norm of Li et al. 2017).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinyml.errors import TinymlError

MIN_CHANNELS = 4  # no group is pruned below this


def _weighted(model: Any) -> list[Any]:
    return [layer for layer in model.layers if layer.get_weights()]


def _kind(layer: Any) -> str:
    return type(layer).__name__


def importance(model: Any) -> list[np.ndarray]:
    """Per group, the importance of each output channel."""
    layers = _weighted(model)
    scores: list[np.ndarray] = []
    for i, layer in enumerate(layers):
        if _kind(layer) != "Conv2D":
            continue
        bn = layers[i + 1] if i + 1 < len(layers) else None
        if bn is None or _kind(bn) != "BatchNormalization":
            raise TinymlError(f"layer {layer.name} is not followed by a batch norm; only DS-CNN runs can be pruned")
        kernel = layer.get_weights()[0]
        gamma, _, _, var = bn.get_weights()
        scores.append(np.abs(kernel).sum(axis=(0, 1, 2)) * np.abs(gamma) / np.sqrt(var + bn.epsilon))
    return scores


def widths_for(scores: list[np.ndarray], keep: float) -> tuple[int, ...]:
    """Channels kept per group at fraction ``keep`` (each group the same fraction, at least MIN_CHANNELS)."""
    return tuple(min(len(s), max(MIN_CHANNELS, round(len(s) * keep))) for s in scores)


def kept_channels(scores: list[np.ndarray], widths: tuple[int, ...]) -> list[np.ndarray]:
    """Per group, the indices of its ``width`` most important channels, in their original order."""
    return [np.sort(np.argsort(-s, kind="stable")[:w]) for s, w in zip(scores, widths, strict=True)]


def transplant(source: Any, target: Any, keep: list[np.ndarray]) -> None:
    """Set ``target`` (the pruned architecture) to ``source``'s weights of the ``keep`` channels."""
    pairs = list(zip(_weighted(source), _weighted(target), strict=True))
    selected: np.ndarray | None = None  # the input channels the current layer sees
    group = 0
    for src, dst in pairs:
        w = src.get_weights()
        kind = _kind(src)
        if kind == "Conv2D":
            kernel = w[0] if selected is None else w[0][:, :, selected, :]
            out = keep[group]
            new = [kernel[..., out], *(b[out] for b in w[1:])]
            selected, group = out, group + 1
        elif kind in ("BatchNormalization", "DepthwiseConv2D"):
            assert selected is not None
            new = [w[0][:, :, selected, :], *(b[selected] for b in w[1:])] if kind == "DepthwiseConv2D" else \
                [b[selected] for b in w]
        elif kind == "Dense":
            assert selected is not None
            new = [w[0][selected, :], *w[1:]]
        else:
            raise TinymlError(f"cannot prune through layer {src.name} ({kind}); only DS-CNN runs can be pruned")
        dst.set_weights(new)
