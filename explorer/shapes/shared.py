"""Shared weights drawn (seed 000, "Weight 그려 보기"): a convolution as a sparse layer of edges that reuse
the same K² weights, beside the fully connected layer with one weight per edge.

Input nodes are numbered 1..N² row by row (the slide's "Input 노드 번호"), the filter's weights W1..WK²
row by row, output nodes 1..O² with O = (N − K)/S + 1. For the slide's 5×5 input and 3×3 filter at
stride 1 that is 3×3 = 9 outputs (the slide numbers 16, which would need a 6×6 input). PyTorch checks the
edges (`torch_edges`): with weights 1..K² and a one-hot input, each output shows which weight joins them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from explorer.shapes.sizes import ShapeError, conv_output_size

MAX_INPUT = 7  # the drawing stays readable up to 7×7 = 49 input nodes
MAX_KERNEL = 5


@dataclass(frozen=True)
class Edge:
    """One connection: input node → output node through weight number ``weight`` (all 1-based)."""

    source: int
    target: int
    weight: int


@dataclass(frozen=True)
class Graph:
    """A convolution of an n×n input with a k×k filter, as nodes and edges."""

    n: int
    k: int
    stride: int
    out: int  # output side O
    edges: tuple[Edge, ...]

    @property
    def inputs(self) -> int:
        return self.n * self.n

    @property
    def outputs(self) -> int:
        return self.out * self.out

    @property
    def fc_edges(self) -> int:
        """Edges (= weights) of a fully connected layer between the same nodes."""
        return self.inputs * self.outputs


def conv_layer(n: int = 5, k: int = 3, *, stride: int = 1) -> Graph:
    """The edges of the convolution, output by output, each window row by row; ShapeError if it cannot run."""
    if not 1 <= n <= MAX_INPUT:
        raise ShapeError("shapes.err.shared_size", value=n, limit=MAX_INPUT)
    if not 1 <= k <= MAX_KERNEL:
        raise ShapeError("shapes.err.shared_kernel", value=k, limit=MAX_KERNEL)
    out = conv_output_size(n, k, stride=stride)
    edges = tuple(Edge(source=(r * stride + a) * n + (c * stride + b) + 1, target=r * out + c + 1, weight=a * k + b + 1)
                  for r in range(out) for c in range(out) for a in range(k) for b in range(k))
    return Graph(n, k, stride, out, edges)


@lru_cache(maxsize=128)
def torch_edges(n: int, k: int, *, stride: int = 1) -> frozenset[Edge]:
    """The edges as PyTorch sees them: weights 1..K² (row by row), one-hot inputs, non-zero outputs."""
    weight = torch.arange(1, k * k + 1, dtype=torch.float64).view(1, 1, k, k)
    one_hot = torch.eye(n * n, dtype=torch.float64).view(n * n, 1, n, n)  # input node s+1 lit in image s
    y = F.conv2d(one_hot, weight, stride=stride).view(n * n, -1)  # (inputs, outputs)
    return frozenset(Edge(s + 1, t + 1, int(y[s, t])) for s, t in torch.nonzero(y).tolist())
