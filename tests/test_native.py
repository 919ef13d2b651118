"""The code-generated native runtime, compiled with the host gcc and compared bit for bit with
the TFLM host interpreter (emlearn-style) on many inputs: the DS-CNN trained here, a searched
MCUNet-style network, MobileNetV1-0.25, ResNet-8 and the ToyADMOS autoencoder with random weights
(inputs whose outputs differ), and small models that
push each kernel into its edge cases."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from tinyml.boards import get_board
from tinyml.errors import UnsupportedOpError
from tinyml.generate.project import generate
from tinyml.native import emit
from tinyml.native.emit import build_native
from tinyml.native.fuse import CONV_ADD, PW_DW, RES_BLOCK
from tinyml.native.lower import lower
from tinyml.tflite.interpreters import TflmRunner, tflm_arena_size
from tinyml.tflite.model import load_model, parse_model
from tinyml.train.rundir import RunDir

from . import reference_models as refs
from .native_host import build_host_runner, run_host

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a host C compiler")

INPUTS = 120


@cache
def _model_bytes(name: str) -> bytes:
    if name in refs.EDGE_MODELS:
        return refs.edge_model(name)
    if name == "mcunet":
        return refs.searched_mcunet()
    return refs.reference_model(name)


def _inputs(shape: tuple[int, ...], n: int, seed: int = 0) -> np.ndarray:
    """Random int8 inputs plus the extremes (all -128, all 127, alternating)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(n, *shape), dtype=np.int64)
    x[0] = -128
    x[1] = 127
    x[2].reshape(-1)[::2] = -128
    x[2].reshape(-1)[1::2] = 127
    return x.astype(np.int8)


