"""ONNX export of a model and its check against PyTorch with onnxruntime.

Export goes through ``torch.onnx.export(..., dynamo=True)``: the ``torch.export``-based exporter
(it needs ``onnxscript``), the default since PyTorch 2.9. The TorchScript exporter
(``dynamo=False``) still runs on torch 2.13 but warns that it is deprecated and will be removed.
Weights are stored inside the ``.onnx`` file (no ``.onnx.data`` side file), so one file
travels; that holds below the 2 GB protobuf limit, far above flowlearn's models.

``onnx``, ``onnxscript`` and ``onnxruntime`` are optional: ``pip install "flowlearn[onnx]"``.
"""

from __future__ import annotations

import copy
import importlib
import os
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from torch import nn


def _require(module: str, purpose: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"{purpose} needs the optional package {module!r}, which is not installed: "
            'pip install "flowlearn[onnx]"'
        ) from err


def export_onnx(
    model: nn.Module,
    example: torch.Tensor,
    path: str | os.PathLike[str],
    *,
    input_name: str = "x",
    output_name: str = "fields",
    dynamic_batch: bool = True,
    opset: int = 18,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write ``model`` to ``path`` as ONNX, traced on ``example`` (e.g. ``(1, 3, 64, 128)``).

    A copy of the model is exported, in eval mode (dropout off, batch norm on running
    statistics) and in the default memory format; ``model`` itself is left as it was.
    ``dynamic_batch``: the first axis of the input and output is the symbolic dimension
    ``"batch"``, any batch size runs; the other axes keep the example's sizes (a flow surrogate
    is exported for one grid). ``opset`` 18 is a good default for
    onnxruntime >= 1.14. ``metadata``: key-value strings stored in the model's
    ``metadata_props`` (onnxruntime reports them as custom metadata). Returns the path written;
    its parent folder is created if needed.
    """
    onnx = _require("onnx", "ONNX export")
    _require("onnxscript", "ONNX export (torch's dynamo exporter)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dynamic_shapes = ({0: torch.export.Dim("batch")},) if dynamic_batch else None
    # A copy in the default memory format: ONNX has no memory format, and channels-last weights
    # (flowlearn's flow models use them on the CPU) make torch.export specialise the batch
    # size of a batch-1 example, which breaks the dynamic batch axis.
    model = copy.deepcopy(model).to(memory_format=torch.contiguous_format).eval()
    torch.onnx.export(
        model,
        (example,),
        path,
        input_names=[input_name],
        output_names=[output_name],
        opset_version=opset,
        dynamo=True,
        dynamic_shapes=dynamic_shapes,
        external_data=False,
        verbose=False,
    )
    if metadata:
        proto = onnx.load(os.fspath(path))
        onnx.helper.set_model_props(proto, {str(k): str(v) for k, v in metadata.items()})
        onnx.save(proto, os.fspath(path))
    return path


def check_onnx(
    path: str | os.PathLike[str],
    model: nn.Module,
    example: torch.Tensor,
    atol: float = 1e-4,
) -> float:
    """Run the ONNX file at ``path`` with onnxruntime (CPU) on ``example`` and return the largest
    absolute difference to ``model``'s output (the model evaluated in eval mode, its mode
    restored). Raises ``ValueError`` with the figure if it exceeds ``atol`` (1e-4 suits float32
    models of order-one outputs) or is not finite."""
    ort = _require("onnxruntime", "ONNX check")
    session = ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: example.detach().cpu().numpy()}
    onnx_out = session.run(None, feed)[0]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            torch_out = model(example).detach().cpu().numpy()
    finally:
        model.train(was_training)
    if onnx_out.shape != torch_out.shape:
        raise ValueError(
            f"ONNX output shape {onnx_out.shape} differs from PyTorch's {torch_out.shape} "
            f"for input of shape {tuple(example.shape)}"
        )
    diff = float(np.max(np.abs(onnx_out.astype(np.float64) - torch_out.astype(np.float64))))
    if not diff <= atol:
        raise ValueError(
            f"ONNX output of {os.fspath(path)} differs from PyTorch's by {diff:.3g} (max abs), "
            f"above the tolerance atol = {atol:.3g}"
        )
    return diff
