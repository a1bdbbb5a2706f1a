"""Safety: pickled code in a checkpoint never runs; no eval/exec/shell; user input never names a file.

The static checks read the source (AST) of app.py, explorer/ and pages/. A new place that touches
the file system must be reviewed and added to FILE_ACCESS with the reason its path is not user input.
"""

from __future__ import annotations

import ast
import io
import os
import pickle
import tomllib
from pathlib import Path

import pytest
import torch

from explorer import training
from explorer.activations import imagenet
from explorer.core import i18n
from explorer.training import checkpoints
from tests.conftest import ROOT

SOURCES = [ROOT / "app.py", *sorted((ROOT / "explorer").rglob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]


class Touch:
    """A pickle that, when loaded, runs ``os.system("touch <marker>")``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _torch_file(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_the_payload_is_real_when_unpickled_naively(tmp_path):
    """Control: plain pickle.loads of the same bytes DOES run the command (so the next test can fail)."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(Touch(marker)))  # noqa: S301 - the point of the control
    assert marker.exists()


@pytest.mark.parametrize("wrap", ["torch_save_dict", "torch_save_bare", "plain_pickle"])
def test_a_checkpoint_carrying_os_system_is_refused_without_running(tmp_path, wrap):
    marker = tmp_path / "pwned"
    payload = Touch(marker)
    data = {"torch_save_dict": lambda: _torch_file({"format": checkpoints.CHECKPOINT_FORMAT, "model": "seed_cnn",
                                                    "state_dict": payload}),
            "torch_save_bare": lambda: _torch_file(payload),
            "plain_pickle": lambda: pickle.dumps(payload, protocol=2)}[wrap]()
    with pytest.raises(training.CheckpointError) as info:
        training.load_checkpoint(data, model="seed_cnn")
    assert info.value.key == "train.ckpt.code"
    assert not marker.exists()


# ---------------------------------------------------------------- static checks

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint"}
FORBIDDEN_MODULES = {"subprocess", "pty", "commands", "marshal", "shelve"}
FORBIDDEN_ATTRS = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execl"), ("os", "spawnl"),
                   ("os", "posix_spawn"), ("pickle", "load"), ("pickle", "loads"), ("pickle", "Unpickler"),
                   ("yaml", "load"), ("dill", "load"), ("dill", "loads")}
PATH_METHODS = {"open", "mkdir", "write_bytes", "write_text", "read_bytes", "read_text", "unlink", "touch", "rmdir",
                "iterdir", "glob", "rglob", "urlopen", "rename"}
# (module, function, call) -> why this otherwise forbidden call is safe there
REVIEWED = {
    ("explorer/core/workers", "unpack", "pickle.loads"): "messages packed by the app's own worker processes on a "
                                                          "private queue, never data from a user",
}
# (module, function) -> why its path is not user input
FILE_ACCESS = {
    ("explorer/activations/inside", "bundled_info"): "packaged asset next to the module",
    ("explorer/activations/inside", "load_state_dict_checked"): "called with the packaged BUNDLED_WEIGHTS only",
    ("explorer/core/data", "_download"): "data folder from $CNN_EXPLORER_DATA (the operator) + torchvision's names",
    ("explorer/core/data", "_fetch_from_mirrors"): "torchvision's mirror URLs and file names",
    ("explorer/core/data", "load_embedded"): "packaged asset",
    ("explorer/core/data", "embedded_counts"): "packaged asset",
    ("explorer/core/i18n", "catalog"): "lang is checked against LANGUAGES before it names a folder",
    ("explorer/activations/imagenet", "download_weights"): "torch hub dir + file name of torchvision's own URL for a known arch",
    ("pages/kernels", "main"): "reads the first packaged sample",
    ("explorer/builder/data", "_decode_members"): "members of the uploaded zip, read in memory (zf.open), not files",
    ("explorer/core/session", "_pad"): "packaged drawing-pad assets next to the module",
    ("explorer/core/workers", "acquire"): "slot lock files: a fixed slot name and index in the run folder",
    ("explorer/core/workers", "busy"): "the same slot lock files, probed",
    ("explorer/core/workers", "run_dir"): "$CNN_EXPLORER_RUN_DIR (the operator) or the system temp folder",
    ("pages/activations", "_photo_tab"): "reads the packaged cat sample",
}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_buffer(node: ast.AST) -> bool:
    """io.BytesIO(...) or a name that holds one (buf, buffer)."""
    return (isinstance(node, ast.Call) and _dotted(node.func).endswith("BytesIO")) or (
        isinstance(node, ast.Name) and node.id in ("buf", "buffer", "data"))


