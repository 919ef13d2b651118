"""Accuracy-aware search for real: candidates trained with TensorFlow as Ray tasks on a local Ray
instance, a search killed outright that resumes with its finished trial kept, no Ray process left
behind, ranking and Pareto front, and the KWS search space's memory model against converted models."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tinyml.boards import get_board
from tinyml.cli.main import main
from tinyml.mcunet.memory import estimate_dscnn
from tinyml.models.dscnn import spec
from tinyml.search.report import pareto_front, rank
from tinyml.search.space import SearchCandidate, kws_candidates, spread
from tinyml.search.trials import TrialResult

from .ray_processes import ray_processes

TRIAL_DEADLINE_S = 600.0  # the first trial of the killed search must finish within this
REAP_DEADLINE_S = 30.0  # Ray's processes must be gone this long after tinyml was killed
SEARCH_DEADLINE_S = 900.0


def _search_cmd(data: Path, out: Path, epochs: int = 3, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tinyml.cli.main", "search", "--board", "qemu-stm32f405", "--task", "kws",
            "--train-top", "2", "--epochs", str(epochs), "--data", str(data), "--out", str(out), "--max-ms", "30",
            "--cpus-per-trial", "2", *extra]


def _trial(index: int, acc: float, ms: float, sram: int, fits: bool = True) -> TrialResult:
    return TrialResult(index, f"m{index}", acc, acc, acc, "test", 1000 * (index + 1), 10, 1000, sram, fits,
                       int(ms * 168_000), ms, 1.0, f"run{index}")


def test_ranking_puts_fitting_accurate_then_fast_first_and_finds_the_front() -> None:
    trials = [_trial(0, 0.80, 10.0, 50_000), _trial(1, 0.85, 30.0, 60_000), _trial(2, 0.80, 5.0, 50_000),
              _trial(3, 0.95, 1.0, 10_000, fits=False), _trial(4, 0.70, 2.0, 70_000)]
    assert [t.index for t in rank(trials)] == [1, 2, 0, 4, 3]
    # 0 is beaten by 2 (same accuracy and SRAM, faster); 3 does not fit; 4 is the fastest fitting one.
    assert pareto_front(trials) == {1, 2, 4}


def test_spread_picks_largest_smallest_and_evenly_between() -> None:
    cands = [SearchCandidate(f"c{m}", f"c{m}", m, 0, 0, 0, 0) for m in (5, 1, 9, 3, 7)]
    assert [c.macs for c in spread(cands, 3)] == [9, 5, 1]
    assert [c.macs for c in spread(cands, 1)] == [9]
    assert [c.macs for c in spread(cands, 10)] == [9, 7, 5, 3, 1]


def test_kws_space_memory_model_matches_converted_models(tmp_path: Path) -> None:
    """The searched DS-CNN shapes (kernel, stride, depth, width) build, convert, and cost what the
    search estimated: MACs exactly, TFLM arena within 10%."""
    import keras
    import numpy as np

    from tinyml.models.dscnn import build_dscnn
    from tinyml.quantize.convert import keras_to_int8
    from tinyml.tflite.analyze import analyze
    from tinyml.tflite.model import parse_model

    board = get_board("qemu-stm32f405")
    names = {c.name for c in kws_candidates(board, "native", 12)}
    rng = np.random.default_rng(0)
    for name in ("dscnn-w24-d3-k5x3-s2x1", "dscnn-w48-d2-k10x4-s2x2", "dscnn"):
        s = spec(name)
        assert name == "dscnn" or name in names
        model = build_dscnn(name, (49, 10, 1), 12, keras)
        int8 = parse_model(keras_to_int8(model, rng.standard_normal((16, 49, 10, 1)).astype(np.float32)), name)
        measured = analyze(int8, board)
        est = estimate_dscnn(s, (49, 10, 1), 12)
        assert est.macs == measured.macs, name
        assert abs(est.arena_bytes - measured.arena_bytes) / measured.arena_bytes < 0.10, (name, est.arena_bytes,
                                                                                         measured.arena_bytes)


@pytest.mark.slow
def test_search_trains_on_ray_resumes_after_kill_and_leaves_nothing(synth_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "search"
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(_search_cmd(synth_dataset, out), stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    deadline = time.monotonic() + TRIAL_DEADLINE_S
    try:
        while not list(out.glob("trial-*/trial.json")):
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "no trial finished in time"
            time.sleep(0.5)
    finally:
        first.kill()  # SIGKILL: tinyml gets no chance to clean up
        first.wait()
    finished = {p.parent.name: p.read_bytes() for p in out.glob("trial-*/trial.json")}
    assert len(finished) == 1, "the two trials were to run one after the other (2 CPUs each)"

    deadline = time.monotonic() + REAP_DEADLINE_S
    while (left := ray_processes(f"tinyml.search.execute {out}")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"outlived the killed tinyml: {left}"

    second = subprocess.run(_search_cmd(synth_dataset, out), capture_output=True, text=True,
                            timeout=SEARCH_DEADLINE_S)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "kept 1 finished trial" in " ".join(second.stderr.split())
    for name, data in finished.items():
        assert (out / name / "trial.json").read_bytes() == data  # kept, not trained again
    report = json.loads((out / "search.json").read_text())
    trials = report["trials"]
    assert len(trials) == 2 and not report["failed"]
    assert [t["index"] for t in trials] == [t.index for t in rank([TrialResult(**{k: v for k, v in t.items()
                                                                                 if k != "pareto"}) for t in trials])]
    assert trials[0]["est_ms"] != trials[1]["est_ms"]  # spread over the MACs range: two different sizes
    for t in trials:
        run = json.loads((Path(t["run"]) / "run.json").read_text())
        assert run["search_trial"]["trial"] == t["index"] + 1 and run["train"]["model"] == t["name"]
        assert (Path(t["run"]) / "model_int8.tflite").is_file()
        assert 0.0 <= t["val_accuracy"] <= 1.0 and t["fits"]
    svg = ET.parse(out / "pareto.svg").getroot()
    assert len(svg.findall(".//{http://www.w3.org/2000/svg}circle")) == 2
    assert "| rank |" in (out / "search.md").read_text()
    assert not ray_processes(f"tinyml.search.execute {out}")

    changed = subprocess.run(_search_cmd(synth_dataset, out, 4), capture_output=True, text=True, timeout=120)
    assert changed.returncode == 1
    assert "holds a search with other settings (epochs)" in " ".join(changed.stderr.split())

    # the winner deploys as it is, and the deploy report names the search trial it came from
    best = Path(report["best"])
    work = tmp_path / "deploy"
    assert main(["deploy", "kws", "--run", str(best), "--work", str(work), "--runs", "2", "--samples", "4"]) == 0
    deployed = json.loads((work / "kws" / "report" / "deploy.json").read_text())
    assert deployed["run"] == str(best) and "train" not in deployed["stages"]
    assert deployed["provenance"]["search_trial"]["search"] == str(out.resolve())
    assert deployed["validation"]["match_rate"] == 1.0
    assert main(["deploy", "kws", "--run", str(best), "--work", str(work), "--epochs", "3"]) == 1
    assert main(["deploy", "kws", "--run", str(best), "--work", str(work), "--accurate"]) == 1


def test_provenance_names_teacher_and_pruning(tmp_path: Path) -> None:
    from tinyml.train.rundir import RunDir, write_json

    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    write_json(run.config, {"task": "kws", "train": {"model": "dscnn", "teacher": "/runs/big"},
                            "model_spec": {"kind": "dscnn", "name": "dscnn", "widths": [32, 32, 32, 32, 32]},
                            "pruned_from": {"run": "/runs/kws", "keep": 0.5, "board": "qemu-stm32f405"}})
    p = run.provenance()
    assert p["teacher"] == "/runs/big" and p["pruned_from"]["keep"] == 0.5 and "search_trial" not in p
    text = RunDir.describe_provenance(p)
    assert "distilled from /runs/big" in text and "pruned to 50% of the channels of /runs/kws" in text


@pytest.mark.slow
def test_image_search_trains_mcunet_candidates(tmp_path: Path) -> None:
    from tinyml.datasets.synth_images import SynthImageConfig, synthesize_images

    data = synthesize_images(tmp_path / "img", SynthImageConfig(4, 60, 48, seed=0))
    out = tmp_path / "search"
    done = subprocess.run([sys.executable, "-m", "tinyml.cli.main", "search", "--board", "qemu-stm32f405",
                           "--task", "image", "--train-top", "2", "--epochs", "1", "--data", str(data), "--out",
                           str(out), "--resolution", "48", "--width", "0.25", "--json"],
                          capture_output=True, text=True, timeout=SEARCH_DEADLINE_S)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["trials"]) == 2
    for t in report["trials"]:
        arch = json.loads((Path(t["run"]) / "arch.json").read_text())
        assert arch["resolution"] == 48 and t["name"].startswith("48px w0.25")
        assert t["fits"]


def test_search_without_data_or_out_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tinyml.cli.main", "search", "--board", "qemu-stm32f405", "--task",
                           "kws", "--train-top", "2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "--data DIR" in done.stderr



RAY_HEAD_DEADLINE_S = 120.0  # `ray start --head` must print the cluster's address within this


@pytest.mark.slow
def test_search_runs_on_an_existing_ray_cluster(synth_dataset: Path, tmp_path: Path) -> None:
    """--ray-address: the trials run on a cluster tinyml did not start (here a head node on this
    machine, in its own process group, killed at the end)."""
    ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must stay under 107 bytes
    # the cluster's token, given to the head and to tinyml (nothing read from or written to ~/.ray)
    # PYTHONUNBUFFERED: `ray start --block` prints the address and then blocks; into a pipe, without it,
    # the line would wait in Python's buffer until the head exits
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": secrets.token_hex(32), "PYTHONUNBUFFERED": "1"}
    head = subprocess.Popen(["ray", "start", "--head", "--block", "--port", "0", "--num-cpus", "2",
                             "--include-dashboard=false", "--temp-dir", ray_tmp],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    try:
        # lines go through a thread: select() on the pipe cannot see lines already in readline's buffer
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in head.stdout or ()], daemon=True).start()
        address, deadline, seen = "", time.monotonic() + RAY_HEAD_DEADLINE_S, []
        while not address:
            assert time.monotonic() < deadline and head.poll() is None, "".join(seen)
            with contextlib.suppress(queue.Empty):
                seen.append(line := lines.get(timeout=1.0))
                if "ray start --address=" in line:
                    address = line.split("--address=")[1].split()[0].strip("'\"")
        out = tmp_path / "search"
        cmd = [sys.executable, "-m", "tinyml.cli.main", "search", "--board", "qemu-stm32f405", "--task", "kws",
               "--train-top", "1", "--epochs", "1", "--data", str(synth_dataset), "--out", str(out), "--max-ms", "2",
               "--ray-address", address, "--cpus-per-trial", "1"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=SEARCH_DEADLINE_S, env=env)
        assert done.returncode == 0, done.stderr
        assert f"on {address}" in " ".join(done.stderr.split())
        assert len(json.loads((out / "search.json").read_text())["trials"]) == 1
    finally:
        os.killpg(head.pid, 9)
        head.wait()
        shutil.rmtree(ray_tmp, ignore_errors=True)
