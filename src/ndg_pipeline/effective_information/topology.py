"""The layers of a model as a graph: executed modules in order, named by module path, with shapes and ranges.

Built with :mod:`ndg_pipeline.probe` (no hooks of our own): one forward pass records every leaf module in the order
it runs, its input and output shapes. Linear layers are what the measures measure; an elementwise activation module
after a Linear is its output activation and gives its output range; Flatten, Dropout and Identity pass shapes and
ranges through; other layer types (convolutions, pooling, normalisation) are recorded and refused with a clear error
when a measurement asks for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import torch
from torch import nn

from ndg_pipeline.probe import Site, probing

DEFAULT_RANGE: tuple[float, float] = (-10.0, 10.0)
"""Range of a layer input or output that no known activation bounds (deep-ei's convention)."""

RELU_MAX = 10.0
"""Default upper bound of the unbounded activations (ReLU and its relatives), as deep-ei assumes for ReLU."""

PASS_THROUGH: tuple[type[nn.Module], ...] = (nn.Flatten, nn.Dropout, nn.Identity)
IGNORED: tuple[type[nn.Module], ...] = (nn.Dropout, nn.Identity)
"""Modules deep-ei does not hook: range inference looks through them (Flatten, which it hooks, it does not)."""
MEASURED: tuple[type[nn.Module], ...] = (nn.Linear,)


def activation_range(module: nn.Module, relu_max: float = RELU_MAX) -> tuple[float, float] | None:
    """The output range of an elementwise activation module, or None when ``module`` is not one we know."""
    if isinstance(module, nn.Sigmoid):
        return (0.0, 1.0)
    if isinstance(module, nn.Tanh):
        return (-1.0, 1.0)
    if isinstance(module, nn.ReLU | nn.Softplus | nn.ReLU6):
        return (0.0, 6.0) if isinstance(module, nn.ReLU6) else (0.0, relu_max)
    if isinstance(module, nn.GELU):
        return (-0.17, relu_max)  # min of x·Φ(x) is −0.170 at x ≈ −0.75
    if isinstance(module, nn.SiLU):
        return (-0.2785, relu_max)  # min of x·σ(x) is −0.2785 at x ≈ −1.28
    if isinstance(module, nn.LeakyReLU):
        return (-module.negative_slope * relu_max, relu_max)
    return None


def is_activation(module: nn.Module) -> bool:
    """Whether ``module`` is an elementwise activation the topology recognises."""
    return activation_range(module) is not None


@dataclass(frozen=True)
class Step:
    """One executed leaf module: its path, the module, and the shapes (batch dim included) it saw."""

    path: str
    module: nn.Module
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


def _executed_steps(model: nn.Module, inputs: Any) -> list[Step]:
    """Every call of a leaf module of ``model`` in the order one forward pass of ``inputs`` runs it, with its shapes
    (a module called twice, e.g. one activation reused after two Linear layers, gives two steps, as deep-ei's hooks)."""
    leaves = {path: module for path, module in model.named_modules() if path and not list(module.children())}
    pending: dict[str, list[tuple[int, ...]]] = {path: [] for path in leaves}
    steps: list[Step] = []

    def recorder(path: str, stream: str) -> Callable[[torch.Tensor], None]:
        def record(tensor: torch.Tensor) -> None:
            if stream == "input":
                pending[path].append(tuple(tensor.shape))
            else:
                steps.append(Step(path, leaves[path], pending[path].pop(), tuple(tensor.shape)))

        return record

    writes = {Site(path, stream=stream): recorder(path, stream) for path in leaves for stream in ("input", "output")}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), probing(model, writes=writes) as probe:
            probe.forward(inputs)
    finally:
        model.train(was_training)
    return steps


def topology_of(model: nn.Module, input: Any, relu_max: float = RELU_MAX) -> nx.DiGraph:
    """The graph of ``model``'s layers, from one forward pass of ``input`` (with its batch dim, e.g. zeros((1, n))).

    Nodes are module paths, in execution order, chained by edges; each carries ``module``, ``kind``
    ("linear", "pass", "activation" or "unsupported"), ``input`` and ``output`` dicts with ``shape``,
    ``activation`` (module or None) and ``range``. ``graph.graph["steps"]`` keeps the executed order.
    ReLU-like activations are bounded above by ``relu_max``.
    """
    if not list(model.children()):
        model = nn.Sequential(model)  # a bare layer (deep-ei's README example): its node is "0"
    steps = _executed_steps(model, input)
    graph = nx.DiGraph(steps=steps, relu_max=relu_max)
    previous: str | None = None
    for index, step in enumerate(steps):
        module = step.module
        if step.path in graph:  # a module called again: chained in order, its first call's node kept
            graph.add_edge(previous, step.path)
            previous = step.path
            continue
        kind = (
            "linear"
            if isinstance(module, MEASURED)
            else "pass"
            if isinstance(module, PASS_THROUGH)
            else "activation"
            if is_activation(module)
            else "unsupported"
        )
        in_activation = _neighbour_activation(steps, index, -1)
        out_activation = _neighbour_activation(steps, index, +1) if kind != "activation" else None
        graph.add_node(
            step.path,
            module=module,
            kind=kind,
            index=index,
            input={
                "shape": step.input_shape,
                "activation": in_activation,
                "range": _range_of(in_activation, relu_max),
            },
            output={
                "shape": step.output_shape,
                "activation": out_activation,
                "range": _range_of(out_activation, relu_max),
            },
        )
        if previous is not None:
            graph.add_edge(previous, step.path)
        previous = step.path
    return graph


