"""``tinyml search --train-top K``: plan the trials, run them on Ray (``execute.py``, a child
process group that cannot outlive this process), then rank them and write the report.

Running the same command again resumes: finished trials (``trial-N/trial.json``) are kept,
unfinished ones continue from their last epoch, failed ones are tried again.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tinyml import console
from tinyml.boards import Board
from tinyml.errors import TinymlError
from tinyml.locking import folder_lock
from tinyml.mcunet.search import RESOLUTIONS, WIDTHS
from tinyml.platform.fit import check_runtime
from tinyml.search.execute import ERROR_FILE, TRIAL_ERROR_FILE
from tinyml.search.report import SearchReport, build_report, write_report
from tinyml.search.space import (
    PLAN_FILE,
    TASKS,
    SearchPlan,
    check_resumable,
    estimated_ms,
    image_candidates,
    kws_candidates,
    spread,
)
from tinyml.search.trials import TrialResult
from tinyml.train.rundir import write_json

STOP_SECONDS = 10.0  # how long the Ray driver may take to stop after tinyml is interrupted


@dataclass(frozen=True)
class SearchRequest:
    task: str
    board: Board
    data: Path
    out: Path
    train_top: int
    epochs: int
    runtime: str = "native"
    seed: int = 0
    ray_address: str = ""
    cpus_per_trial: int = 0
    max_ms: float = 0.0  # leave out candidates estimated slower than this (0 = no limit)
    resolutions: tuple[int, ...] = RESOLUTIONS  # image: the MCUNet spaces considered
    widths: tuple[float, ...] = WIDTHS


def require_ray() -> None:
    if importlib.util.find_spec("ray") is None:
        raise TinymlError("the accuracy-aware search runs its trials on Ray, which is not installed; "
                          "pip install 'tinyml[ray]' (or drop --train-top for the MACs-only search)")


def plan_search(req: SearchRequest) -> SearchPlan:
    check_runtime(req.runtime)
    if req.task not in TASKS:
        raise TinymlError(f"unknown search task '{req.task}'; choose one of: {', '.join(TASKS)}")
    if req.train_top < 1 or req.epochs < 1:
        raise TinymlError("--train-top and --epochs must be at least 1")
    if req.cpus_per_trial < 0:
        raise TinymlError("--cpus-per-trial must be at least 1 (or 0: share this machine's cores)")
    data = req.data.resolve()
    if req.task == "kws":
        from tinyml.datasets.speech_commands import scan

        labels = scan(data, None).labels  # a bad dataset fails here, in seconds
        candidates, extra = kws_candidates(req.board, req.runtime, len(labels)), {"labels": list(labels)}
    else:
        from tinyml.datasets.images import scan_images

        classes, _ = scan_images(data)
        candidates = image_candidates(req.board, req.runtime, len(classes), req.seed, req.resolutions, req.widths)
        extra = {"labels": list(classes)}
    if not candidates:
        raise TinymlError(f"no {req.task} candidate fits {req.board.id} ({req.runtime} runtime); choose a bigger board")
    if req.max_ms > 0:
        fast = [c for c in candidates if estimated_ms(c.macs, req.runtime, req.board) <= req.max_ms]
        if not fast:
            quickest = min(estimated_ms(c.macs, req.runtime, req.board) for c in candidates)
            raise TinymlError(f"no fitting {req.task} candidate is estimated under --max-ms {req.max_ms:g} on "
                              f"{req.board.id} (the quickest: {quickest:.1f} ms); raise --max-ms")
        candidates = fast
    return SearchPlan(req.task, req.board.id, req.runtime, str(data), req.epochs, req.seed, req.train_top,
                      spread(candidates, req.train_top), len(candidates), req.max_ms, req.ray_address,
                      req.cpus_per_trial, extra)


def _kill_group(pgid: int) -> None:
    """Kill what is left of the driver's process group: Ray's agents (dashboard agent, runtime-env
    agent) can outlive ``ray.shutdown()`` and the driver by seconds."""
    with contextlib.suppress(ProcessLookupError):  # nothing left
        os.killpg(pgid, signal.SIGKILL)


def _run_executor(out: Path) -> None:
    """The Ray driver in its own process group; its stdin closing (here, or our death) stops it,
    and whatever of the group is left when it has exited is killed here."""
    child = subprocess.Popen([sys.executable, "-m", "tinyml.search.execute", str(out)], stdin=subprocess.PIPE,
                             start_new_session=True)
    try:
        code = child.wait()
    except BaseException:
        assert child.stdin is not None
        child.stdin.close()  # the driver kills its group (Ray and the trials)
        try:
            child.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
        raise
    finally:
        _kill_group(child.pid)  # start_new_session: the group's id is the driver's pid
    assert child.stdin is not None
    child.stdin.close()
    if code != 0:
        error = out / ERROR_FILE
        if error.is_file():
            raise TinymlError(error.read_text().strip())
        raise TinymlError(f"the search's Ray driver stopped with exit status {code} (see above); run the same "
                          "command again to resume")


def run_search(req: SearchRequest) -> SearchReport:
    require_ray()
    plan = plan_search(req)
    out = req.out
    with folder_lock(out, "--out folder"):
        check_resumable(out, plan)
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / PLAN_FILE, plan.to_json())
        kept = sum(TrialResult.read(plan.trial_dir(out, i)) is not None for i in range(len(plan.candidates)))
        kept_text = f"; kept {kept} finished trial(s)" if kept else ""
        console.step(f"search: {len(plan.candidates)} of {plan.considered} fitting {plan.task} candidates for "
                     f"{req.board.id}, {plan.epochs} epochs each{kept_text}")
        if kept < len(plan.candidates):
            _run_executor(out)
        trials, failed = [], []
        for i in range(len(plan.candidates)):
            folder = plan.trial_dir(out, i)
            if (t := TrialResult.read(folder)) is not None:
                trials.append(t)
            elif (folder / TRIAL_ERROR_FILE).is_file():
                failed.append((i, (folder / TRIAL_ERROR_FILE).read_text().strip()))
            else:
                raise TinymlError(f"trial {i + 1} did not finish; run the same command again to resume")
        report = build_report(plan, trials, failed, kept)
        write_report(report, out)
        return report
