"""``tinyml evaluate RUN|MODEL.tflite --data DIR``: float and int8 accuracy on any folder.

The int8 model runs in the TFLite Micro host interpreter (what the device runs); the float
model, when a run folder gives one, in Keras (inference mode). The report says what the clips
are — SYNTHETIC voices of a tinyml-generated set, or recordings in a folder — and gives overall,
keyword, ``_unknown_`` and per-class accuracy and the int8 confusion matrix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyml import console
from tinyml.audio import features
from tinyml.datasets.speech_commands import LABELS, SILENCE, UNKNOWN, EvalSet, describe, load_eval_set
from tinyml.errors import ModelError, TinymlError
from tinyml.tflite.interpreters import TflmRunner, quantize_input
from tinyml.tflite.model import load_model, require_full_int8
from tinyml.train.rundir import RunDir, write_json


@dataclass(frozen=True)
class ClassScore:
    label: str
    clips: int
    int8_accuracy: float
    float_accuracy: float | None


@dataclass(frozen=True)
class EvalReport:
    data: str
    measured_on: str  # what the clips are, in words
    split: str
    synthetic: bool
    clips: int
    labels: list[str]
    int8_accuracy: float
    float_accuracy: float | None
    keyword_accuracy: float | None  # int8, over keyword clips
    unknown_accuracy: float | None  # int8, over `_unknown_` clips
    per_class: list[ClassScore]
    confusion: list[list[int]]  # rows: true label, columns: int8 prediction
    model: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        parts = [f"int8 {self.int8_accuracy:.3f}"]
        if self.float_accuracy is not None:
            parts.insert(0, f"float {self.float_accuracy:.3f}")
        if self.keyword_accuracy is not None:
            parts.append(f"keywords {self.keyword_accuracy:.3f}")
        if self.unknown_accuracy is not None:
            parts.append(f"_unknown_ {self.unknown_accuracy:.3f}")
        return f"accuracy on {self.measured_on} ({self.clips} clips): " + ", ".join(parts)


@dataclass(frozen=True)
class ModelUnderTest:
    tflite: Path
    labels: tuple[str, ...]
    keras_model: Path | None


def resolve(target: Path, labels: str | None = None) -> ModelUnderTest:
    """A run folder (its int8 model, float model and labels) or a .tflite file (labels from the
    run folder it sits in, ``labels``, or the MLPerf Tiny 12 when it has 12 outputs)."""
    if target.is_dir():
        run = RunDir(target)
        cfg = run.read_config()
        if not run.int8_model.is_file():
            raise ModelError(f"{target} has no int8 model yet; run `tinyml quantize {target}` first")
        return ModelUnderTest(run.int8_model, tuple(cfg["labels"]), run.model if run.model.is_file() else None)
    if not target.is_file():
        raise ModelError(f"{target} is neither a run folder nor a .tflite file")
    sibling = RunDir(target.parent)
    if labels:
        names = tuple(x.strip() for x in labels.split(",") if x.strip())
    elif sibling.config.is_file():
        names = tuple(sibling.read_config()["labels"])
    else:
        names = LABELS
    model = load_model(target)
    outputs = int(np.prod(model.output_tensors[0].shape))
    if outputs != len(names):
        raise ModelError(f"{target} has {outputs} outputs but {len(names)} labels are known; pass "
                         "--labels \"a,b,...,_silence_,_unknown_\" in the model's output order")
    if names[-2:] != (SILENCE, UNKNOWN):
        raise ModelError(f"labels must end with {SILENCE},{UNKNOWN} (the KWS class layout); got {','.join(names)}")
    return ModelUnderTest(target, names, None)


def _accuracy(pred: np.ndarray, y: np.ndarray, rows: np.ndarray) -> float | None:
    return float(np.mean(pred[rows] == y[rows])) if rows.any() else None


def int8_predictions(tflite: Path, x: np.ndarray) -> np.ndarray:
    model = load_model(tflite)
    require_full_int8(model, str(tflite))
    q = model.input_tensors[0].quant
    assert q is not None
    return np.argmax(TflmRunner(model.data).run(quantize_input(x, q.scale[0], q.zero_point[0])), axis=1)


def score(model: ModelUnderTest, data: EvalSet, x: np.ndarray, root: Path, split: str) -> EvalReport:
    pred = int8_predictions(model.tflite, x)
    float_pred = None
    if model.keras_model is not None:
        from tinyml import tfimport

        keras_model = tfimport.keras().models.load_model(model.keras_model, compile=False)
        float_pred = np.argmax(keras_model.predict(x, batch_size=256, verbose=0), axis=1)
    y, labels = data.labels, model.labels
    n_kw = len(labels) - 2
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    per_class = [ClassScore(lab, int(np.sum(y == k)), float(np.mean(pred[y == k] == k)),
                            None if float_pred is None else float(np.mean(float_pred[y == k] == k)))
                 for k, lab in enumerate(labels) if np.any(y == k)]
    return EvalReport(
        data=str(root), measured_on=describe(root, split), split=split,
        synthetic=data.synthetic, clips=len(y), labels=list(labels), int8_accuracy=float(np.mean(pred == y)),
        float_accuracy=None if float_pred is None else float(np.mean(float_pred == y)),
        keyword_accuracy=_accuracy(pred, y, y < n_kw), unknown_accuracy=_accuracy(pred, y, y == n_kw + 1),
        per_class=per_class, confusion=confusion.tolist(), model=str(model.tflite))


def markdown(r: EvalReport) -> str:
    fmt = lambda v: "n/a" if v is None else f"{v:.4f}"  # noqa: E731
    lines = [f"# KWS accuracy on {r.measured_on}", "", f"Model `{r.model}`, {r.clips} clips.", "",
             "| | float | int8 (TFLM) |", "| --- | --- | --- |",
             f"| all clips | {fmt(r.float_accuracy)} | {fmt(r.int8_accuracy)} |",
             f"| keywords | | {fmt(r.keyword_accuracy)} |", f"| `_unknown_` | | {fmt(r.unknown_accuracy)} |", "",
             "## Per class", "", "| class | clips | float | int8 |", "| --- | --- | --- | --- |"]
    lines += [f"| {c.label} | {c.clips} | {fmt(c.float_accuracy)} | {fmt(c.int8_accuracy)} |" for c in r.per_class]
    lines += ["", "## Confusion matrix (int8; rows = true, columns = predicted)", "",
              "| | " + " | ".join(r.labels) + " |", "|" + " --- |" * (len(r.labels) + 1)]
    lines += [f"| **{lab}** | " + " | ".join(str(v) for v in row) + " |"
              for lab, row in zip(r.labels, r.confusion, strict=True) if any(row)]
    return "\n".join(lines) + "\n"


def evaluate(target: Path, data_dir: Path, split: str = "all", labels: str | None = None,
             out: Path | None = None) -> EvalReport:
    """Evaluate a run or model on a folder; write ``eval-<folder>.{json,md}`` beside the model
    (or into ``out``)."""
    if out is not None and out.exists() and not out.is_dir():
        raise TinymlError(f"--out {out} is a file; give a folder for the eval-*.json/.md reports")
    model = resolve(target, labels)
    data = load_eval_set(data_dir, model.labels, split)
    console.info(data.report.summary())
    x = features.pcm_features(data.audio)
    report = score(model, data, x, data_dir, split)
    folder = out or model.tflite.parent
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"eval-{data_dir.resolve().name}" + ("" if split == "all" else f"-{split}")
    write_json(folder / f"{stem}.json", report.as_dict())
    (folder / f"{stem}.md").write_text(markdown(report))
    console.info(report.summary())
    return report
