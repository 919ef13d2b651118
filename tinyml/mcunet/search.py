"""MCUNet's two-step search under a board's memory budgets.

1. **Search-space optimization** (TinyNAS): for every (input resolution, width multiplier) pair,
   sample sub-networks, keep those whose estimated flash and arena fit the board (budgets minus
   the firmware reserve from ``boards/*.yaml``), and pick the space whose fitting models have the
   highest mean MACs — "more computation that still fits" is MCUNet's proxy for accuracy.
2. **Evolutionary search** inside that space: mutate and cross over kernel sizes, expand ratios
   and stage depths, keeping only candidates that fit; score by MACs (default) or by a caller's
   short-training proxy. Deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tinyml import console
from tinyml.boards import Board
from tinyml.errors import DoesNotFitError
from tinyml.mcunet.memory import MemoryEstimate, estimate
from tinyml.models.mcunet import EXPANDS, KERNELS, STAGES, Arch, Genes, arch_from_genes, slots
from tinyml.platform import platform_for
from tinyml.platform.fit import MemoryNeed, arena_with_margin, check_runtime

RESOLUTIONS = (48, 64, 80, 96, 112, 128, 144, 160, 176)
WIDTHS = (0.25, 0.35, 0.5, 0.75, 1.0)
MIN_FEASIBLE = 3  # a space needs this many fitting samples to be chosen


@dataclass(frozen=True)
class Budget:
    """A board's memory for one runtime; a candidate is admitted by the board platform's fit rule
    (the one ``generate`` applies) on its estimated need."""

    board: Board
    runtime: str = "native"

    @staticmethod
    def of(board: Board, runtime: str = "native") -> Budget:
        check_runtime(runtime)
        return Budget(board, runtime)

    @property
    def flash(self) -> int:
        return self.board.model_flash_budget

    @property
    def sram(self) -> int:
        return self.board.model_sram_budget

    def need(self, m: MemoryEstimate) -> MemoryNeed:
        """The estimated need on this runtime: TFLM's arena with the firmware's margins, or the
        native runtime's plan (no persistent interpreter structures; an upper bound)."""
        arena = m.native_arena_bytes if self.runtime == "native" else arena_with_margin(m.arena_bytes)
        return MemoryNeed(self.runtime, m.flash_bytes, arena, m.input_bytes)

    def admits(self, m: MemoryEstimate) -> bool:
        return platform_for(self.board).fits(self.need(m))


@dataclass(frozen=True)
class Candidate:
    arch: Arch
    memory: MemoryEstimate
    score: float = 0.0


@dataclass(frozen=True)
class SpaceStats:
    resolution: int
    width: float
    samples: int
    feasible: int
    mean_macs: float  # over the feasible samples
    min_arena: int  # smallest estimated arena / flash among all samples
    min_flash: int

    @property
    def fits(self) -> bool:
        return self.feasible >= MIN_FEASIBLE


@dataclass
class SearchResult:
    budget: Budget
    spaces: list[SpaceStats]
    space: SpaceStats
    best: Candidate
    history: list[float] = field(default_factory=list)  # best score per generation
    pool: list[Candidate] = field(default_factory=list)  # the last generation, best first

    def to_json(self) -> dict[str, Any]:
        m = self.best.memory
        need = self.budget.need(m)
        return {"budget": {"board": self.budget.board.id, "runtime": self.budget.runtime,
                           "flash": self.budget.flash, "sram": self.budget.sram},
                "space": asdict(self.space), "spaces": [asdict(s) for s in self.spaces],
                "best": {"arch": self.best.arch.to_json(), "macs": m.macs, "params": m.params,
                         "arena_bytes": need.arena_bytes, "flash_bytes": need.flash_bytes,
                         "input_bytes": need.input_bytes, "runtime": need.runtime},
                "history": self.history}


def sample_genes(rng: np.random.Generator) -> Genes:
    return Genes(tuple(int(rng.choice(d)) for _, _, d in STAGES),
                 tuple(int(rng.choice(KERNELS)) for _ in range(slots())),
                 tuple(int(rng.choice(EXPANDS)) for _ in range(slots())))


def smallest_genes() -> Genes:
    return Genes(tuple(min(d) for _, _, d in STAGES), (min(KERNELS),) * slots(), (min(EXPANDS),) * slots())


def mutate(genes: Genes, rng: np.random.Generator, p: float) -> Genes:
    def pick(values: tuple[int, ...], choices: Sequence[Sequence[int]]) -> tuple[int, ...]:
        return tuple(int(rng.choice(c)) if rng.random() < p else v for v, c in zip(values, choices, strict=True))

    return Genes(pick(genes.depths, [d for _, _, d in STAGES]), pick(genes.kernels, [KERNELS] * slots()),
                 pick(genes.expands, [EXPANDS] * slots()))


