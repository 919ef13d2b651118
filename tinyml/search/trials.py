"""One search trial: train a candidate on the plan's data and schedule, quantize it, and measure
it on the board by the platform's fit rule — what ``train``, ``quantize`` and ``analyze`` do, in
the trial's own run folder (so an interrupted trial resumes from its last epoch).

A finished trial writes ``trial.json``; that file is what a resumed search keeps.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tinyml.boards import get_board
from tinyml.errors import TinymlError
from tinyml.search.space import SearchPlan, estimated_cycles, estimated_ms
from tinyml.train.rundir import RunDir, write_json

TRIAL_FILE = "trial.json"


@dataclass(frozen=True)
class TrialResult:
    index: int
    name: str
    val_accuracy: float  # float model, inference mode, on the validation split
    test_accuracy: float
    int8_accuracy: float  # TFLM host interpreter
    measured_on: str
    macs: int
    params: int
    flash_needed: int  # the fit rule on the converted int8 model (with the audio front end for KWS)
    sram_needed: int
    fits: bool
    est_cycles: int
    est_ms: float  # at the board's clock: an estimate from MACs
    seconds: float
    run: str

    @staticmethod
    def read(path: Path) -> TrialResult | None:
        file = path / TRIAL_FILE
        return TrialResult(**json.loads(file.read_text())) if file.is_file() else None


def _limit_threads(cpus: int) -> None:
    """TensorFlow uses the cores Ray gave the trial (a fresh worker: nothing has run yet)."""
    from tinyml import tfimport

    tf = tfimport.tensorflow()
    tf.config.threading.set_intra_op_parallelism_threads(cpus)
    tf.config.threading.set_inter_op_parallelism_threads(min(2, cpus))


def run_trial(plan: SearchPlan, out: Path, index: int, cpus: int) -> TrialResult:
    from tinyml.generate.frontend import build_front_end
    from tinyml.quantize.service import quantize_run
    from tinyml.tflite.analyze import analyze
    from tinyml.tflite.model import load_model

    _limit_threads(cpus)
    started = time.monotonic()
    candidate = plan.candidates[index]
    run_dir = plan.trial_dir(out, index) / "run"
    board = get_board(plan.board)
    if plan.task == "kws":
        from tinyml.train.kws import TrainConfig, train_kws

        result = train_kws(TrainConfig(data=plan.data, model=candidate.model, epochs=plan.epochs, seed=plan.seed),
                           run_dir)
    elif plan.task == "image":
        from tinyml.train.image import ImageTrainConfig, train_image

        result = train_image(ImageTrainConfig(data=plan.data, board=board.id, epochs=plan.epochs, seed=plan.seed,
                                              runtime=plan.runtime, arch=candidate.model), run_dir)
    else:
        raise TinymlError(f"unknown search task '{plan.task}'")
    config = RunDir(run_dir).read_config()
    config["search_trial"] = {"search": str(out.resolve()), "trial": index + 1, "candidate": candidate.name}
    write_json(RunDir(run_dir).config, config)  # the deploy report names where the model came from
    quant = quantize_run(run_dir)
    int8 = load_model(RunDir(run_dir).int8_model)
    front_end = build_front_end(int8.input_tensors[0]).need if plan.task == "kws" else None
    analysis = analyze(int8, board, runtime=plan.runtime, front_end=front_end)
    assert analysis.fit is not None
    cycles = estimated_cycles(analysis.macs, plan.runtime)
    trial = TrialResult(index, candidate.name, round(result.val_accuracy, 4), round(result.test_accuracy, 4),
                        round(quant.int8_accuracy, 4), quant.measured_on, analysis.macs, analysis.params,
                        analysis.fit.flash_needed, analysis.fit.sram_needed, analysis.fit.fits, cycles,
                        estimated_ms(analysis.macs, plan.runtime, board), round(time.monotonic() - started, 1),
                        str(run_dir))
    write_json(plan.trial_dir(out, index) / TRIAL_FILE, asdict(trial))
    return trial
