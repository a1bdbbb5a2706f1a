"""Checkpoint files a user might upload that must be refused, each with the i18n key it should get."""

from __future__ import annotations

import io
import pickle

import torch

from explorer.core.models import build_model
from explorer.training import save_checkpoint


class Exploit:
    """Unpickling this would run a command: weights_only loading must refuse it."""

    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /tmp/cnn-explorer-pwned",))


def _state(model: str = "seed_cnn") -> dict[str, torch.Tensor]:
    return build_model(model, generator=torch.Generator().manual_seed(1)).state_dict()


def _pt(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def good() -> bytes:
    return save_checkpoint(_state(), model="seed_cnn")


def bad_checkpoints() -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, expected error key), all for the seed CNN."""
    valid = good()
    wrong_shape = _state()
    wrong_shape["classifier.1.weight"] = torch.zeros(10, 100)
    sparse = _state()
    sparse["classifier.1.weight"] = sparse["classifier.1.weight"].to_sparse()
    doubles = {k: v.double() for k, v in _state().items()}
    nan = _state()
    nan["features.0.weight"][0, 0, 0, 0] = float("nan")
    missing = _state()
    del missing["features.0.bias"]
    return {
        "corrupt": (b"\x00garbage, not a checkpoint" * 40, "train.ckpt.corrupt"),
        "truncated": (valid[: len(valid) // 2], "train.ckpt.corrupt"),
        "empty": (b"", "train.ckpt.corrupt"),
        "wrong_architecture": (save_checkpoint(_state("lenet5"), model="lenet5"), "train.ckpt.other_model"),
        "bare_other_architecture": (_pt(_state("deep_seed_cnn")), "train.ckpt.other_model"),
        "wrong_shape": (_pt(wrong_shape), "train.ckpt.shape"),
        "missing_key": (_pt(missing), "train.ckpt.keys"),
        "sparse": (_pt(sparse), "train.ckpt.sparse"),
        "float64": (_pt(doubles), "train.ckpt.dtype"),
        "nan": (_pt(nan), "train.ckpt.nonfinite"),
        "not_a_dict": (_pt([torch.zeros(3)]), "train.ckpt.not_weights"),
        "pickled_code": (_pt({"state_dict": Exploit()}), "train.ckpt.code"),
        "plain_pickle_code": (pickle.dumps(Exploit(), protocol=2), "train.ckpt.code"),
    }
