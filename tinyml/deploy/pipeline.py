"""The whole pipeline as cached stages, one progress/log channel, one report.

Every stage reuses its output when its inputs have not changed: the synthetic dataset (manifest),
training (a finished run with the same settings), quantization (the float model's hash),
generation (files rewritten only when their bytes change) and PlatformIO's incremental build —
so re-deploying an unchanged model retrains nothing and rebuilds nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tinyml import console
from tinyml.boards import Board
from tinyml.datasets.speech_commands import KEYWORDS, eval_clips, labels_for
from tinyml.datasets.synth import SynthConfig, synthesize
from tinyml.errors import TinymlError
from tinyml.generate.project import generate
from tinyml.locking import folder_lock
from tinyml.measure.bench import BenchResult, bench
from tinyml.measure.estimate import estimate_inference
from tinyml.measure.validate import ValidationResult, validate
from tinyml.platform import build_project, platform_for, preflight, session_for
from tinyml.platform.fit import check_runtime
from tinyml.tflite.interpreters import quantize_input
from tinyml.tflite.model import parse_model
from tinyml.train.rundir import RunDir

TASKS = ("kws", "image")
KWS_PER_WORD = 700  # synthetic clips per keyword of the default recipe (seven engines)
KWS_EPOCHS = 45  # the default recipe (benchmarks/kws_real.py measures it on real recordings)
# --accurate: twice the clips, the class-balanced decision (train/balance.py) and an ensemble of three merged
# into one model (train/ensemble.py) — about three times the time; on real recordings its single models hear
# keywords as the default recipe does since README row 11, merged pairs better, merged triples better still
# (README, the --accurate rows)
KWS_ACCURATE_PER_WORD = 2 * KWS_PER_WORD
KWS_ACCURATE_ENSEMBLE = 3
VALIDATION_INPUTS = "validation-inputs.npz"  # in the run folder: the inputs validate sends, per int8 model


@dataclass(frozen=True)
class DeployConfig:
    task: str
    board: Board
    work: Path
    data: str = "synth"  # "synth", "speech-commands" (KWS) or a dataset folder
    runtime: str = "native"
    port: str | None = None
    epochs: int | None = None  # None: the task's default
    per_word: int | None = None  # synthetic KWS clips per keyword (None: KWS_PER_WORD)
    bench_runs: int = 20
    validate_samples: int = 50
    words: tuple[str, ...] | None = None  # synthetic KWS keywords (folder names); None: the MLPerf Tiny ten
    eval_data: tuple[Path, ...] = ()  # extra KWS folders to measure accuracy on (e.g. real recordings)
    run: Path | None = None  # an existing trained run (a search trial, a distilled or pruned model): no data/train
    accurate: bool = False  # KWS: the accurate recipe (KWS_ACCURATE_PER_WORD clips, balanced, KWS_ACCURATE_ENSEMBLE)


@dataclass
class DeployReport:
    task: str
    board: str
    runtime: str
    run: str
    project: str
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage
    bench: dict[str, object] | None = None
    validation: dict[str, object] | None = None
    int8_accuracy: float | None = None
    measured_on: str = ""  # what int8_accuracy was measured on
    evaluations: list[dict[str, object]] = field(default_factory=list)  # --eval-data results
    provenance: dict[str, object] = field(default_factory=dict)  # what produced the model (RunDir.provenance)


def _stage(report: DeployReport, name: str, start: float) -> None:
    report.stages[name] = round(time.monotonic() - start, 1)


def kws_synth_config(per_word: int | None, words: tuple[str, ...] | None) -> SynthConfig:
    """The synthetic KWS set of the recipe: ``per_word`` clips per keyword (None: KWS_PER_WORD) and the
    other words' clips in the default's proportion, so that more clips keep the recipe's balance."""
    per_word = per_word or KWS_PER_WORD
    unknown = max(1, round(SynthConfig.unknown_per_word * per_word / KWS_PER_WORD))
    keywords = {"keywords": words} if words else {}
    return SynthConfig(per_word=per_word, unknown_per_word=unknown, **keywords)


