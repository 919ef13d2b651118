"""The memory model against TFLM: the planner on hand-made cases, and estimates of real
converted candidates measured with the TFLM host interpreter (must be within 10%)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyml.mcunet.memory import estimate, graph
from tinyml.mcunet.planner import Buffer, greedy_plan, plan_tflite
from tinyml.mcunet.search import sample_genes
from tinyml.models.mcunet import Arch, Block, arch_from_genes, make_divisible

from .mcunet_validate import validate


def test_planner_reuses_memory_of_dead_tensors() -> None:
    size, offsets = greedy_plan([Buffer(100, 0, 1), Buffer(100, 1, 2), Buffer(100, 2, 3)])
    assert size == 200 and offsets[0] == offsets[2]


def test_planner_stacks_simultaneous_tensors_largest_first() -> None:
    size, offsets = greedy_plan([Buffer(16, 0, 5), Buffer(64, 0, 5), Buffer(32, 0, 5)])
    assert size == 112 and offsets == [96, 0, 64]


def test_planner_fills_gaps() -> None:
    # a (0-1) and c (3-4) can share; b spans all; d fits in the gap a leaves once a is dead
    size, offsets = greedy_plan([Buffer(64, 0, 1), Buffer(32, 0, 4), Buffer(64, 3, 4), Buffer(48, 2, 2)])
    assert size == 96 and offsets[0] == offsets[2] == 0 and offsets[3] == 0 and offsets[1] == 64


def test_make_divisible() -> None:
    assert [make_divisible(v) for v in (4, 8, 12, 16 * 0.35, 32 * 0.35, 320 * 0.35)] == [8, 8, 16, 8, 16, 112]


def test_graph_shapes_and_macs() -> None:
    arch = Arch(32, 1.0, 8, (Block(3, 1, 8, 1), Block(5, 4, 16, 2)), 3)
    layers = graph(arch)
    assert [ly.op for ly in layers] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "ADD", "CONV_2D",
                                        "DEPTHWISE_CONV_2D", "CONV_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX"]
    assert layers[0].shape == (1, 16, 16, 8) and layers[0].macs == 16 * 16 * 8 * 9 * 3
    assert layers[5].shape == (1, 8, 8, 32) and layers[5].macs == 8 * 8 * 32 * 25
    assert estimate(arch).macs == sum(ly.macs for ly in layers)


@pytest.mark.slow
def test_planner_reproduces_tflm_head_on_the_dscnn(trained_run: Path) -> None:
    from tinyml.tflite.interpreters import tflm_arena_usage
    from tinyml.tflite.model import load_model
    from tinyml.train.rundir import RunDir

    model = load_model(RunDir(trained_run).int8_model)
    assert plan_tflite(model) == tflm_arena_usage(model.data).head


@pytest.mark.slow
@pytest.mark.parametrize(("resolution", "width", "seed"), [(48, 0.25, 1), (64, 0.35, 2), (96, 0.35, 3),
                                                           (128, 0.25, 5)])
def test_estimate_matches_measured_tflm_arena(resolution: int, width: float, seed: int) -> None:
    arch = arch_from_genes(resolution, width, sample_genes(np.random.default_rng(seed)), 3)
    v = validate(arch, seed)
    assert v.ops_match
    assert v.estimate.head_bytes == v.measured.head  # activations: TFLM's planner reproduced exactly
    assert abs(v.arena_error) < 0.10, (v.estimate.arena_bytes, v.measured)
    assert abs(v.flash_error) < 0.10, (v.estimate.flash_bytes, v.model_bytes)
