"""Rebuild a model from the ``model_spec`` a run records, with any Keras module (Keras 3 for
training, ``tf_keras`` for quantization-aware training)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tinyml.errors import RunDirError
from tinyml.models.dscnn import build_dscnn
from tinyml.models.mcunet import Arch, build_mcunet


def model_spec(config: dict[str, Any]) -> dict[str, Any]:
    """The spec in a run's config (runs written before specs existed are DS-CNN runs)."""
    if "model_spec" in config:
        return dict(config["model_spec"])
    return {"kind": "dscnn", "name": config["train"]["model"], "input_shape": config["input_shape"],
            "n_classes": len(config["labels"])}


def build_from_spec(spec: dict[str, Any], keras: ModuleType) -> Any:
    if spec["kind"] == "dscnn":
        widths = tuple(spec["widths"]) if spec.get("widths") else None  # a pruned model
        return build_dscnn(spec["name"], tuple(spec["input_shape"]), int(spec["n_classes"]), keras, widths)
    if spec["kind"] == "mcunet":
        return build_mcunet(Arch.from_json(spec["arch"]), keras)
    raise RunDirError(f"unknown model kind '{spec['kind']}' in run.json; the run was made by a newer tinyml")
