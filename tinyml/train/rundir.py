"""A training run's folder: one place that names every file in it.

    RUN/run.json            what was trained on what (written first)
    RUN/checkpoint.keras    the latest finished epoch (atomic replace), for resuming
    RUN/state.json          epochs finished and their metrics
    RUN/model.keras         the final float model
    RUN/metrics.json        final float metrics (inference mode)
    RUN/model_int8.tflite   full-integer model (``tinyml quantize``)
    RUN/quantize_report.{json,md}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyml.errors import RunDirError


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a crash never leaves half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def config(self) -> Path:
        return self.path / "run.json"

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.keras"

    @property
    def state(self) -> Path:
        return self.path / "state.json"

    @property
    def model(self) -> Path:
        return self.path / "model.keras"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.json"

    @property
    def int8_model(self) -> Path:
        return self.path / "model_int8.tflite"

    @property
    def report_json(self) -> Path:
        return self.path / "quantize_report.json"

    @property
    def report_md(self) -> Path:
        return self.path / "quantize_report.md"

    def read_config(self) -> dict[str, Any]:
        if not self.config.is_file():
            raise RunDirError(f"{self.path} is not a tinyml training run (no run.json); "
                              "train one with `tinyml train kws --out DIR`")
        return json.loads(self.config.read_text())

    def read_state(self) -> dict[str, Any]:
        return json.loads(self.state.read_text()) if self.state.is_file() else {"epochs_done": 0, "history": []}

    def provenance(self) -> dict[str, Any]:
        """What produced this run's model, from its run.json: a search trial, a teacher, a pruning."""
        cfg = self.read_config()
        out: dict[str, Any] = {"run": str(self.path.resolve()), "model": cfg.get("model_spec", {}).get("name")
                               or cfg.get("train", {}).get("model", "")}
        if trial := cfg.get("search_trial"):
            out["search_trial"] = trial
        if teacher := cfg.get("train", {}).get("teacher"):
            out["teacher"] = teacher
        if pruned := cfg.get("pruned_from"):
            out["pruned_from"] = pruned
        if cfg.get("train", {}).get("balanced"):
            out["balanced"] = True  # train/balance.py: the class-balanced decision
        if (members := cfg.get("train", {}).get("ensemble", 1)) > 1:
            out["ensemble"] = members  # train/ensemble.py: members merged into one model
        return out

    @staticmethod
    def describe_provenance(p: dict[str, Any]) -> str:
        parts = [f"{p['model']} from {p['run']}" if p.get("model") else p["run"]]
        if t := p.get("search_trial"):
            parts.append(f"trial {t['trial']} of the search in {t['search']}")
        if p.get("teacher"):
            parts.append(f"distilled from {p['teacher']}")
        if pr := p.get("pruned_from"):
            parts.append(f"pruned to {pr['keep']:.0%} of the channels of {pr['run']} for {pr['board']}")
        if p.get("balanced"):
            parts.append("class-balanced decision (outputs divided by their training shares)")
        if n := p.get("ensemble"):
            parts.append(f"an ensemble of {n} models merged into one (the mean of their logits)")
        return "; ".join(parts)

    def require_model(self) -> Path:
        if not self.model.is_file():
            raise RunDirError(f"{self.path} has no finished model.keras; finish training with "
                              f"`tinyml train kws --out {self.path}` (it resumes)")
        return self.model
