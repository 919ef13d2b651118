"""Ranking the trials of a search and writing its report: ``search.json``, ``search.md`` and the
Pareto plot ``pareto.svg`` (validation accuracy against estimated latency, SRAM as the marker size).

Ranked: trials whose int8 model fits the board by validation accuracy, then estimated latency;
then trials that do not fit; failed trials are listed with their error.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinyml.generate.render import render
from tinyml.search.space import SearchPlan
from tinyml.search.trials import TrialResult


@dataclass(frozen=True)
class SearchReport:
    plan: SearchPlan
    ranked: tuple[TrialResult, ...]
    pareto: frozenset[int]  # trial indices on the accuracy / latency / SRAM front (fitting trials)
    failed: tuple[tuple[int, str], ...]  # (trial index, error)
    kept: int  # trials that were already finished when this run started

    @property
    def best(self) -> TrialResult | None:
        return self.ranked[0] if self.ranked and self.ranked[0].fits else None

    def to_json(self) -> dict[str, Any]:
        return {"plan": self.plan.to_json(), "best": self.best.run if self.best else None,
                "trials": [{**asdict(t), "pareto": t.index in self.pareto} for t in self.ranked],
                "failed": [{"trial": i + 1, "error": e} for i, e in self.failed], "kept": self.kept}


def rank(trials: list[TrialResult]) -> tuple[TrialResult, ...]:
    return tuple(sorted(trials, key=lambda t: (not t.fits, -t.val_accuracy, t.est_ms, t.index)))


def pareto_front(trials: list[TrialResult]) -> frozenset[int]:
    """Fitting trials no other fitting trial beats on accuracy, latency and SRAM at once."""
    fitting = [t for t in trials if t.fits]

    def dominates(a: TrialResult, b: TrialResult) -> bool:
        no_worse = a.val_accuracy >= b.val_accuracy and a.est_ms <= b.est_ms and a.sram_needed <= b.sram_needed
        better = a.val_accuracy > b.val_accuracy or a.est_ms < b.est_ms or a.sram_needed < b.sram_needed
        return no_worse and better

    return frozenset(t.index for t in fitting if not any(dominates(o, t) for o in fitting if o is not t))


def build_report(plan: SearchPlan, trials: list[TrialResult], failed: list[tuple[int, str]], kept: int) -> SearchReport:
    return SearchReport(plan, rank(trials), pareto_front(trials), tuple(failed), kept)


def markdown(report: SearchReport) -> str:
    p = report.plan
    head = (f"# tinyml search: {p.task} on {p.board} ({p.runtime} runtime)\n\n"
            f"{len(p.candidates)} of {p.considered} fitting candidates trained for {p.epochs} epochs on {p.data} "
            f"(seed {p.seed}). Ranked by validation accuracy (float), then estimated latency. Latency is an "
            "estimate from MACs (Cortex-M4 cycles per MAC of the runtime, measured by benchmarks/mlperf.py); "
            "memory is the fit rule's need on the converted int8 model.\n\n")
    rows = ["| rank | trial | model | val acc | int8 acc | MACs | est. ms | SRAM | flash | fits | Pareto |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for n, t in enumerate(report.ranked, 1):
        rows.append(f"| {n} | {t.index + 1} | {t.name} | {t.val_accuracy:.3f} | {t.int8_accuracy:.3f} | {t.macs:,} | "
                    f"{t.est_ms:.1f} | {t.sram_needed / 1024:.1f} KB | {t.flash_needed / 1024:.1f} KB | "
                    f"{'yes' if t.fits else 'no'} | {'*' if t.index in report.pareto else ''} |")
    failed = "".join(f"\ntrial {i + 1} failed: {e}" for i, e in report.failed)
    measured = f"\n\nint8 accuracy: on {report.ranked[0].measured_on}." if report.ranked else ""
    return head + "\n".join(rows) + measured + failed + "\n"


WIDTH, HEIGHT, MARGIN = 640, 420, 60


def svg(report: SearchReport) -> str:
    trials = [t for t in report.ranked if t.fits]
    if not trials:
        return render("report/pareto.svg.j2", plan=report.plan, points=[], front=[], ticks_x=[], ticks_y=[])
    lo_x, hi_x = 0.0, max(t.est_ms for t in trials) * 1.1 or 1.0
    lo_y = max(0.0, min(t.val_accuracy for t in trials) - 0.05)
    hi_y = min(1.0, max(t.val_accuracy for t in trials) + 0.05)
    hi_y = hi_y if hi_y > lo_y else lo_y + 0.1
    big = max(t.sram_needed for t in trials)

    def xy(t: TrialResult) -> tuple[float, float]:
        x = MARGIN + (WIDTH - 2 * MARGIN) * (t.est_ms - lo_x) / (hi_x - lo_x)
        y = HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * (t.val_accuracy - lo_y) / (hi_y - lo_y)
        return round(x, 1), round(y, 1)

    points = [(*xy(t), round(4 + 10 * t.sram_needed / big, 1), t.index + 1, t.name, t.index in report.pareto,
               t.sram_needed // 1024) for t in trials]
    front = [xy(t) for t in sorted((t for t in trials if t.index in report.pareto), key=lambda t: t.est_ms)]
    ticks_x = [(round(MARGIN + (WIDTH - 2 * MARGIN) * i / 4, 1), f"{lo_x + (hi_x - lo_x) * i / 4:.1f}")
               for i in range(5)]
    ticks_y = [(round(HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * i / 4, 1), f"{lo_y + (hi_y - lo_y) * i / 4:.2f}")
               for i in range(5)]
    return render("report/pareto.svg.j2", plan=report.plan, points=points, front=front, ticks_x=ticks_x,
                  ticks_y=ticks_y)


def write_report(report: SearchReport, out: Path) -> dict[str, Path]:
    files = {"search.json": json.dumps(report.to_json(), indent=2) + "\n", "search.md": markdown(report),
             "pareto.svg": svg(report)}
    for name, text in files.items():
        (out / name).write_text(text)
    return {name: out / name for name in files}