def _dataset(cfg: DeployConfig) -> Path:
    if cfg.data != "synth":
        from tinyml.datasets.download import kws_data_folder

        path = kws_data_folder(cfg.data) if cfg.task == "kws" else Path(cfg.data)
        if not path.is_dir():
            raise TinymlError(f"dataset folder {path} does not exist; pass --data synth or a Speech Commands / image "
                              "folder")
        return path.resolve()
    if cfg.task == "kws":
        synth = kws_synth_config(cfg.per_word or (KWS_ACCURATE_PER_WORD if cfg.accurate else None), cfg.words)
        # deploy's own folder: a set made with other settings (--per-word, --words) is made anew
        return synthesize(cfg.work / "synth-kws", synth, force=True).resolve()
    from tinyml.datasets.synth_images import SynthImageConfig, synthesize_images

    return synthesize_images(cfg.work / "synth-images", SynthImageConfig(4, 200, 48, seed=0)).resolve()


def _train(cfg: DeployConfig, data: Path) -> Path:
    run = cfg.work / f"{cfg.task}-run"
    if cfg.task == "kws":
        from tinyml.train.kws import TrainConfig, train_kws

        train_kws(TrainConfig(data=str(data), epochs=cfg.epochs or KWS_EPOCHS, balanced=cfg.accurate,
                              ensemble=KWS_ACCURATE_ENSEMBLE if cfg.accurate else 1), run, retrain_if_changed=True)
    else:
        from tinyml.train.image import ImageTrainConfig, train_image

        train_image(ImageTrainConfig(data=str(data), board=cfg.board.id, epochs=cfg.epochs or 10,
                                     runtime=cfg.runtime), run, retrain_if_changed=True)
    return run


