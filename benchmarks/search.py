"""Benchmark (not a test): an accuracy-aware search on local Ray, killed outright once its first
trial has finished, then resumed — issue 16's "a search with --train-top 4 runs on local Ray and
resumes after a kill". Prints the seconds to the kill, whether any Ray process outlived tinyml,
the seconds in all, and the ranked trials.

    python benchmarks/search.py --data work/deploy/kws/synth-kws [--train-top 4] [--epochs 8]
                                [--max-ms 40] [--board qemu-stm32f405] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests/ has the process scan
from tests.ray_processes import ray_processes

FIRST_TRIAL_DEADLINE_S = 3600.0  # the first trial must finish within this
REAP_WAIT_S = 15.0  # then the killed search's Ray processes must be gone


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--board", default="qemu-stm32f405")
    ap.add_argument("--task", default="kws")
    ap.add_argument("--train-top", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--max-ms", type=float, default=40.0)
    ap.add_argument("--out", type=Path, default=Path("work/bench-search"))
    args = ap.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    cmd = [sys.executable, "-m", "tinyml.cli.main", "search", "--board", args.board, "--task", args.task,
           "--train-top", str(args.train_top), "--epochs", str(args.epochs), "--data", str(args.data),
           "--out", str(args.out), "--max-ms", str(args.max_ms)]
    started = time.monotonic()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out.parent / f"{args.out.name}-first.log", "w") as log:
        first = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = started + FIRST_TRIAL_DEADLINE_S
        while not list(args.out.glob("trial-*/trial.json")):
            if first.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the search stopped (or took too long) before a trial finished; see {log.name}")
            time.sleep(1.0)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    killed_at = time.monotonic() - started
    kept = sorted(p.parent.name for p in args.out.glob("trial-*/trial.json"))
    time.sleep(REAP_WAIT_S)
    left = ray_processes()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    total = time.monotonic() - started
    report = json.loads((args.out / "search.json").read_text())
    print(f"killed (SIGKILL) after {killed_at:.0f} s with {', '.join(kept)} finished; Ray processes left "
          f"{REAP_WAIT_S:.0f} s later: {len(left)}{' ' + str(left) if left else ''}")
    print(f"resumed; {len(report['trials'])} trials done after {total:.0f} s in all (kept {report['kept']})")
    print(f"{'rank':>4}  {'model':<28} {'val':>6} {'int8':>6} {'M MACs':>7} {'est. ms':>8} {'SRAM KB':>8}  Pareto")
    for n, t in enumerate(report["trials"], 1):
        print(f"{n:>4}  {t['name']:<28} {t['val_accuracy']:>6.3f} {t['int8_accuracy']:>6.3f} {t['macs'] / 1e6:>7.2f} "
              f"{t['est_ms']:>8.1f} {t['sram_needed'] / 1024:>8.1f}  {'*' if t['pareto'] else ''}")


if __name__ == "__main__":
    main()
