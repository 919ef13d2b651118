"""Float-vs-int8 evaluation and the quantization report (JSON + Markdown).

int8 accuracy is measured with the TFLite Micro host interpreter — what the device runs —
and every output is also compared with LiteRT's reference kernels, reporting the agreement
instead of assuming it (their FULLY_CONNECTED rounding differs by design).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinyml.tflite.interpreters import ARENA_MARGIN, LiteRtRunner, TflmRunner, quantize_input, tflm_arena_size
from tinyml.tflite.model import TfliteModel
from tinyml.train.rundir import write_json


@dataclass(frozen=True)
class Agreement:
    """TFLM vs LiteRT on the same int8 inputs."""

    samples: int
    exact_match_rate: float  # whole output vectors identical
    max_abs_diff: int  # in output LSBs
    top1_agreement: float


@dataclass(frozen=True)
class QuantReport:
    mode: str  # "ptq" or "qat"
    split: str
    samples: int
    float_accuracy: float
    int8_accuracy: float  # TFLM host interpreter
    litert_int8_accuracy: float
    agreement: Agreement
    confusion: list[list[int]]  # rows: true label, columns: int8 prediction (TFLM)
    labels: list[str]
    model_bytes: int
    arena_bytes: int
    ops: list[str]
    input: dict[str, Any]
    output: dict[str, Any]
    source_sha256: str
    measured_on: str = ""  # what the evaluation clips are, in words
    evaluations: list[dict[str, Any]] = field(default_factory=list)  # `--eval-data` folders (EvalReport dicts)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def agreement(a: np.ndarray, b: np.ndarray) -> Agreement:
    diff = np.abs(a.astype(np.int32) - b.astype(np.int32))
    rows = diff.reshape(len(diff), -1)
    return Agreement(len(a), float(np.mean(rows.max(axis=1) == 0)) if len(a) else float("nan"),
                     int(diff.max()) if diff.size else 0,
                     float(np.mean(np.argmax(a, axis=1) == np.argmax(b, axis=1))) if len(a) else float("nan"))


def _tensor_info(t: Any) -> dict[str, Any]:
    return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype.lower(),
            "scale": t.quant.scale[0], "zero_point": t.quant.zero_point[0]}


def evaluate(model: TfliteModel, float_probs: np.ndarray, x: np.ndarray, y: np.ndarray, labels: list[str],
             mode: str, split: str, source_sha256: str, measured_on: str) -> QuantReport:
    inp, out = model.input_tensors[0], model.output_tensors[0]
    xq = quantize_input(x, inp.quant.scale[0], inp.quant.zero_point[0])
    arena = tflm_arena_size(model.data)
    tflm = TflmRunner(model.data, arena + ARENA_MARGIN).run(xq)
    litert = LiteRtRunner(model.data).run(xq)
    pred = np.argmax(tflm, axis=1)
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    return QuantReport(
        mode=mode, split=split, samples=len(y),
        float_accuracy=float(np.mean(np.argmax(float_probs, axis=1) == y)),
        int8_accuracy=float(np.mean(pred == y)),
        litert_int8_accuracy=float(np.mean(np.argmax(litert, axis=1) == y)),
        agreement=agreement(tflm, litert), confusion=confusion.tolist(), labels=labels,
        model_bytes=len(model.data), arena_bytes=arena, ops=model.op_names,
        input=_tensor_info(inp), output=_tensor_info(out), source_sha256=source_sha256, measured_on=measured_on,
    )


def markdown(r: QuantReport) -> str:
    a = r.agreement
    lines = [
        f"# int8 quantization report ({r.mode.upper()})", "",
        f"Evaluated on {r.measured_on or f'the {r.split} split'} ({r.samples} clips).", "",
        "| | accuracy |", "| --- | --- |",
        f"| float (Keras, inference mode) | {r.float_accuracy:.4f} |",
        f"| int8 (TFLite Micro host interpreter) | {r.int8_accuracy:.4f} |",
        f"| int8 (LiteRT reference kernels) | {r.litert_int8_accuracy:.4f} |",
        f"| change float → int8 | {r.int8_accuracy - r.float_accuracy:+.4f} |", "",
        "## TFLite Micro vs LiteRT", "",
        f"Identical output vectors: {a.exact_match_rate:.2%} of {a.samples}; max difference {a.max_abs_diff} LSB; "
        f"same top-1 class: {a.top1_agreement:.2%}.", "",
        "## Model", "",
        f"- size: {r.model_bytes} bytes ({r.model_bytes / 1024:.1f} KB)",
        f"- TFLM arena (host interpreter, smallest that works): {r.arena_bytes} bytes",
        f"- ops: {', '.join(r.ops)}",
        f"- input `{r.input['name']}` {r.input['shape']} {r.input['dtype']}: "
        f"scale {r.input['scale']:.6g}, zero point {r.input['zero_point']}",
        f"- output `{r.output['name']}` {r.output['shape']} {r.output['dtype']}: "
        f"scale {r.output['scale']:.6g}, zero point {r.output['zero_point']}", "",
        "## Confusion matrix (int8, TFLM; rows = true, columns = predicted)", "",
        "| | " + " | ".join(r.labels) + " |", "|" + " --- |" * (len(r.labels) + 1),
    ]
    lines += [f"| **{lab}** | " + " | ".join(str(v) for v in row) + " |" for lab, row in zip(r.labels, r.confusion,
                                                                                            strict=True)]
    if r.evaluations:
        lines += ["", "## Other evaluation folders (`--eval-data`)", "",
                  "| measured on | clips | float | int8 (TFLM) | keywords | `_unknown_` |",
                  "| --- | --- | --- | --- | --- | --- |"]
        fmt = lambda v: "n/a" if v is None else f"{v:.4f}"  # noqa: E731
        lines += [f"| {e['measured_on']} | {e['clips']} | {fmt(e['float_accuracy'])} | {fmt(e['int8_accuracy'])} | "
                  f"{fmt(e['keyword_accuracy'])} | {fmt(e['unknown_accuracy'])} |" for e in r.evaluations]
    return "\n".join(lines) + "\n"


def write_report(r: QuantReport, json_path: Path, md_path: Path) -> None:
    write_json(json_path, r.as_dict())
    md_path.write_text(markdown(r))
