"""``tinyml prune RUN --board B``: remove the least important channels of a KWS DS-CNN run until
its int8 model fits the board (the one fit rule of ``tinyml.platform.fit``, for the runtime asked),
fine-tune the pruned network as a new run, and report accuracy, MACs, arena and flash before and
after. The new run quantizes, evaluates and deploys like any other (its ``run.json`` records the
widths and where it was pruned from)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tinyml import console, tfimport
from tinyml.boards import Board
from tinyml.errors import TinymlError
from tinyml.generate.frontend import build_front_end
from tinyml.models.dscnn import build_dscnn, widths_of
from tinyml.models.registry import model_spec
from tinyml.platform.fit import check_runtime
from tinyml.prune.channels import importance, kept_channels, transplant, widths_for
from tinyml.quantize.convert import keras_to_int8, representative_sample
from tinyml.tflite.analyze import Analysis, analyze
from tinyml.tflite.model import parse_model
from tinyml.train.kws import TrainConfig, train_kws
from tinyml.train.rundir import RunDir, write_json
from tinyml.train.tasks import TaskArrays, task_arrays

KEEP_STEPS = (1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25)  # fractions of channels tried, largest first
REPRESENTATIVE_SAMPLES = 200
INIT_MODEL = "pruned_init.keras"  # the pruned network before fine-tuning, next to the new run


@dataclass(frozen=True)
class Footprint:
    widths: tuple[int, ...]
    macs: int
    params: int
    flash_bytes: int  # the fit rule's flash need for the runtime
    sram_bytes: int  # the fit rule's SRAM need
    float_accuracy: float

    @staticmethod
    def of(widths: tuple[int, ...], analysis: Analysis, accuracy: float) -> Footprint:
        assert analysis.fit is not None
        return Footprint(widths, analysis.macs, analysis.params, analysis.fit.flash_needed, analysis.fit.sram_needed,
                         round(accuracy, 4))


@dataclass(frozen=True)
class PruneReport:
    source: str
    board: str
    runtime: str
    keep: float  # fraction of each convolution's channels kept
    before: Footprint
    pruned: Footprint  # before fine-tuning
    after_accuracy: float  # float, after fine-tuning
    epochs: int
    measured_on: str
    run: str


def _float_accuracy(model: Any, arrays: TaskArrays) -> float:
    probs = model.predict(arrays.x_eval, batch_size=256, verbose=0)
    return float(np.mean(np.argmax(probs, axis=1) == arrays.y_eval))


def _analysis(model: Any, rep: np.ndarray, board: Board, runtime: str) -> Analysis:
    int8 = parse_model(keras_to_int8(model, rep), "pruned model")
    return analyze(int8, board, runtime=runtime, front_end=build_front_end(int8.input_tensors[0]).need)


def prune_run(run_path: Path, board: Board, out: Path, runtime: str = "native", keep: float | None = None,
              epochs: int = 5) -> PruneReport:
    check_runtime(runtime)
    source = RunDir(Path(run_path))
    source.require_model()
    cfg = source.read_config()
    spec = model_spec(cfg)
    if cfg.get("task") != "kws" or spec["kind"] != "dscnn":
        raise TinymlError(f"{source.path} is a {spec['kind']} run; tinyml prune takes keyword-spotting DS-CNN runs")
    if keep is not None and not 0.0 < keep <= 1.0:
        raise TinymlError(f"--keep {keep} must be a fraction of channels in (0, 1], e.g. 0.5")
    if epochs < 1:
        raise TinymlError("--epochs must be at least 1: a pruned network needs fine-tuning")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "run.json").is_file():
        raise TinymlError(f"{out} is not empty and is not a tinyml run; choose a new --out folder")

    keras = tfimport.keras()
    model = keras.models.load_model(source.model, compile=False)
    arrays = task_arrays(cfg)
    rep = representative_sample(arrays.x_train, arrays.y_train, REPRESENTATIVE_SAMPLES, cfg["train"]["seed"])
    original = widths_of(spec["name"], tuple(spec["widths"]) if spec.get("widths") else None)
    console.step(f"measuring {source.path.name} on {board.id} ({runtime} runtime)")
    before = Footprint.of(original, _analysis(model, rep, board, runtime), _float_accuracy(model, arrays))
    scores = importance(model)

    chosen = None
    for fraction in (keep,) if keep is not None else KEEP_STEPS:
        widths = widths_for(scores, fraction)
        pruned = build_dscnn(spec["name"], tuple(spec["input_shape"]), int(spec["n_classes"]), keras, widths)
        transplant(model, pruned, kept_channels(scores, widths))
        analysis = _analysis(pruned, rep, board, runtime)
        assert analysis.fit is not None
        console.info(f"keep {fraction:.3f} of the channels {widths}: {analysis.fit.describe()}")
        if analysis.fit.fits or keep is not None:
            chosen = fraction, widths, pruned, analysis
            break
    if chosen is None:
        raise TinymlError(f"{source.path.name} does not fit {board.id} even with {KEEP_STEPS[-1]:.0%} of its channels; "
                          "train a smaller model (--model dscnn-s) or choose a larger board")
    fraction, widths, pruned, analysis = chosen
    fit = analysis.fit
    assert fit is not None
    if fraction == 1.0 and keep is None:
        raise TinymlError(f"{source.path.name} already fits {board.id} ({runtime}); nothing to prune (--keep F prunes "
                          "a fraction F of the channels anyway)")
    if not fit.fits:
        raise TinymlError(f"keeping {fraction:.0%} of the channels does not fit: {fit.describe()}; choose a smaller "
                          "--keep, or leave it out to search")
    pruned_fp = Footprint.of(widths, analysis, _float_accuracy(pruned, arrays))

    out.mkdir(parents=True, exist_ok=True)
    init = out.parent / f".{out.name}.{INIT_MODEL}"  # outside the run folder, which train_kws creates
    pruned.save(init)
    train_cfg = replace(TrainConfig.from_run(cfg["train"]), epochs=epochs, widths=",".join(map(str, widths)),
                        init_model=str(init.resolve()), learning_rate=cfg["train"]["learning_rate"] * 0.5)
    console.step(f"fine-tuning the pruned network for {epochs} epochs")
    result = train_kws(train_cfg, out)
    config = result.run.read_config()
    config["pruned_from"] = {"run": str(source.path.resolve()), "keep": fraction, "board": board.id,
                             "runtime": runtime}
    write_json(result.run.config, config)
    report = PruneReport(str(source.path), board.id, runtime, fraction, before, pruned_fp,
                         round(result.test_accuracy, 4), epochs, arrays.measured_on, str(out))
    (out / "prune.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    return report
