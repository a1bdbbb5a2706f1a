"""Checkpoints: `save_checkpoint` / `load_checkpoint`, weights only.

``torch.load(weights_only=True)`` or safetensors, never code; then strict checks of keys, shapes,
dtypes, layout and finiteness against a fresh model of the expected architecture.
"""

from __future__ import annotations

import io
import pickle
import warnings
import zipfile
from typing import Any, Union

import torch

from explorer.core.models import MODELS, build_model
from explorer.training.config import TrainConfig, TrainingError

MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024
CHECKPOINT_FORMAT = "cnn-explorer/1"
CODE_SIGNS = ("Unsupported global", "GLOBAL", "REDUCE", "reduce", "Unsupported class")


class CheckpointError(TrainingError):
    """A checkpoint file that is refused (corrupt, code, wrong architecture, …)."""


# The lectures' CNN names its layers layer1/layer2/fc; accept its state_dict for the seed CNN.
LECTURE_KEYS = {"seed_cnn": {"layer1.0.": "features.0.", "layer2.0.": "features.3.", "fc.": "classifier.1."}}


ModelRef = Union[str, TrainConfig]  # a lecture network's name, or a run's config (a custom table's too)


def _name(model: ModelRef) -> str:
    return model if isinstance(model, str) else model.model


def expected_state(model: ModelRef) -> dict[str, torch.Tensor]:
    """Keys, shapes and dtypes a checkpoint of ``model`` must have (from a fresh instance, or for a layer
    table from `explorer.builder.expected_state`, which allocates nothing)."""
    if isinstance(model, TrainConfig) and model.layers is not None:
        from explorer.builder import expected_state as table_state

        return table_state(list(model.layers), model.input_shape)
    return build_model(_name(model), generator=torch.Generator().manual_seed(0)).state_dict()


def save_checkpoint(state: dict[str, torch.Tensor], *, model: ModelRef) -> bytes:
    """A ``.pt`` file (bytes): ``{"format", "model", "state_dict"[, "layers", "input_shape"]}``, loadable
    with ``weights_only`` (a custom table travels with its weights as plain lists and dicts)."""
    buffer = io.BytesIO()
    saved: dict[str, Any] = {"format": CHECKPOINT_FORMAT, "model": _name(model),
                             "state_dict": {k: v.detach().cpu().contiguous() for k, v in state.items()}}
    if isinstance(model, TrainConfig) and model.layers is not None:
        saved.update(layers=[dict(row) for row in model.layers], input_shape=list(model.input_shape))
    torch.save(saved, buffer)
    return buffer.getvalue()


def load_checkpoint(data: bytes, *, model: ModelRef) -> dict[str, torch.Tensor]:
    """Weights for ``model`` read from ``data`` (.pt or .safetensors bytes), checked; else CheckpointError."""
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError("train.ckpt.too_large", mb=MAX_CHECKPOINT_BYTES // 2**20)
    if len(data) < 8:
        raise CheckpointError("train.ckpt.corrupt")
    raw = _read_safetensors(data) if _looks_like_safetensors(data) else _read_pt(data)
    state = _unwrap(raw, model=model)
    check_state_dict(state, model=model)
    return state


def _looks_like_safetensors(data: bytes) -> bool:
    header = int.from_bytes(data[:8], "little")
    return 0 < header < len(data) and data[8:9] == b"{"


def _read_safetensors(data: bytes) -> dict[str, torch.Tensor]:
    try:
        from safetensors.torch import load
    except ImportError:
        raise CheckpointError("train.ckpt.corrupt") from None
    try:
        return load(data)
    except Exception:
        raise CheckpointError("train.ckpt.corrupt") from None


def _read_pt(data: bytes) -> Any:
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols and sparse checks
            warnings.simplefilter("ignore")
            return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as err:
        if any(sign in str(err) for sign in CODE_SIGNS):  # a class or function it would have to run
            raise CheckpointError("train.ckpt.code") from None
        raise CheckpointError("train.ckpt.corrupt") from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, KeyError,
            AttributeError, TypeError, IndexError, UnicodeDecodeError, MemoryError, OverflowError):
        raise CheckpointError("train.ckpt.corrupt") from None


def _unwrap(raw: Any, *, model: ModelRef) -> dict[str, torch.Tensor]:
    """The state_dict inside a loaded object: ours (with "model") or a bare/lecture state_dict."""
    if not isinstance(raw, dict):
        raise CheckpointError("train.ckpt.not_weights")
    if raw.get("format") == CHECKPOINT_FORMAT and isinstance(raw.get("state_dict"), dict):
        saved_for = raw.get("model")
        if isinstance(saved_for, str) and saved_for != _name(model):
            raise CheckpointError("train.ckpt.other_model", found=saved_for, expected=_name(model))
        raw = raw["state_dict"]
    if not all(isinstance(k, str) for k in raw):
        raise CheckpointError("train.ckpt.not_weights")
    renames = LECTURE_KEYS.get(_name(model), {})
    state = {}
    for key, value in raw.items():
        for old, new in renames.items():
            if key.startswith(old):
                key = new + key[len(old):]
        state[key] = value
    return state


def _architecture_of(keys: set[str]) -> str | None:
    for name in MODELS:
        if set(expected_state(name)) == keys:
            return name
    return None


def check_state_dict(state: Any, *, model: ModelRef) -> None:
    """Refuse anything but dense, finite float tensors with exactly ``model``'s keys and shapes."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError("train.ckpt.not_weights")
    expected = expected_state(model)
    if set(state) != set(expected):
        other = _architecture_of(set(state))
        if other is not None:
            raise CheckpointError("train.ckpt.other_model", found=other, expected=_name(model))
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        raise CheckpointError("train.ckpt.keys", missing=", ".join(missing[:4]) or "-",
                              unexpected=", ".join(unexpected[:4]) or "-")
    for key, want in expected.items():
        got = state[key]
        if got.layout != torch.strided or got.is_sparse or got.is_quantized or got.is_nested:
            raise CheckpointError("train.ckpt.sparse", weight=key)
        if got.dtype != want.dtype:
            raise CheckpointError("train.ckpt.dtype", weight=key, found=str(got.dtype).removeprefix("torch."),
                                  expected=str(want.dtype).removeprefix("torch."))
        if got.shape != want.shape:
            raise CheckpointError("train.ckpt.shape", weight=key, found=tuple(got.shape),
                                  expected=tuple(want.shape))
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise CheckpointError("train.ckpt.nonfinite", weight=key)