def crossover(a: Genes, b: Genes, rng: np.random.Generator) -> Genes:
    def mix(x: tuple[int, ...], y: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(u if rng.random() < 0.5 else v for u, v in zip(x, y, strict=True))

    return Genes(mix(a.depths, b.depths), mix(a.kernels, b.kernels), mix(a.expands, b.expands))


def evaluate_spaces(budget: Budget, n_classes: int, rng: np.random.Generator, samples: int,
                    resolutions: Sequence[int] = RESOLUTIONS, widths: Sequence[float] = WIDTHS) -> list[SpaceStats]:
    stats = []
    with console.progress(transient=True) as bar:
        task = bar.add_task("search spaces", total=len(resolutions) * len(widths), status="")
        for r in resolutions:
            for w in widths:
                mems = [estimate(arch_from_genes(r, w, sample_genes(rng), n_classes)) for _ in range(samples)]
                ok = [m for m in mems if budget.admits(m)]
                mean_macs = float(np.mean([m.macs for m in ok])) if ok else 0.0
                min_arena = min(budget.need(m).arena_bytes for m in mems)
                stats.append(SpaceStats(r, w, samples, len(ok), mean_macs, min_arena, min(m.flash_bytes for m in mems)))
                bar.update(task, advance=1, status=f"{r}px w{w:g}: {len(ok)}/{samples} fit")
    return stats


def _too_small(board_id: str, budget: Budget, n_classes: int, resolutions: Sequence[int],
               widths: Sequence[float]) -> DoesNotFitError:
    tiny = budget.need(estimate(arch_from_genes(min(resolutions), min(widths), smallest_genes(), n_classes)))
    return DoesNotFitError(
        f"no candidate network fits {board_id}: the smallest ({min(resolutions)}px, width {min(widths):g}) needs "
        f"{(tiny.arena_bytes + tiny.input_bytes) / 1024:.1f} KB SRAM and {tiny.flash_bytes / 1024:.1f} KB flash "
        f"({budget.runtime} runtime), the budget is "
        f"{budget.sram / 1024:.1f} KB SRAM and {budget.flash / 1024:.1f} KB flash; choose a bigger board or "
        "lower --resolution")


def evolve(resolution: int, width: float, budget: Budget, n_classes: int, rng: np.random.Generator,
           score: Callable[[Candidate], float], population: int = 32, generations: int = 12, parents: int = 8,
           mutation: float = 0.2, max_tries: int = 2000) -> tuple[list[Candidate], list[float]]:
    """The last generation (best first) and the best score of every generation."""
    def make(genes: Genes) -> Candidate | None:
        arch = arch_from_genes(resolution, width, genes, n_classes)
        memory = estimate(arch)
        if not budget.admits(memory):
            return None
        c = Candidate(arch, memory)
        return Candidate(arch, memory, float(score(c)))

    pool: list[tuple[Genes, Candidate]] = []
    for _ in range(max_tries):
        if len(pool) >= population:
            break
        g = sample_genes(rng)
        if (c := make(g)) is not None:
            pool.append((g, c))
    if not pool and (c := make(smallest_genes())) is not None:
        pool.append((smallest_genes(), c))
    history = []
    with console.progress(transient=True) as bar:
        task = bar.add_task(f"evolving {resolution}px w{width:g}", total=generations, status="")
        for _ in range(generations):
            pool.sort(key=lambda gc: -gc[1].score)
            top = pool[:parents]
            history.append(top[0][1].score)
            children: list[tuple[Genes, Candidate]] = []
            for _ in range(max_tries):
                if len(children) >= population - len(top):
                    break
                a = top[int(rng.integers(len(top)))][0]
                g = mutate(a, rng, mutation) if rng.random() < 0.5 else crossover(
                    a, top[int(rng.integers(len(top)))][0], rng)
                if (c := make(g)) is not None:
                    children.append((g, c))
            pool = top + children
            bar.update(task, advance=1, status=f"best {history[-1]:,.0f}")
    pool.sort(key=lambda gc: -gc[1].score)
    return [c for _, c in pool], history


def search(board: Board, n_classes: int, seed: int = 0, samples: int = 100,
           resolutions: Sequence[int] = RESOLUTIONS, widths: Sequence[float] = WIDTHS,
           score: Callable[[Candidate], float] | None = None, population: int = 32,
           generations: int = 12, runtime: str = "native") -> SearchResult:
    budget = Budget.of(board, runtime)
    rng = np.random.default_rng(seed)
    spaces = evaluate_spaces(budget, n_classes, rng, samples, resolutions, widths)
    feasible = [s for s in spaces if s.fits]
    if not feasible:
        raise _too_small(board.id, budget, n_classes, resolutions, widths)
    chosen = max(feasible, key=lambda s: (s.mean_macs, -s.resolution))
    pool, history = evolve(chosen.resolution, chosen.width, budget, n_classes, rng,
                           score or (lambda c: float(c.memory.macs)), population, generations)
    return SearchResult(budget, spaces, chosen, pool[0], history, pool)
