"""The house rules (README, "For developers"), checked on the source: core imports no wing, a wing uses
another wing only through its face, faces hold names only, only core.session imports Streamlit, no
import cycles, and every module has its test file."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "explorer"
WINGS = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists() and p.name != "core")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            found += [f"{node.module}.{a.name}" for a in node.names]
    return found


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _wing_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "explorer" else None


def test_there_are_wings_and_a_core():
    assert (PACKAGE / "core" / "__init__.py").exists()
    assert {"kernels", "shapes", "backprop", "training", "activations"} <= set(WINGS)
    assert not [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"], "modules directly in explorer/"


def test_core_imports_no_wing():
    bad = [f"{_module_name(p)} imports {m}" for p in (PACKAGE / "core").glob("*.py") for m in _imports(p)
           if _wing_of(m) in WINGS]
    assert not bad, bad


def test_a_wing_uses_another_wing_only_through_its_face():
    bad = []
    for path in _sources():
        own = _wing_of(_module_name(path))
        for m in _imports(path):
            other = _wing_of(m)
            if other in WINGS and other != own and m.count(".") > 1 and not _is_face_name(m):
                bad.append(f"{_module_name(path)} imports {m}")
    assert not bad, bad


def _is_face_name(module: str) -> bool:
    """``explorer.kernels.PRESETS`` (a name on the face) rather than ``explorer.kernels.ops``."""
    wing, name = module.split(".")[1:3]
    return not (PACKAGE / wing / f"{name}.py").exists() and not (PACKAGE / wing / name).is_dir()


@pytest.mark.parametrize("wing", WINGS)
def test_a_face_holds_names_only(wing):
    tree = ast.parse((PACKAGE / wing / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        is_all = isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__all__"]
        assert is_doc or is_all or isinstance(node, ast.ImportFrom), f"{wing}/__init__.py line {node.lineno}"


def test_only_core_session_imports_streamlit():
    users = {_module_name(p) for p in _sources() if any(m.split(".")[0] == "streamlit" for m in _imports(p))}
    assert users == {"explorer.core.session"}


def test_no_import_cycles_between_modules():
    modules = {_module_name(p): p for p in _sources()}
    graph = defaultdict(set)
    for name, path in modules.items():
        graph[name] = {m for m in _imports(path) if m in modules and m != name and not name.startswith(m + ".")}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                pytest.fail(" -> ".join(trail[trail.index(nxt):] + [node, nxt]) if nxt in trail else f"{node} -> {nxt}")
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for name in modules:
        if name not in state:
            visit(name, [])


def test_every_module_has_its_test_file():
    missing = [str(p.relative_to(ROOT)) for p in _sources()
               if p.name != "__init__.py" and p.parent.name != "explorer"
               and not (ROOT / "tests" / p.parent.name / f"test_{p.stem}.py").exists()]
    assert not missing, f"no tests/<wing>/test_<module>.py for: {missing}"


def test_the_checker_sees_a_broken_rule(tmp_path):
    """The import scan can fail: a core module importing a wing's private module is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from explorer.kernels.ops import PRESETS\nimport streamlit as st\n")
    found = _imports(bad)
    assert "explorer.kernels.ops" in found and not _is_face_name("explorer.kernels.ops")
    assert _is_face_name("explorer.kernels.PRESETS") and "streamlit" in found
