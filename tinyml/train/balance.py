"""The class-balanced decision: the output layer's bias moved by the log of each class's training prior.

A model trained on an epoch where ``_unknown_`` is twice as frequent as each keyword (20% of the
keyword clips against 10% each, the KWS recipe's) learns that prior into its outputs: on a clip it
is unsure of, ``_unknown_`` wins. The accuracy the recipe is judged by is per class (keywords, and
``_unknown_``, each on its own clips), and the decision that maximizes a mean of per-class accuracies
divides each class's probability by its prior (post-hoc logit adjustment: Menon et al., "Long-tail
learning via logit adjustment", ICLR 2021). It has no parameter to tune: the shift of class c is
``-ln(n_c / n_kw)``, ``n_c`` its clips per epoch and ``n_kw`` the keywords' mean.

It is folded into the bias of the last dense layer (``probabilities``), so the float model, the
int8 model and the firmware all decide the same way and nothing runs at inference time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OUTPUT_LAYER = "probabilities"  # the models' last dense layer (softmax), models/dscnn.py


def logit_shifts(counts: np.ndarray, keywords: int) -> np.ndarray:
    """Per-class additive shifts of the logits: ``-ln(n_c / mean keyword n)``; 0 for a class never
    trained on (its prior is unknown, its output left as it is). Classes ``[:keywords]`` are the keywords."""
    counts = np.asarray(counts, np.float64)
    reference = counts[:keywords].mean()
    if reference <= 0:
        raise ValueError("no keyword clips: nothing to balance against")
    shifts = np.zeros_like(counts)
    seen = counts > 0
    shifts[seen] = -np.log(counts[seen] / reference)
    return shifts


def apply(model: Any, shifts: np.ndarray) -> None:
    """Add ``shifts`` to the output layer's bias in place."""
    layer = model.get_layer(OUTPUT_LAYER)
    kernel, bias = layer.get_weights()
    if bias.shape != shifts.shape:
        raise ValueError(f"{OUTPUT_LAYER} has {bias.shape[0]} outputs, the shifts {shifts.shape[0]}")
    layer.set_weights([kernel, (bias + shifts).astype(bias.dtype)])