def differential(model_path: Path, out: Path, n: int = INPUTS, weights: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    project = generate(model_path, get_board("qemu"), out / "project", runtime="native", name="m", weights=weights)
    exe = build_host_runner(project.path, out / "host_runner")
    model = load_model(model_path)
    inp = model.input_tensors[0]
    x = _inputs(inp.shape[1:], n)
    ours = run_host(exe, x.reshape(n, -1), model.output_tensors[0].elements)
    ref = TflmRunner(model.data).run(x).reshape(n, -1)
    return ours, ref


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "model_int8.tflite"
    path.write_bytes(data)
    return path


def test_dscnn_is_bit_exact_with_tflm(trained_run: Path, tmp_path: Path) -> None:
    ours, ref = differential(RunDir(trained_run).int8_model, tmp_path)
    assert np.array_equal(ours, ref), f"{(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"
    assert len(np.unique(ref.argmax(axis=1))) > 1  # the inputs exercise more than one class


@pytest.mark.parametrize("name", ["mcunet", "mobilenet_v1_025", "resnet8", "toyadmos_autoencoder"])
def test_reference_architectures_are_bit_exact_with_tflm(name: str, tmp_path: Path) -> None:
    ours, ref = differential(_write(tmp_path, _model_bytes(name)), tmp_path, n=100)
    assert np.array_equal(ours, ref), f"{name}: {(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"
    distinct = len({row.tobytes() for row in ref})
    assert distinct >= 50, f"{name}: only {distinct} distinct outputs for 100 inputs — the comparison proves little"


def fuse_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fusable pair runs fused, not only those that lower the arena (band_edges' edge cases)."""
    monkeypatch.setattr(emit, "UNDO_UNNEEDED_FUSIONS", False)


def blocks_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every residual block runs in bands (tm_block_s8), not only where that lowers the arena."""
    monkeypatch.setattr(emit, "FUSION_CHOICES", ((RES_BLOCK, CONV_ADD),))


@pytest.mark.parametrize("name", sorted(refs.EDGE_MODELS))
def test_kernel_edge_cases_are_bit_exact_with_tflm(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fuse_everything(monkeypatch)
    ours, ref = differential(_write(tmp_path, _model_bytes(name)), tmp_path, n=200)
    assert np.array_equal(ours, ref), f"{name}: {(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"


def test_edge_models_reach_the_zero_point_extremes() -> None:
    zps = {name: parse_model(_model_bytes(name)).input_tensors[0].quant.zero_point[0]  # type: ignore[union-attr]
           for name in ("conv_edges", "depthwise_edges")}
    assert zps == {"conv_edges": 127, "depthwise_edges": -128}
    ops = {op for name in refs.EDGE_MODELS for op in parse_model(_model_bytes(name)).op_names}
    assert {"MAX_POOL_2D", "AVERAGE_POOL_2D", "MEAN", "PAD", "ADD", "SOFTMAX", "DEPTHWISE_CONV_2D"} <= ops


def test_packed_fast_path_covers_every_depth_of_the_unrolled_loop() -> None:
    """packed_depths must really reach the packed kernel, with K groups that enter the 16-deep unrolled
    loop at different points and repeat it (otherwise its bit-exact tests prove nothing about it)."""
    for wide in (True, False):  # int16 weights (doubled) and int8 weights: two Cortex-M kernels
        layers = lower(parse_model(_model_bytes("packed_depths")), wide_weights=wide)
        groups = sorted(ly.conv.k_padded // 4 for ly in layers if "pack" in ly.arrays)
        assert groups == [1, 3, 16, 17, 33, 36]
    dw = [(ly.dwconv.k_h, ly.dwconv.k_w) for ly in lower(parse_model(_model_bytes("depthwise_edges")))
          if ly.kind == "dwconv" and "pack" in ly.arrays]
    assert dw == [(5, 5)]  # the packed depthwise path beside the 3x3 kernel (DS-CNN, MCUNet)


def test_winograd_takes_the_3x3_stride_1_convolutions_it_has_a_loop_for() -> None:
    """winograd_edges must really reach the Winograd kernel (its bit-exact tests prove nothing
    otherwise); ResNet-8 takes it on its four stride-1 3x3 convolutions, not the strided ones."""
    def taken(name: str) -> list[tuple[int, int, int, int]]:  # (in_c, kernel, stride, winograd), sorted
        layers = lower(parse_model(_model_bytes(name)))
        return sorted((ly.conv.in_c, ly.conv.k_h, ly.conv.stride_h, ly.conv.winograd)
                      for ly in layers if ly.kind == "conv")

    assert taken("winograd_edges") == [(16, 3, 1, 1), (32, 3, 1, 1), (32, 3, 1, 1), (32, 3, 1, 1), (48, 3, 1, 0),
                                       (64, 3, 1, 1)]
    assert taken("resnet8") == [(3, 3, 1, 0), (16, 1, 2, 0), (16, 3, 1, 1), (16, 3, 1, 1), (16, 3, 2, 0),
                                (32, 1, 2, 0), (32, 3, 1, 1), (32, 3, 2, 0), (64, 3, 1, 1)]
    assert len(build_native(parse_model(_model_bytes("resnet8")), "m", "x").winograd_convs) == 4


@pytest.mark.parametrize("winograd", [True, False])
def test_winograd_is_bit_exact_and_agrees_with_the_direct_path(winograd: bool, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Every 3x3 convolution of winograd_edges on the Winograd path (48 input channels too: the portable
    loop), then none: both bit-exact with TFLM on inputs whose outputs differ."""
    import tinyml.native.lower as lowering
    from tinyml.native import winograd as wino

    monkeypatch.setattr(lowering, "WINOGRAD", winograd)
    monkeypatch.setattr(wino, "FAST_IN_C", (16, 32, 48, 64))
    layers = lower(parse_model(_model_bytes("winograd_edges")))
    assert sum(ly.conv.winograd for ly in layers if ly.kind == "conv") == (6 if winograd else 0)
    ours, ref = differential(_write(tmp_path, _model_bytes("winograd_edges")), tmp_path, n=100)
    assert np.array_equal(ours, ref), f"{(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"
    assert len({row.tobytes() for row in ref}) > 50


@pytest.mark.parametrize("name", ["depthwise_edges", "packed_depths", "grouped_edges"])
def test_int8_weight_layout_is_bit_exact_too(name: str, tmp_path: Path) -> None:
    ours, ref = differential(_write(tmp_path, _model_bytes(name)), tmp_path, n=50, weights="int8")
    assert np.array_equal(ours, ref)


def test_plan_is_smaller_than_tflm_and_works_in_place(trained_run: Path) -> None:
    model = load_model(RunDir(trained_run).int8_model)
    native = build_native(model, "m", "model_int8.tflite")
    in_place = {layer.opcode for layer in native.layers if native.plan.in_place[layer.index]}
    assert {"DEPTHWISE_CONV_2D", "CONV_2D"} <= in_place
    assert native.plan.arena_bytes < 0.6 * tflm_arena_size(model.data)
    # no in-place: every pointwise/depthwise output needs its own buffer, so the arena grows
    assert build_native(model, "m", "x", allow_in_place=False).plan.arena_bytes > native.plan.arena_bytes


NO_BLOCKS = tuple(kinds for kinds in emit.FUSION_CHOICES if RES_BLOCK not in kinds)


def test_residual_adds_fuse_into_their_convolution_and_go_in_place_only_where_legal() -> None:
    resnet8 = parse_model(_model_bytes("resnet8"))
    fused, separate = build_native(resnet8, "m", "x", fusions=NO_BLOCKS), build_native(resnet8, "m", "x", fusions=((),))
    assert [s.kind for s in fused.steps].count("conv_add") == 3
    # a residual block's convolution output never exists: one 32x32x16 buffer (16 KB) less
    assert fused.plan.arena_bytes <= separate.plan.arena_bytes - 15 * 1024
    edges = build_native(parse_model(_model_bytes("residual_edges")), "m", "x", fusions=NO_BLOCKS)
    fused_steps = [s for s in edges.steps if s.kind == "conv_add"]
    # in place over the residual, except over the model input and over the convolution's own input
    assert [edges.plan.in_place[s.layers[-1].index] for s in fused_steps] == [False, False, True, False, True]
    assert {s.conv_is_in1 for s in fused_steps} == {True, False}
    assert {"pack" in s.layers[0].arrays for s in fused_steps} == {True, False}  # both convolution paths


def test_strided_residual_blocks_run_their_shortcut_first_where_that_lowers_the_arena(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """ResNet-8's second block: with the 1x1 shortcut computed before the 3x3 convolution (fused with
    the ADD), the block input dies before that convolution runs — whatever order the converter wrote."""
    model = parse_model(_model_bytes("resnet8"))
    native = build_native(model, "m", "x", fusions=NO_BLOCKS)
    fused = [(s.layers[0].conv.k_h, s.layers[0].conv.in_c) for s in native.steps if s.kind == "conv_add"]
    assert (3, 32) in fused  # the second block's 3x3 convolution carries the ADD
    monkeypatch.setattr(emit, "residual_orders", lambda *args: [])
    assert native.plan.arena_bytes <= build_native(model, "m", "x", fusions=NO_BLOCKS).plan.arena_bytes


def test_residual_blocks_run_in_bands_over_their_input() -> None:
    """ResNet-8's three blocks each run as one call (tm_block_s8) writing their output over their input:
    the first convolution's output never exists, and the arena is under 0.4x TFLM's."""
    model = parse_model(_model_bytes("resnet8"))
    native = build_native(model, "m", "x")
    blocks = [s for s in native.steps if s.kind == RES_BLOCK]
    assert [len(s.layers) for s in blocks] == [3, 4, 4]  # identity, then two strided blocks with shortcuts
    assert all(native.plan.in_place[s.layers[-1].index] for s in blocks)
    assert native.plan.arena_bytes < build_native(model, "m", "x", fusions=NO_BLOCKS).plan.arena_bytes - 10 * 1024
    assert native.plan.arena_bytes <= 0.4 * tflm_arena_size(model.data)


def test_block_edges_take_every_block_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """block_edges must really reach tm_block_s8's cases (otherwise its bit-exact tests prove little):
    six blocks, in place exactly where the replay allows it and nothing reads the input later."""
    blocks_everywhere(monkeypatch)
    native = build_native(parse_model(_model_bytes("block_edges")), "m", "x")
    blocks = [s for s in native.steps if s.kind == RES_BLOCK]
    shapes = [tuple((ly.conv.k_h, ly.conv.k_w, ly.conv.stride_h, ly.conv.winograd) for ly in s.layers[:-1])
              for s in blocks]
    assert shapes == [((3, 3, 1, 1), (3, 3, 1, 1)), ((3, 3, 1, 1), (3, 3, 1, 1)),
                      ((3, 3, 2, 0), (1, 1, 2, 0), (3, 3, 1, 1)), ((3, 3, 1, 1), (1, 1, 1, 0), (3, 3, 1, 1)),
                      ((5, 3, 1, 0), (3, 3, 1, 1), (3, 3, 1, 0)), ((3, 3, 1, 0), (3, 3, 1, 0))]
    # the replay: the expanding shortcut and the Winograd shortcut would overwrite rows still to be read
    assert [bool(s.in_place_inputs) for s in blocks] == [True, True, True, False, False, True]
    # planned in place: not over the model input, not over an input read after the block
    assert [native.plan.in_place[s.layers[-1].index] for s in blocks] == [False, True, True, False, False, False]


def test_writing_a_block_over_its_input_where_the_replay_refuses_breaks_it(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay's refusals are real: told every block may overwrite its input, the expanding block
    of block_edges clobbers input rows it still has to read, and the outputs go wrong."""
    from tinyml.native import block as blocks

    blocks_everywhere(monkeypatch)
    monkeypatch.setattr(blocks, "writes_over_input_safely", lambda block: True)
    ours, ref = differential(_write(tmp_path, _model_bytes("block_edges")), tmp_path, n=20)
    assert (ours != ref).any(axis=1).sum() > 10


@pytest.mark.parametrize("winograd", [True, False])
def test_residual_blocks_in_bands_are_bit_exact(winograd: bool, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """block_edges with every block in bands, its convolutions on Winograd and on the direct path."""
    from tinyml.native import lower as lowering

    blocks_everywhere(monkeypatch)
    monkeypatch.setattr(lowering, "WINOGRAD", winograd)
    ours, ref = differential(_write(tmp_path, _model_bytes("block_edges")), tmp_path, n=150)
    assert np.array_equal(ours, ref), f"{(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"
    assert len({row.tobytes() for row in ref}) > 100  # the outputs vary with the input
    model_c = (tmp_path / "project" / "src" / "model.c").read_text()
    assert model_c.count("tm_block_s8(") == 6 and ("tm_conv_winograd, " in model_c) == winograd


def test_pointwise_layers_fuse_into_the_depthwise_layer_after_them_where_that_shrinks_the_arena(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The expanding pointwise outputs never exist: VWW's 48x48x16 (36.9 KB) before its stride-2
    depthwise layer; band_edges' chains all fuse; DS-CNN, whose pointwise and depthwise layers run
    in place, keeps its layers apart (fusing would not shrink its arena)."""
    vww = parse_model(_model_bytes("mobilenet_v1_025"))
    fused, separate = build_native(vww, "m", "x"), build_native(vww, "m", "x", fusions=((),))
    assert [s.kind for s in fused.steps].count("pw_dw") >= 1
    assert fused.plan.arena_bytes <= separate.plan.arena_bytes - 8 * 1024  # the peak moves to the first conv
    # a fusion that does not lower the peak is undone (it gives up the planar depthwise path)...
    fuse_everything(monkeypatch)
    everywhere = build_native(vww, "m", "x")
    assert [s.kind for s in fused.steps].count("pw_dw") < [s.kind for s in everywhere.steps].count("pw_dw")
    assert fused.plan.arena_bytes <= everywhere.plan.arena_bytes
    # ...and band_edges, fused everywhere for its edge cases, runs every chain through the fused kernel
    edges = build_native(parse_model(_model_bytes("band_edges")), "m", "x")
    assert [s.kind for s in edges.steps] == ["pw_dw"] * 5 + ["conv"]


def test_pointwise_into_depthwise_takes_planar_layers_per_pixel(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """With the planar path chosen for every eligible depthwise layer, the fused call still runs
    them row by row on the per-pixel path, bit-exact."""
    import tinyml.native.plane as planes

    monkeypatch.setattr(planes, "PLANAR_MIN_PIXELS", 0)
    fuse_everything(monkeypatch)
    model = parse_model(_model_bytes("band_edges"))
    planar = [ly for s in build_native(model, "m", "x").steps for ly in s.layers
              if s.kind == "pw_dw" and ly.kind == "dwconv" and ly.dwconv.planar]
    assert len(planar) >= 2
    ours, ref = differential(_write(tmp_path, _model_bytes("band_edges")), tmp_path, n=100)
    assert np.array_equal(ours, ref)


def test_planned_buffers_never_overlap_while_alive(trained_run: Path) -> None:
    model = parse_model(_model_bytes("mcunet"))
    native = build_native(model, "m", "x")
    plan = native.plan
    live: dict[int, tuple[int, int]] = {}
    for pos, step in enumerate(native.steps):  # the kernel calls: a fused convolution's output has no buffer
        for t in (*step.inputs, step.output):
            lo, hi = live.get(t, (pos, pos))
            live[t] = (min(lo, pos), max(hi, pos))
    assert set(model.inputs) <= plan.external  # the input has a buffer of its own, outside the arena
    tensors = sorted(t for t in live if t not in plan.external)
    for i, a in enumerate(tensors):
        for b in tensors[i + 1 :]:
            if plan.tensor_offsets[a] == plan.tensor_offsets[b]:
                continue  # shared on purpose: a view or an in-place kernel
            overlap_t = not (live[a][1] < live[b][0] or live[b][1] < live[a][0])
            ra = (plan.tensor_offsets[a], plan.tensor_offsets[a] + model.tensors[a].nbytes)
            rb = (plan.tensor_offsets[b], plan.tensor_offsets[b] + model.tensors[b].nbytes)
            overlap_m = ra[0] < rb[1] and rb[0] < ra[1]
            assert not (overlap_t and overlap_m), f"tensors {a} and {b} collide"


def test_unsupported_op_is_named(tmp_path: Path) -> None:
    def tanh_model(keras):  # type: ignore[no-untyped-def]
        inputs = keras.Input((4, 4, 2))
        return keras.Model(inputs, keras.layers.Activation("tanh")(keras.layers.Conv2D(2, 1)(inputs)))

    path = _write(tmp_path, refs._convert(tanh_model, (4, 4, 2)))
    with pytest.raises(UnsupportedOpError, match=r"TANH.*--runtime tflm"):
        generate(path, get_board("qemu"), tmp_path / "p", runtime="native")
    assert not (tmp_path / "p").exists()  # nothing written


def test_a_dimension_its_kernel_struct_cannot_hold_is_refused_not_truncated(tmp_path: Path) -> None:
    """tm_fc_t's in_c is a uint16_t: a 70,000-input dense layer would wrap to 4,464 in C."""
    def wide_dense(keras):  # type: ignore[no-untyped-def]
        inputs = keras.Input((70000,))
        return keras.Model(inputs, keras.layers.Dense(2)(inputs))

    path = _write(tmp_path, refs._convert(wide_dense, (70000,)))
    with pytest.raises(UnsupportedOpError, match=r"tm_fc_t\.in_c = 70000 does not fit its uint16_t.*--runtime tflm"):
        generate(path, get_board("qemu"), tmp_path / "p", runtime="native")


def test_kernel_structs_are_typed_like_the_header() -> None:
    """The Python-C contract: every typed parameter struct (tinyml/native/structs.py) has exactly the
    C struct's integer members, with their C types, as tinyml_nn.h declares them."""
    import re

    from tinyml.native import structs
    from tinyml.resources import data_dir

    header = re.sub(r"/\*.*?\*/", "", (data_dir("firmware") / "runtime" / "native" / "tinyml_nn.h").read_text(),
                    flags=re.S)
    declared: dict[str, dict[str, str]] = {}
    for body, name in re.findall(r"typedef struct \{(.*?)\} (\w+);", header, flags=re.S):
        members = declared.setdefault(name, {})
        for decl in body.split(";"):  # integer members; pointers and sub-structs are the generator's arrays
            if m := re.fullmatch(r"\s*(u?int(?:8|16|32)_t)\s+([\w\s,]+)", decl):
                members.update({member.strip(): m.group(1) for member in m.group(2).split(",")})
    assert {cls.C_STRUCT for cls in structs.ALL} <= set(declared)
    for cls in structs.ALL:
        assert structs.c_types(cls) == declared[cls.C_STRUCT], cls.C_STRUCT


def test_auto_weights_narrow_the_fewest_convolutions_and_stay_bit_exact(tmp_path: Path) -> None:
    """A board one byte short of int16 weights everywhere: ``auto`` moves only the convolution with the
    fewest output pixels (the stride-2 3x3 one: 9 pixels against 30) to int8 weights, and the mixed
    firmware is bit-exact like the other layouts."""
    import dataclasses

    from tinyml.platform import platform_for

    path = _write(tmp_path, _model_bytes("packed_depths"))
    model = load_model(path)
    qemu = get_board("qemu")
    wide = platform_for(qemu).place(model, "native")
    assert wide.native is not None and wide.native.weight_layout == "int16"
    convs = sorted(wide.native.int16_convs)
    board = dataclasses.replace(qemu, flash_bytes=wide.fit.flash_needed - 1)
    mixed = platform_for(board).place(model, "native")
    assert mixed.fit.fits and mixed.native is not None and mixed.native.weight_layout == "mixed"
    assert sorted(mixed.native.int16_convs) == convs[:-1]  # the last conv is the strided 3x3 one
    project = generate(path, board, tmp_path / "project", runtime="native", name="m")
    source = (project.path / "src" / "model.c").read_text()
    assert f"int8_t L{convs[-1]}_weights[" in source and f"int16_t L{convs[0]}_weights[" in source
    exe = build_host_runner(project.path, tmp_path / "host_runner")
    x = _inputs(model.input_tensors[0].shape[1:], 50)
    ours = run_host(exe, x.reshape(50, -1), model.output_tensors[0].elements)
    ref = TflmRunner(model.data).run(x).reshape(50, -1)
    assert np.array_equal(ours, ref)


@pytest.mark.parametrize("name", ["conv_edges", "depthwise_edges", "add_pad_softmax", "toyadmos_autoencoder"])
def test_generic_requantization_is_bit_exact_where_the_fast_one_is_not_provable(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every layer of these models passes the fast-requantization proof; the generator falls back to
    TFLM's MultiplyByQuantizedMultiplier (tm_mbqm) where it does not (a left shift, an accumulator
    that could reach 2^30). Refusing the proof everywhere exercises that path in CONV_2D, DEPTHWISE,
    ADD and FULLY_CONNECTED."""
    import tinyml.native.lower as lowering

    monkeypatch.setattr(lowering, "fast_requant", lambda *args: False)
    assert not any(ly.rq_fast for ly in lower(parse_model(_model_bytes(name))))
    ours, ref = differential(_write(tmp_path, _model_bytes(name)), tmp_path, n=50)
    assert np.array_equal(ours, ref)
    assert len({row.tobytes() for row in ref}) > 25  # outputs that differ


@pytest.mark.parametrize("plane_bytes", [2048, 64])
def test_planar_depthwise_is_bit_exact(plane_bytes: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """planar_edges with every layer on the planar path (they are below the pixel count where the
    generator chooses it): one band per layer, then a plane too small for any of them — bands of one
    and two rows, a short last band, the rows a band carries to the next (two at stride 1, one at
    stride 2) — along x and along y, odd rows, SAME and VALID, in place and not."""
    import tinyml.native.plane as planes

    monkeypatch.setattr(planes, "PLANAR_MIN_PIXELS", 0)
    monkeypatch.setattr(planes, "PLANE_BYTES", plane_bytes)
    model = parse_model(_model_bytes("planar_edges"))
    dw = [ly for ly in lower(model) if ly.kind == "dwconv"]
    expected = ([(0, 7), (0, 7), (0, 5), (1, 3), (1, 3), (1, 1)] if plane_bytes > 64 else
                [(0, 1), (0, 1), (0, 1), (1, 2), (1, 2), (1, 1)])
    assert [(ly.dwconv.plane_t, ly.dwconv.band) for ly in dw] == expected
    assert all(ly.dwconv.planar for ly in dw)
    native = build_native(model, "m", "model_int8.tflite")
    assert any(native.plan.in_place[ly.index] for ly in dw)
    ours, ref = differential(_write(tmp_path, _model_bytes("planar_edges")), tmp_path, n=100)
    assert np.array_equal(ours, ref)
    assert len({row.tobytes() for row in ref}) > 50


def test_generator_chooses_planar_by_output_pixels() -> None:
    layers = lower(parse_model(_model_bytes("mobilenet_v1_025")))
    dw = {ly.dwconv.out_h * ly.dwconv.out_w: ly.dwconv.planar
          for ly in layers if ly.kind == "dwconv" and ly.dwconv.stride_h == 1}
    assert dw == {2304: 1, 576: 1, 144: 1, 36: 0, 9: 0}
    strided = [(ly.dwconv.out_h, ly.dwconv.planar)
               for ly in layers if ly.kind == "dwconv" and ly.dwconv.stride_h == 2]
    assert strided == [(24, 1), (12, 0), (6, 0), (3, 0)]


def test_block_diagonal_pointwise_convolutions_run_grouped() -> None:
    """grouped_edges must really reach the grouped kernel (its bit-exact tests above prove nothing
    otherwise): each block-diagonal pointwise layer stores only its blocks and does 1/groups of the
    MACs; the one with a stray weight outside its blocks stays dense."""
    for wide in (True, False):
        layers = [ly for ly in lower(parse_model(_model_bytes("grouped_edges")), wide_weights=wide)
                  if ly.kind == "conv" and "pack" in ly.arrays]
        assert [ly.conv.groups for ly in layers] == [1, *refs.GROUPED.values()]  # the dense stem first
        for ly in layers:
            dense = ly.conv.out_c * ly.conv.in_c
            assert ly.arrays["weights"][1].size == dense // ly.conv.groups
            assert ly.macs == 15 * dense // ly.conv.groups


def test_a_grouped_pointwise_layer_fused_into_its_depthwise_layer_is_bit_exact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tm_pw_dw_s8 runs its pointwise layer in bands of rows (a copy of its struct): grouped too."""
    fuse_everything(monkeypatch)
    monkeypatch.setattr(emit, "FUSION_CHOICES", ((PW_DW,),))
    steps = build_native(parse_model(_model_bytes("grouped_edges")), "m", "x").steps
    assert [s.layers[0].conv.groups for s in steps if s.kind == "pw_dw"] == [2]
    ours, ref = differential(_write(tmp_path, _model_bytes("grouped_edges")), tmp_path, n=100)
    assert np.array_equal(ours, ref), f"{(ours != ref).any(axis=1).sum()} of {len(ours)} outputs differ"
