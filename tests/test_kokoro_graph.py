"""kokoro_graph.py on a small model quantized the way the Kokoro export is (dynamic uint8
activations and weights, the bias quantized with the activations' run-time scale), run for real
through onnxruntime and compared with the float model it was quantized from."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tinyml.datasets import kokoro_graph

CHANNELS, LENGTH = 16, 300


def _weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"w1": (rng.standard_normal((CHANNELS, CHANNELS, 5)) * 0.2).astype(np.float32),
            "b1": (rng.standard_normal(CHANNELS) * 0.5).astype(np.float32),
            "w2": (rng.standard_normal((CHANNELS, CHANNELS, 3)) * 0.2).astype(np.float32)}


def _model(nodes: list[onnx.NodeProto], constants: dict[str, np.ndarray]) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, CHANNELS, None])
    graph = helper.make_graph(nodes, "block", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in constants.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


CONV1 = {"kernel_shape": [5], "pads": [2, 2]}
CONV2 = {"kernel_shape": [3], "pads": [3, 3], "dilations": [3]}


def _float_model() -> onnx.ModelProto:
    """Conv(k=5, bias) -> LeakyRelu -> dilated Conv(k=3, no bias) + skip: Kokoro's residual blocks."""
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["h"], **CONV1),
             helper.make_node("LeakyRelu", ["h"], ["a"], alpha=0.1),
             helper.make_node("Conv", ["a", "w2"], ["c"], **CONV2),
             helper.make_node("Add", ["c", "x"], ["y"])]
    return _model(nodes, _weights())


def _uint8(w: np.ndarray) -> tuple[np.ndarray, np.float32, np.uint8]:
    scale = np.float32((w.max() - w.min()) / 255)
    zero = np.uint8(round(-float(w.min()) / scale))
    return np.clip(np.round(w / scale) + zero, 0, 255).astype(np.uint8), scale, zero


def _export_model() -> onnx.ModelProto:
    """_float_model as the Kokoro export writes it: DynamicQuantizeLinear -> ConvInteger (+ the
    bias quantized at run time: Reshape(Cast(Floor(Div(bias, scale))))) -> Cast -> Mul(scale)."""
    w = _weights()
    constants: dict[str, np.ndarray] = {"b1": w["b1"], "shape": np.array([1, CHANNELS, 1], np.int64)}
    for name in ("w1", "w2"):
        constants[name + "_q"], constants[name + "_scale"], constants[name + "_zero"] = _uint8(w[name])
    make = helper.make_node
    nodes = [make("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
             make("Mul", ["xs", "w1_scale"], ["s1"]),
             make("ConvInteger", ["xq", "w1_q", "xz", "w1_zero"], ["c1"], **CONV1),
             make("Div", ["b1", "s1"], ["bd"]), make("Floor", ["bd"], ["bf"]),
             make("Cast", ["bf"], ["bi"], to=TensorProto.INT32), make("Reshape", ["bi", "shape"], ["bq"]),
             make("Add", ["c1", "bq"], ["c1b"]), make("Cast", ["c1b"], ["c1f"], to=TensorProto.FLOAT),
             make("Mul", ["c1f", "s1"], ["h"]),
             make("LeakyRelu", ["h"], ["a"], alpha=0.1),
             make("DynamicQuantizeLinear", ["a"], ["aq", "as", "az"]),
             make("Mul", ["as", "w2_scale"], ["s2"]),
             make("ConvInteger", ["aq", "w2_q", "az", "w2_zero"], ["c2"], **CONV2),
             make("Cast", ["c2"], ["c2f"], to=TensorProto.FLOAT), make("Mul", ["c2f", "s2"], ["c"]),
             make("Add", ["c", "x"], ["y"])]
    return _model(nodes, constants)


@pytest.fixture(scope="module")
def models() -> tuple[onnx.ModelProto, onnx.ModelProto]:
    return _float_model(), _export_model()


def _run(model: onnx.ModelProto, x: np.ndarray, outputs: list[str] | None = None) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(outputs, {"x": x})


def _inputs(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((1, CHANNELS, LENGTH)) * rng.uniform(0.5, 2.0)).astype(np.float32) for _ in range(n)]


def test_the_rewrite_finds_the_exports_chains(models: tuple[onnx.ModelProto, onnx.ModelProto]) -> None:
    _, int8 = models
    chains = kokoro_graph.conv_chains(int8.graph)
    assert [c.bias is not None for c in chains] == [True, False]
    assert [c.attributes.get("dilations", [1]) for c in chains] == [[1], [3]]
    assert chains[0].weight.shape == (CHANNELS, CHANNELS, 5)


def test_qlinearconv_model_matches_the_float_model_on_unseen_inputs(
        models: tuple[onnx.ModelProto, onnx.ModelProto]) -> None:
    reference, int8 = models
    probe = kokoro_graph.probe(int8)
    names = [out.name for out in probe.graph.output[1:]]
    calibration = _inputs(1, 8)
    ranges = kokoro_graph.ranges(names, (_run(probe, x, names) for x in calibration))
    fast = kokoro_graph.quantized(int8, ranges)
    ops = {node.op_type for node in fast.graph.node}
    assert "QLinearConv" in ops and "ConvInteger" not in ops
    errors, export_errors, probe_errors = [], [], []
    for x in _inputs(2, 12):  # inputs the calibration never saw, at other levels
        want = _run(reference, x)[0]
        errors.append(np.abs(_run(fast, x)[0] - want).mean() / np.abs(want).mean())
        export_errors.append(np.abs(_run(int8, x)[0] - want).mean() / np.abs(want).mean())
        probe_errors.append(np.abs(_run(probe, x)[0] - want).mean() / np.abs(want).mean())
    assert max(probe_errors) < 0.01, probe_errors  # the probe: float convolutions of the export's weights
    assert max(errors) < 0.04, errors
    assert np.mean(errors) < 2 * np.mean(export_errors) + 0.005  # about as close as the export itself


def test_a_model_without_the_exports_convolutions_is_refused(
        models: tuple[onnx.ModelProto, onnx.ModelProto]) -> None:
    reference, _ = models
    with pytest.raises(kokoro_graph.GraphError, match="no dynamically quantized convolution"):
        kokoro_graph.quantized(reference, {})