def _validation_inputs(run: RunDir, model_path: Path, n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """n held-out inputs (quantized) and labels; kept in the run folder for this int8 model and n,
    so that an unchanged re-deploy does not load the dataset and compute its features again."""
    from tinyml.train.tasks import task_arrays

    model_bytes = model_path.read_bytes()
    key = f"{hashlib.sha256(model_bytes).hexdigest()}-{n}"
    kept = run.path / VALIDATION_INPUTS
    try:
        with np.load(kept) as saved:
            if str(saved["key"]) == key:
                return saved["x"], saved["y"], str(saved["what"])
    except (OSError, ValueError, KeyError):
        pass  # none yet, or from another model: made again below
    arrays = task_arrays(run.read_config())
    q = parse_model(model_bytes, str(model_path)).input_tensors[0].quant
    assert q is not None
    rng = np.random.default_rng(0)
    pick = rng.choice(len(arrays.y_eval), size=min(n, len(arrays.y_eval)), replace=False)
    x = quantize_input(arrays.x_eval[pick], q.scale[0], q.zero_point[0])
    what = f"clips of {arrays.measured_on}"
    tmp = kept.with_name(f"{kept.stem}.{os.getpid()}.tmp.npz")
    try:  # best effort: a run folder that cannot be written only costs loading the data next time
        np.savez(tmp, key=key, x=x, y=arrays.y_eval[pick], what=what)
        tmp.replace(kept)
    except OSError:
        tmp.unlink(missing_ok=True)
    return x, arrays.y_eval[pick], what


def _given_run(cfg: DeployConfig) -> RunDir | None:
    """The run ``--run`` names, checked before anything is built (None: deploy trains its own)."""
    if cfg.run is None:
        return None
    run = RunDir(Path(cfg.run).resolve())
    task = run.read_config().get("task")
    run.require_model()
    if (task == "kws") != (cfg.task == "kws"):
        kind = "kws" if task == "kws" else "image"
        raise TinymlError(f"{run.path} is a {task} run; deploy it with `tinyml deploy {kind} --run {cfg.run}`")
    if cfg.words or cfg.data != "synth" or cfg.epochs is not None or cfg.accurate:
        raise TinymlError("--run deploys a trained run as it is; leave out --data, --words, --epochs and --accurate")
    return run


def deploy(cfg: DeployConfig) -> DeployReport:
    with folder_lock(cfg.work, "--work folder"):
        return _deploy(cfg)


def _deploy(cfg: DeployConfig) -> DeployReport:
    if cfg.task not in TASKS:
        raise TinymlError(f"unknown task '{cfg.task}'; choose one of: {', '.join(TASKS)}")
    check_runtime(cfg.runtime)
    from tinyml.quantize.service import quantize_run

    given = _given_run(cfg)
    cfg.work.mkdir(parents=True, exist_ok=True)
    project_dir = cfg.work / f"firmware-{cfg.board.id}-{cfg.runtime}"
    run_path = given.path if given else cfg.work / f"{cfg.task}-run"
    report = DeployReport(cfg.task, cfg.board.id, cfg.runtime, str(run_path), str(project_dir))

    platform = platform_for(cfg.board)
    preflight(platform, cfg.runtime, cfg.port, ("build", "flash", "run"))  # in seconds, before data and training
    if cfg.eval_data and cfg.task != "kws":
        raise TinymlError("--eval-data is for keyword spotting (deploy kws)")
    if cfg.accurate and cfg.task != "kws":
        raise TinymlError("--accurate is the keyword-spotting recipe (deploy kws)")
    labels = tuple(given.read_config()["labels"]) if given else labels_for(cfg.words or KEYWORDS)
    for folder in cfg.eval_data:  # checked now, not after training
        eval_clips(Path(folder), labels)

    if given is not None:
        run = given
        console.step(f"[1-2/7] data and train: the given run {run.path}")
    else:
        t = time.monotonic()
        what = "SYNTHETIC speech: offline TTS voices" if cfg.data == "synth" and cfg.task == "kws" else cfg.data
        console.step(f"[1/7] data ({what})")
        data = _dataset(cfg)
        _stage(report, "data", t)

        t = time.monotonic()
        console.step("[2/7] train")
        run = RunDir(_train(cfg, data))
        _stage(report, "train", t)
    report.provenance = run.provenance()

    t = time.monotonic()
    console.step("[3/7] quantize (full int8)")
    quant = quantize_run(run.path, eval_data=cfg.eval_data)
    report.int8_accuracy = quant.int8_accuracy
    report.measured_on = quant.measured_on
    report.evaluations = quant.evaluations
    _stage(report, "quantize", t)

    t = time.monotonic()
    console.step(f"[4/7] generate ({cfg.runtime} runtime, {cfg.board.id})")
    project = generate(run.int8_model, cfg.board, project_dir, runtime=cfg.runtime, name=cfg.task, force=False)
    _stage(report, "generate", t)

    t = time.monotonic()
    console.step("[5/7] build (PlatformIO)")
    firmware = build_project(project.path)
    console.info(f"firmware: flash {firmware.sizes.flash:,} B, RAM {firmware.sizes.ram:,} B ({firmware.elf})")
    _stage(report, "build", t)

    t = time.monotonic()
    console.step("[6/7] flash" + (f" ({platform.flash_note})" if platform.flash_note else ""))
    console.info(platform.flash(project.path, cfg.port))
    _stage(report, "flash", t)

    t = time.monotonic()
    console.step(f"[7/7] bench ({cfg.bench_runs} runs) and validate ({cfg.validate_samples} test inputs)")
    x, y, what = _validation_inputs(run, run.int8_model, cfg.validate_samples)
    cycles = estimate_inference(platform, firmware.elf) if cfg.port is None else None
    with session_for(cfg.board, firmware.elf, cfg.port) as session:
        result: BenchResult = bench(session, cfg.bench_runs, cfg.board.id, firmware.sizes,
                                    clock_hz=cfg.board.clock_hz, cycles=cycles)
        check: ValidationResult = validate(session, run.int8_model.read_bytes(), x, cfg.board.id, y, what)
    _stage(report, "measure", t)
    out = cfg.work / "report"
    result.write(out)
    check.write(out)
    report.bench = result.to_json()
    report.validation = {**asdict(check), "match_rate": check.match_rate}
    (out / "deploy.json").write_text(json.dumps(asdict(report), indent=2, default=str) + "\n")
    med = result.stat("median")
    console.info(f"{cfg.task} on {cfg.board.id} ({cfg.runtime}): {med:,} {result.tick_unit} per inference "
                 f"({result.time_text(med)}), arena {result.arena_bytes:,} B, flash {firmware.sizes.flash:,} B, "
                 f"RAM {firmware.sizes.ram:,} B")
    console.info(f"validation: {check.describe()}")
    console.info(f"model: {RunDir.describe_provenance(report.provenance)}")
    for e in report.evaluations:
        console.info(f"int8 accuracy on {e['measured_on']}: {e['int8_accuracy']:.3f} ({e['clips']} clips; keywords "
                     f"{e['keyword_accuracy']}, _unknown_ {e['unknown_accuracy']})")
    console.info(f"report: {out}")
    return report
