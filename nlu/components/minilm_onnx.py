"""MiniLM's transformer blocks as an ONNX Runtime graph, built in memory from numpy weights.

Why: the Rasa server handles one message at a time on one core, so the CPU a parse takes is what
concurrent patients queue behind. `MiniLMEncoder.run_blocks` in numpy spends ~15 ms on a short
message (each small matmul goes to BLAS separately and every op allocates); ONNX Runtime runs the
same float32 computation with fused kernels in about a third of that (bench/RESULTS.md). The graph
is written here from the block weights the encoder already holds, so there is no exported file,
no torch and nothing to download; the numpy path stays as the reference it is tested against.

Inputs: `x` [batch, length, hidden] (the first block's input) and `mask` [batch, length] (1 for a
real piece, 0 for padding). Outputs: the input of every block after the first, then the last
block's output, each [batch, length, hidden].
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np

OPSET = 17  # LayerNormalization is an ONNX op from 17 on


def available() -> bool:
    """Whether ONNX Runtime and onnx (to write the graph) are installed in this environment."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


class _Graph:
    """Collects nodes and initialisers; names are generated so that callers only pass values."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, value: np.ndarray | float | Sequence[int], stem: str = "c") -> str:
        array = np.asarray(value)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64)
        name = self.name(stem)
        self.initializers.append(self.numpy_helper.from_array(array.copy(order="C"), name))
        return name

    def op(self, op_type: str, *inputs: str, output: str | None = None, **attrs: Any) -> str:
        out = output or self.name(op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def _block(g: _Graph, x: str, bias: str, b: dict[str, Any], heads: int, eps: float) -> str:
    """One BERT layer, exactly as `MiniLMEncoder.run_blocks` computes it."""
    hidden = int(b["out_w"].shape[0])
    head_dim = hidden // heads
    qkv = g.op("Add", g.op("MatMul", x, g.const(b["qkv_w"], "qkv_w")), g.const(b["qkv_b"]))
    qkv = g.op("Reshape", qkv, g.const([0, 0, 3, heads, head_dim]))
    qkv = g.op("Transpose", qkv, perm=[2, 0, 3, 1, 4])  # [3, batch, heads, length, head_dim]
    q, k, v = (g.op("Gather", qkv, g.const(np.array(i)), axis=0) for i in range(3))
    scores = g.op("MatMul", q, g.op("Transpose", k, perm=[0, 1, 3, 2]))
    scores = g.op("Add", g.op("Mul", scores, g.const(np.float32(1.0 / np.sqrt(head_dim)))), bias)
    probs = g.op("Softmax", scores, axis=-1)
    context = g.op("Transpose", g.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    context = g.op("Reshape", context, g.const([0, 0, hidden]))
    attn = g.op("Add", g.op("MatMul", context, g.const(b["out_w"], "out_w")), g.const(b["out_b"]))
    x = _norm(g, g.op("Add", attn, x), b["ln1"], eps)
    inner = g.op("Add", g.op("MatMul", x, g.const(b["in_w"], "in_w")), g.const(b["in_b"]))
    erf = g.op("Erf", g.op("Mul", inner, g.const(np.float32(1.0 / np.sqrt(2.0)))))
    gelu = g.op("Mul", g.op("Mul", inner, g.const(np.float32(0.5))),
                g.op("Add", erf, g.const(np.float32(1.0))))  # fmt: skip
    ff = g.op("Add", g.op("MatMul", gelu, g.const(b["ff_w"], "ff_w")), g.const(b["ff_b"]))
    return _norm(g, g.op("Add", ff, x), b["ln2"], eps)


def _norm(g: _Graph, x: str, params: tuple[np.ndarray, np.ndarray], eps: float) -> str:
    return g.op(
        "LayerNormalization", x, g.const(params[0]), g.const(params[1]), axis=-1, epsilon=eps
    )


def build_model(blocks: Sequence[dict[str, Any]], heads: int, eps: float) -> bytes:
    """The serialised ONNX model of `blocks` (see the module docstring for inputs and outputs)."""
    from onnx import TensorProto, helper

    if not blocks:
        raise ValueError("an ONNX block runner needs at least one block")
    g = _Graph()
    hidden = int(blocks[0]["out_w"].shape[0])
    # Padding gets a large negative score, as in run_blocks: (1 - mask) * -1e9 as [batch, 1, 1, L].
    keep = g.op("Sub", g.const(np.float32(1.0)), "mask")
    bias = g.op("Unsqueeze", g.op("Mul", keep, g.const(np.float32(-1e9))), g.const([1, 2]))
    x, outputs = "x", []
    for n, block in enumerate(blocks):
        x = _block(g, x, bias, block, heads, eps)
        outputs.append(g.op("Identity", x, output=f"out_{n}"))
    shape = ["batch", "length", hidden]
    graph = helper.make_graph(
        g.nodes,
        "minilm_blocks",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, shape),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "length"]),
        ],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, shape) for o in outputs],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # readable by every ONNX Runtime from 1.10 on
    return bytes(model.SerializeToString())


class BlockRunner:
    """An ONNX Runtime session over a fixed list of blocks; created once, reused per message."""

    def __init__(
        self, blocks: Sequence[dict[str, Any]], heads: int, eps: float, threads: int = 0
    ) -> None:
        """`threads` 0 lets ONNX Runtime use every core (training); the server passes 1."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(0, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: its warnings are about graph rewrites
        self.session = ort.InferenceSession(
            build_model(blocks, heads, eps), options, providers=["CPUExecutionProvider"]
        )
        self.blocks = list(blocks)  # keeps the weights (and so the cache key's ids) alive

    def __call__(self, x: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        """Every block's output for x [batch, length, hidden] and mask [batch, length]."""
        feed = {
            "x": np.ascontiguousarray(x, dtype=np.float32),
            "mask": np.ascontiguousarray(mask, dtype=np.float32),
        }
        return list(self.session.run(None, feed))