def _neighbour_activation(steps: list[Step], index: int, direction: int) -> nn.Module | None:
    """The activation module next to ``steps[index]`` (before: -1, after: +1), as deep-ei's hooks see it: Dropout
    and Identity (which deep-ei does not hook) are looked through; Flatten is a module to deep-ei, so a Linear
    right after Flatten has no input activation and gets the default range (−10, 10)."""
    position = index + direction
    while 0 <= position < len(steps):
        module = steps[position].module
        if is_activation(module):
            return module
        if not isinstance(module, IGNORED):
            return None
        position += direction
    return None


def _range_of(activation: nn.Module | None, relu_max: float) -> tuple[float, float]:
    """The range an activation bounds, or the default range when there is none."""
    bounds = None if activation is None else activation_range(activation, relu_max)
    return DEFAULT_RANGE if bounds is None else bounds


def node_name(topology: nx.DiGraph, layer: nn.Module | str) -> str:
    """The node of ``layer`` (a module of the model or its path); a clear error naming the measurable layers."""
    if isinstance(layer, str):
        if layer in topology:
            return layer
    else:
        for name, data in topology.nodes(data=True):
            if data["module"] is layer:
                return name
    raise ValueError(
        f"layer {layer if isinstance(layer, str) else type(layer).__name__!r} did not run in the forward pass the "
        f"topology was built from. Measurable layers: {', '.join(linear_layers(topology)) or 'none'}."
    )


def linear_layers(topology: nx.DiGraph) -> list[str]:
    """Paths of the Linear layers, in execution order: the layers the measures can measure."""
    return [name for name, kind in topology.nodes(data="kind") if kind == "linear"]


@dataclass
class LayerMap:
    """The function under test g: the executed modules from ``in_layer`` through ``layer`` and its activation."""

    modules: list[nn.Module]
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    in_range: tuple[float, float]
    out_range: tuple[float, float]

    @property
    def n_in(self) -> int:
        return _product(self.in_shape)

    @property
    def n_out(self) -> int:
        return _product(self.out_shape)


def _product(shape: tuple[int, ...]) -> int:
    result = 1
    for size in shape:
        result *= size
    return result


def layer_map(
    topology: nx.DiGraph,
    layer: nn.Module | str,
    in_layer: nn.Module | str | None = None,
    in_range: tuple[float, float] | None = None,
    out_range: tuple[float, float] | None = None,
    activation: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> LayerMap:
    """g from ``in_layer`` (default ``layer``) to ``layer``, with its shapes and ranges (given, or from the topology).

    ``activation`` overrides the recorded output activation of ``layer``. Every module on the way must be a Linear,
    an elementwise activation or a pass-through module; anything else is refused with the reason.
    """
    for name, value in (("in_range", in_range), ("out_range", out_range)):
        if isinstance(value, str):
            raise ValueError(f"{name}={value!r} is not supported; give a (lower, upper) tuple or None.")
    end, start = node_name(topology, layer), node_name(topology, layer if in_layer is None else in_layer)
    first, last = topology.nodes[start]["index"], topology.nodes[end]["index"]
    if first > last:
        raise ValueError(f"layer {end!r} runs before in_layer {start!r}; in_layer must come first.")
    steps = topology.graph["steps"][first : last + 1]
    for name in (start, end):
        if topology.nodes[name]["kind"] != "linear":
            raise NotImplementedError(
                f"layer {name!r} is a {type(topology.nodes[name]['module']).__name__}: effective information is "
                "measured on Linear layers and chains of Linear layers with elementwise activations (deep-ei's "
                f"convolution support crashes on every layer). Measurable layers: {', '.join(linear_layers(topology))}."
            )
    for step in steps:
        if topology.nodes[step.path]["kind"] == "unsupported":
            raise NotImplementedError(
                f"the chain {start!r} → {end!r} runs {step.path!r} ({type(step.module).__name__}), which is not a "
                "Linear layer, an elementwise activation or Flatten/Dropout/Identity; measure a shorter chain."
            )
    modules = [step.module for step in steps if not isinstance(step.module, nn.Dropout | nn.Identity)]
    end_activation = activation if activation is not None else topology.nodes[end]["output"]["activation"]
    if end_activation is not None:
        modules.append(end_activation)
    return LayerMap(
        modules=modules,
        in_shape=tuple(topology.nodes[start]["input"]["shape"][1:]),
        out_shape=tuple(topology.nodes[end]["output"]["shape"][1:]),
        in_range=tuple(in_range) if in_range is not None else topology.nodes[start]["input"]["range"],
        out_range=tuple(out_range) if out_range is not None else topology.nodes[end]["output"]["range"],
    )