def _violations(path: Path) -> tuple[list[str], set[tuple[str, str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(ROOT).with_suffix("").as_posix()
    bad, files = [], set()
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def where(node: ast.AST) -> str:
        while node in parents and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node = parents[node]
        return node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else "<module>"

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            bad += [f"{rel}:{node.lineno} imports {m}" for m in mods if m.split(".")[0] in FORBIDDEN_MODULES]
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        if ((name in FORBIDDEN_CALLS or tuple(name.rsplit(".", 1)[-2:]) in FORBIDDEN_ATTRS)
                and (rel, where(node), name) not in REVIEWED):
            bad.append(f"{rel}:{node.lineno} calls {name}")
        for kw in node.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                bad.append(f"{rel}:{node.lineno} passes shell=")
        if name == "torch.load" and not any(kw.arg == "weights_only" and isinstance(kw.value, ast.Constant)
                                            and kw.value.value is True for kw in node.keywords):
            bad.append(f"{rel}:{node.lineno} torch.load without weights_only=True")
        file_call = (last in PATH_METHODS and name not in ("Image.open", "PIL.Image.open")) or (
            name in ("torch.load", "torch.save", "np.load", "np.save", "numpy.load", "Image.open")
            and node.args and not _is_buffer(node.args[1 if name.endswith("save") else 0]))
        if name in ("Image.open", "PIL.Image.open") and node.args and not _is_buffer(node.args[0]):
            file_call = True
        if file_call:
            files.add((rel, where(node)))
    return bad, files


def test_no_eval_exec_shell_or_unsafe_unpickling_in_the_app():
    problems = [p for path in SOURCES for p in _violations(path)[0]]
    assert not problems, "\n".join(problems)


def test_every_file_access_is_reviewed():
    found = set().union(*(_violations(path)[1] for path in SOURCES))
    unreviewed = sorted(found - set(FILE_ACCESS))
    assert not unreviewed, f"new file-system access, review it and add it to FILE_ACCESS: {unreviewed}"


def test_the_scanner_catches_what_it_looks_for(tmp_path, monkeypatch):
    """The static checks can fail: a file full of bad patterns is flagged line by line."""
    monkeypatch.setattr("tests.test_safety.ROOT", tmp_path)
    bad = tmp_path / "pages" / "evil.py"
    bad.parent.mkdir()
    bad.write_text("import subprocess, os, pickle, torch\n"
                   "def main(upload):\n"
                   "    eval(upload.name)\n"
                   "    os.system('ls ' + upload.name)\n"
                   "    subprocess.run(upload.name, shell=True)\n"
                   "    pickle.loads(upload.getvalue())\n"
                   "    torch.load(upload)\n"
                   "    open(upload.name, 'wb').write(upload.getvalue())\n")
    problems, files = _violations(bad)
    assert len(problems) == 6, problems
    assert files == {("pages/evil", "main")}


def test_user_chosen_names_cannot_escape_their_folders():
    with pytest.raises(ValueError):
        i18n.catalog("../../../etc/passwd")
    with pytest.raises(ValueError):
        imagenet.weights_path("../../evil")


def test_server_defaults_are_local_only_with_xsrf_and_a_small_upload_cap():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]
    assert config["address"] in ("localhost", "127.0.0.1")
    assert config["enableXsrfProtection"] is True
    assert 0 < config["maxUploadSize"] <= 200  # MB, enforced by Streamlit before any of our code runs


def test_every_uploader_is_capped_and_leaves_refusals_to_the_app():
    """Each st.file_uploader sets its own cap (above the app's own limit, so that just-too-large files get
    the app's translated message) and no ``type=`` filter (Streamlit refuses other files in English)."""
    from explorer.core import images

    calls = [(path.name, node) for path in (ROOT / "pages").glob("*.py")
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and _dotted(node.func).endswith("file_uploader")]
    assert calls
    for name, call in calls:
        keywords = {kw.arg for kw in call.keywords}
        assert "max_upload_size" in keywords and "type" not in keywords, (name, call.lineno)
    assert images.UPLOAD_WIDGET_MB * 2**20 > images.MAX_BYTES


def test_server_does_not_stop_every_session_for_a_full_gc_after_each_rerun():
    """Streamlit's default gc.collect() after each rerun holds the GIL ~0.2 s with torch loaded."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["runner"]
    assert config["postScriptGC"] is False


def test_the_scans_cover_every_wing():
    """Every module of the library is scanned (a flat glob once missed the wings' subfolders)."""
    scanned = {p.relative_to(ROOT).as_posix() for p in SOURCES}
    assert {"explorer/core/workers.py", "explorer/training/checkpoints.py", "explorer/kernels/ops.py"} <= scanned
