"""The search's Ray driver, run as ``python -m tinyml.search.execute OUT`` by ``tinyml search``.

It runs in its own process group, and so does the local Ray instance it starts (Ray's processes
inherit the group). Its stdin is a pipe from the ``tinyml`` process: when that closes — tinyml
finished, was interrupted, or was killed outright — the whole group is killed, so no Ray process
or trial outlives tinyml. Trials are Ray tasks, one fresh worker process each (``max_calls=1``)
so TensorFlow starts with the CPU count Ray reserved for it.

Exit status: 0 when every pending trial finished (failed trials are written to their folder's
``trial-error.txt``), 1 on a user error (its one line in ``OUT/search-error.txt``).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

from tinyml import console
from tinyml.errors import TinymlError
from tinyml.search.space import SearchPlan, read_plan
from tinyml.search.trials import TrialResult, run_trial

ERROR_FILE = "search-error.txt"
TRIAL_ERROR_FILE = "trial-error.txt"
POLL_SECONDS = 1.0  # how often the driver looks for finished trials (and updates the progress line)


def _die_with_parent() -> None:
    def watch() -> None:
        while os.read(0, 4096):  # b"" at EOF: the tinyml process closed the pipe or died
            pass
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _trial_task(plan: SearchPlan, out: str, index: int, cpus: int) -> tuple[int, TrialResult | None, str]:
    """Runs in a Ray worker: a user error is the trial's result (the other trials go on)."""
    try:
        return index, run_trial(plan, Path(out), index, cpus), ""
    except TinymlError as err:
        return index, None, str(err)


def cpus_per_trial(plan: SearchPlan, pending: int, available: int) -> int:
    if plan.cpus_per_trial:
        return plan.cpus_per_trial
    return max(1, available // max(1, min(pending, available)))


def execute(out: Path) -> None:
    plan = read_plan(out)
    if plan is None:
        raise TinymlError(f"{out} holds no search plan; start the search with `tinyml search --train-top K`")
    pending = [i for i in range(len(plan.candidates)) if TrialResult.read(plan.trial_dir(out, i)) is None]
    if not pending:
        return
    for i in pending:  # a failed trial is tried again
        (plan.trial_dir(out, i) / TRIAL_ERROR_FILE).unlink(missing_ok=True)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    local_cpus = os.cpu_count() or 1
    # "local": always a new instance of our own (never one some other program left running)
    ray.init(address=plan.ray_address or "local", num_cpus=None if plan.ray_address else local_cpus,
             include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        available = int(ray.cluster_resources().get("CPU", local_cpus))
        cpus = cpus_per_trial(plan, len(pending), available)
        if cpus > available:
            raise TinymlError(f"--cpus-per-trial {cpus} is more than the {available} CPUs of the Ray cluster; "
                              "ask for fewer")
        task = ray.remote(num_cpus=cpus, max_calls=1)(_trial_task)
        where = plan.ray_address or f"a local Ray instance ({available} CPUs)"
        console.step(f"training {len(pending)} trials on {where}, {cpus} CPU(s) each")
        refs = [task.remote(plan, str(out), i, cpus) for i in pending]
        with console.progress() as bar:
            progress = bar.add_task("trials", total=len(refs), status="")
            while refs:
                done, refs = ray.wait(refs, num_returns=1, timeout=POLL_SECONDS)
                for ref in done:
                    index, trial, error = ray.get(ref)
                    folder = plan.trial_dir(out, index)
                    if trial is None:
                        folder.mkdir(parents=True, exist_ok=True)
                        (folder / TRIAL_ERROR_FILE).write_text(error + "\n")
                        status = f"trial {index + 1} failed: {error}"
                    else:
                        status = (f"trial {index + 1} {trial.name}: val {trial.val_accuracy:.3f}, "
                                  f"int8 {trial.int8_accuracy:.3f}")
                    bar.update(progress, advance=1, status=status)
                    console.info(status)
    finally:
        ray.shutdown()


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    _die_with_parent()
    (out / ERROR_FILE).unlink(missing_ok=True)
    try:
        execute(out)
    except TinymlError as err:
        (out / ERROR_FILE).write_text(str(err) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
