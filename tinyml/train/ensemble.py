"""An ensemble of DS-CNNs as one DS-CNN: the members side by side in a model as wide as all of them.

A DS-CNN's layers are per channel (depthwise convolutions, batch norm, ReLU, the average pool) or
mix channels (the first convolution, the pointwise convolutions, the classifier). Stacking the members'
channels, with each pointwise convolution block-diagonal (no member sees another's channels) and the
classifier reading all pooled features with weights divided by the number of members, gives a model
whose logits are the mean of the members' logits — the ensemble's decision (softmax of the mean
log-probabilities) in one graph of the same operators, so quantization, both runtimes and every board
take it as they take any DS-CNN. The zero blocks cost pointwise MACs, not correctness.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from tinyml.errors import TinymlError
from tinyml.models.dscnn import build_dscnn

__all__ = ["member_seeds", "merge_dscnn", "merged_widths"]


def member_seeds(seed: int, members: int) -> tuple[int, ...]:
    """Member i trains with seed ``seed + i``: member 0 is the single-model run of the same seed."""
    return tuple(seed + i for i in range(members))


def merged_widths(widths: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """The merged model's channel counts: the members' summed layer by layer."""
    if len({len(w) for w in widths}) != 1:
        raise TinymlError("ensemble members must have the same number of blocks")
    return tuple(int(sum(layer)) for layer in zip(*widths, strict=True))


def _widths(model: Any, keras: ModuleType) -> tuple[int, ...]:
    """Output channels of the first convolution and of each pointwise convolution."""
    return tuple(int(layer.filters) for layer in model.layers if type(layer) is keras.layers.Conv2D)


def merge_dscnn(members: Sequence[Any], name: str, keras: ModuleType) -> Any:
    """One ``name`` DS-CNN whose logits are the mean of the ``members``' logits (same variant, any widths)."""
    if len(members) < 2:
        raise TinymlError("an ensemble needs at least two members")
    input_shape = tuple(members[0].input_shape[1:])
    n_classes = int(members[0].output_shape[-1])
    merged = build_dscnn(name, input_shape, n_classes, keras,  # type: ignore[arg-type]
                         merged_widths([_widths(m, keras) for m in members]))
    kinds = [type(layer) for layer in merged.layers]
    for m in members:
        if [type(layer) for layer in m.layers] != kinds:
            raise TinymlError(f"ensemble member {m.name} is not a {name} DS-CNN; merge members of one variant")
    for index, target in enumerate(merged.layers):
        parts = [m.layers[index] for m in members]
        if target.weights:
            target.set_weights(_merged_weights(target, parts, keras))
    return merged


def _merged_weights(target: Any, parts: list[Any], keras: ModuleType) -> list[np.ndarray]:
    weights = [p.get_weights() for p in parts]
    layers = keras.layers
    if isinstance(target, layers.DepthwiseConv2D):  # (kh, kw, channels, 1), bias: per channel
        return [np.concatenate(ws, axis=2 if ws[0].ndim == 4 else 0) for ws in zip(*weights, strict=True)]
    if isinstance(target, layers.BatchNormalization):  # gamma, beta, moving mean, moving variance
        return [np.concatenate(ws) for ws in zip(*weights, strict=True)]
    if isinstance(target, layers.Conv2D):
        kernel, bias = np.zeros(target.kernel.shape, np.float32), np.concatenate([w[1] for w in weights])
        shared_input = kernel.shape[2] == weights[0][0].shape[2]  # the first convolution reads the input
        ci = co = 0
        for w in weights:
            k = w[0]
            if shared_input:
                kernel[:, :, :, co : co + k.shape[3]] = k
            else:
                kernel[:, :, ci : ci + k.shape[2], co : co + k.shape[3]] = k
            ci, co = ci + k.shape[2], co + k.shape[3]
        return [kernel, bias]
    if isinstance(target, layers.Dense):  # logits = mean of the members' logits
        k = len(weights)
        return [np.concatenate([w[0] for w in weights], axis=0) / k, np.mean([w[1] for w in weights], axis=0)]
    raise TinymlError(f"cannot merge {type(target).__name__} layers; ensembles are of DS-CNNs")
