"""What an accuracy-aware search trains: its plan (settings and candidates), written first so a
killed search resumes with the same trials.

Candidates are admitted by the board platform's one fit rule on their *estimated* need
(``tinyml.mcunet.memory``); every trial is checked again on its converted int8 model.

- **kws**: every DS-CNN of the grid below (width, depth, first-convolution kernel and stride);
- **image**: the last generation of MCUNet's evolution in the space the board fits best.

Of those, K are trained, spread evenly over the fitting MACs range from the largest down: the
ranking then shows what accuracy each step of latency buys.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tinyml.boards import Board
from tinyml.errors import TinymlError
from tinyml.mcunet.memory import MemoryEstimate, estimate_dscnn
from tinyml.mcunet.search import RESOLUTIONS, WIDTHS, Budget, search
from tinyml.models.dscnn import DsCnnSpec

TASKS = ("kws", "image")
KWS_FILTERS = (16, 24, 32, 48, 64, 96, 128)
KWS_BLOCKS = (2, 3, 4, 5)
KWS_KERNELS = ((10, 4), (5, 3))  # the first convolution (time x cepstra)
KWS_STRIDES = ((2, 2), (2, 1))
KWS_INPUT = (49, 10, 1)
PLAN_FILE = "search-plan.json"

# Estimated Cortex-M4 cycles per MAC of each runtime, measured by benchmarks/mlperf.py (DS-CNN:
# native 5.18 M cycles, TFLM + CMSIS-NN 9.26 M, for 2.66 M MACs). A MACs-based estimate: the
# measured cycles of a deployed model come from `tinyml bench` / `tinyml deploy`.
CYCLES_PER_MAC = {"native": 1.95, "tflm": 3.48}


def estimated_cycles(macs: int, runtime: str) -> int:
    return round(macs * CYCLES_PER_MAC.get(runtime, CYCLES_PER_MAC["tflm"]))


def estimated_ms(macs: int, runtime: str, board: Board) -> float:
    return round(1000.0 * estimated_cycles(macs, runtime) / board.clock_hz, 2)


@dataclass(frozen=True)
class SearchCandidate:
    name: str  # what the report calls it
    model: str  # kws: the DS-CNN name train takes; image: the Arch as JSON
    macs: int
    params: int
    arena_bytes: int  # estimated need on the plan's runtime (before the board's reserve)
    flash_bytes: int
    input_bytes: int


@dataclass(frozen=True)
class SearchPlan:
    task: str
    board: str
    runtime: str
    data: str
    epochs: int
    seed: int
    train_top: int
    candidates: tuple[SearchCandidate, ...]
    considered: int  # candidates that fit, before picking K
    max_ms: float = 0.0  # candidates estimated slower than this were left out (0 = no limit)
    ray_address: str = ""  # "" = a local Ray instance on this machine's cores
    cpus_per_trial: int = 0  # 0 = this machine's cores shared by the trials that run at once
    extra: dict[str, Any] = field(default_factory=dict)  # image: classes; kws: labels

    def identity(self) -> dict[str, Any]:
        """What must match for a search to resume (how it is executed may change)."""
        d = self.to_json()
        return {k: d[k] for k in ("task", "board", "runtime", "data", "epochs", "seed", "train_top", "max_ms",
                                "candidates")}

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "candidates": [asdict(c) for c in self.candidates]}

    @staticmethod
    def from_json(d: dict[str, Any]) -> SearchPlan:
        return SearchPlan(**{**d, "candidates": tuple(SearchCandidate(**c) for c in d["candidates"])})

    def trial_dir(self, out: Path, index: int) -> Path:
        return out / f"trial-{index + 1}"


def _candidate(name: str, model: str, m: MemoryEstimate, budget: Budget) -> SearchCandidate:
    need = budget.need(m)
    return SearchCandidate(name, model, m.macs, m.params, need.arena_bytes, need.flash_bytes, need.input_bytes)


def kws_candidates(board: Board, runtime: str, n_classes: int) -> list[SearchCandidate]:
    budget = Budget.of(board, runtime)
    out = []
    for filters in KWS_FILTERS:
        for blocks in KWS_BLOCKS:
            for kernel in KWS_KERNELS:
                for stride in KWS_STRIDES:
                    s = DsCnnSpec("", filters, blocks, "", kernel, stride)
                    m = estimate_dscnn(s, KWS_INPUT, n_classes)
                    if budget.admits(m):
                        out.append(_candidate(s.searched_name, s.searched_name, m, budget))
    return out


def image_candidates(board: Board, runtime: str, n_classes: int, seed: int, resolutions: tuple[int, ...] = RESOLUTIONS,
                     widths: tuple[float, ...] = WIDTHS) -> list[SearchCandidate]:
    result = search(board, n_classes, seed, resolutions=resolutions, widths=widths, runtime=runtime)
    seen: dict[str, SearchCandidate] = {}
    for c in result.pool:
        model = json.dumps(c.arch.to_json(), sort_keys=True)
        seen.setdefault(model, _candidate(c.arch.describe(), model, c.memory, result.budget))
    return list(seen.values())


def spread(candidates: list[SearchCandidate], k: int) -> tuple[SearchCandidate, ...]:
    """``k`` candidates evenly spaced over the MACs-sorted list, the largest first."""
    ranked = sorted(candidates, key=lambda c: (-c.macs, c.name))
    if len(ranked) <= k:
        return tuple(ranked)
    if k == 1:
        return (ranked[0],)
    picks = sorted({round(i * (len(ranked) - 1) / (k - 1)) for i in range(k)})
    return tuple(ranked[i] for i in picks)


def read_plan(out: Path) -> SearchPlan | None:
    path = out / PLAN_FILE
    return SearchPlan.from_json(json.loads(path.read_text())) if path.is_file() else None


def check_resumable(out: Path, plan: SearchPlan) -> None:
    """Refuse an --out folder holding something else than this search (or a search with other settings)."""
    previous = read_plan(out)
    if previous is None:
        if out.exists() and any(out.iterdir()):
            raise TinymlError(f"{out} is not empty and holds no tinyml search; choose a new --out folder")
        return
    mine, theirs = plan.identity(), previous.identity()
    if mine != theirs:
        diff = ", ".join(k for k in mine if mine[k] != theirs[k])
        raise TinymlError(f"{out} holds a search with other settings ({diff}); run the same command to resume it, "
                          "or choose a new --out folder")
