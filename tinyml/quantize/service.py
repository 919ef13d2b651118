"""``tinyml quantize RUN``: int8 model + report for a finished training run."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

from tinyml import console, tfimport
from tinyml.datasets.speech_commands import eval_clips
from tinyml.errors import DatasetError
from tinyml.models.registry import model_spec
from tinyml.quantize.convert import keras_to_int8, representative_sample
from tinyml.quantize.qat import qat_to_int8
from tinyml.quantize.report import Agreement, QuantReport, evaluate, write_report
from tinyml.tflite.model import parse_model, require_full_int8
from tinyml.train.rundir import RunDir
from tinyml.train.tasks import task_arrays

REPRESENTATIVE_SAMPLES = 300


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def quantize_run(out: Path, qat: bool = False, data_dir: Path | None = None, qat_epochs: int = 2,
                 force: bool = False, eval_data: tuple[Path, ...] = ()) -> QuantReport:
    """Convert a run to int8 and report; ``eval_data`` folders (KWS) are evaluated and added."""
    run = RunDir(Path(out))
    cfg = run.read_config()
    model_path = run.require_model()
    if eval_data and cfg["task"] != "kws":
        raise DatasetError("--eval-data is for keyword-spotting runs; evaluate image models on their test split")
    for folder in eval_data:
        eval_clips(Path(folder), tuple(cfg["labels"]))  # a bad folder fails now, not after the conversion
    mode = "qat" if qat else "ptq"
    source = _sha256(model_path)
    if not force and run.int8_model.is_file() and run.report_json.is_file():
        previous = json.loads(run.report_json.read_text())
        if previous.get("source_sha256") == source and previous.get("mode") == mode:
            console.info(f"{run.int8_model} is up to date with {model_path.name} ({mode.upper()})")
            report = QuantReport(**{**previous, "agreement": Agreement(**previous["agreement"])})
            return _with_evaluations(run, report, eval_data)

    keras = tfimport.keras()

    arrays = task_arrays(cfg, data_dir)
    model = keras.models.load_model(model_path, compile=False)  # inference only (a distilled run has its own loss)
    train_cfg = cfg["train"]
    rep = representative_sample(arrays.x_train, arrays.y_train, REPRESENTATIVE_SAMPLES, train_cfg["seed"])
    console.step(f"converting to full int8 ({mode.upper()}, {len(rep)} calibration samples)")
    if qat:
        tflite = qat_to_int8(model, model_spec(cfg), arrays.x_train, arrays.y_train, rep, qat_epochs,
                             train_cfg["learning_rate"] * 0.05, train_cfg["batch_size"])
    else:
        tflite = keras_to_int8(model, rep)
    int8 = parse_model(tflite, "converted model")
    require_full_int8(int8, "converted model")
    tmp = run.int8_model.with_name(".model_int8.tflite.tmp")
    tmp.write_bytes(tflite)
    os.replace(tmp, run.int8_model)

    measured_on = arrays.measured_on
    console.step(f"evaluating float and int8 on {measured_on} ({len(arrays.y_eval)} samples, TFLM + LiteRT)")
    float_probs = model.predict(arrays.x_eval, batch_size=256, verbose=0)
    report = evaluate(int8, float_probs, arrays.x_eval, arrays.y_eval, list(cfg["labels"]), mode, arrays.split,
                      source, measured_on)
    write_report(report, run.report_json, run.report_md)
    console.info(f"on {measured_on}: float {report.float_accuracy:.4f} -> int8 {report.int8_accuracy:.4f} (TFLM); "
                 f"TFLM/LiteRT identical outputs {report.agreement.exact_match_rate:.2%}; "
                 f"{report.model_bytes / 1024:.1f} KB -> {run.int8_model}")
    return _with_evaluations(run, report, eval_data)


def _with_evaluations(run: RunDir, report: QuantReport, eval_data: tuple[Path, ...]) -> QuantReport:
    """Evaluate the run on each ``--eval-data`` folder and keep the results in its report (one
    entry per folder, replaced when measured again)."""
    if not eval_data:
        return report
    from tinyml.evaluate.service import evaluate as evaluate_folder

    fresh = [evaluate_folder(run.path, Path(folder)).as_dict() for folder in eval_data]
    names = {e["data"] for e in fresh}
    report = replace(report, evaluations=[e for e in report.evaluations if e["data"] not in names] + fresh)
    write_report(report, run.report_json, run.report_md)
    return report
