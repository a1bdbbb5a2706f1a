"""Locale files agree with each other, and pages show no hard-coded text."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from explorer.core import i18n
from tests.conftest import ROOT

UI_FILES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]

# Streamlit calls whose positional text (or label-like keyword) is shown to the user.
DISPLAY_CALLS = {
    "title", "header", "subheader", "markdown", "write", "caption", "text", "info", "warning",
    "error", "success", "toast", "button", "checkbox", "toggle", "radio", "selectbox",
    "multiselect", "slider", "select_slider", "number_input", "text_input", "text_area",
    "file_uploader", "camera_input", "download_button", "tabs", "expander", "metric",
    "page_link", "link_button", "popover", "form_submit_button", "status", "spinner",
    "progress", "color_picker", "segmented_control", "pills", "Page", "exception",
}
TEXT_KEYWORDS = {"label", "help", "placeholder", "caption", "title", "text", "body"}
WORDS = re.compile(r"[A-Za-z\uac00-\ud7a3]{2,}")


def _namespaces(lang: str) -> dict[str, dict[str, str]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((i18n.LOCALES_DIR / lang).glob("*.json"))}


def test_both_languages_have_the_same_files_and_keys():
    ko, en = _namespaces("ko"), _namespaces("en")
    assert ko.keys() == en.keys()
    for ns in en:
        only_en = en[ns].keys() - ko[ns].keys()
        only_ko = ko[ns].keys() - en[ns].keys()
        assert not only_en and not only_ko, f"{ns}: only en {sorted(only_en)}, only ko {sorted(only_ko)}"


def test_keys_start_with_their_namespace_and_are_not_empty():
    for lang in i18n.LANGUAGES:
        for ns, strings in _namespaces(lang).items():
            for key, text in strings.items():
                assert key.startswith(f"{ns}."), f"{lang}/{ns}.json: {key!r}"
                assert isinstance(text, str) and text.strip(), f"{lang}/{ns}.json: {key!r} is empty"


def test_placeholders_agree_between_languages():
    ko, en = i18n.catalog("ko"), i18n.catalog("en")
    for key, text in en.items():
        assert i18n.placeholders(text) == i18n.placeholders(ko[key]), key


def test_translate_formats_and_falls_back_to_the_key():
    key = next(iter(i18n.catalog("en")))
    assert i18n.translate(key, "ko") == i18n.catalog("ko")[key]
    assert i18n.translate("no.such.key", "ko") == "no.such.key"
    with pytest.raises(ValueError):
        i18n.catalog("fr")


@pytest.mark.parametrize(("locale", "expected"), [
    ("ko", "ko"), ("ko-KR", "ko"), ("ko_KR", "ko"), ("en-US", "en"), ("fr-FR", "en"),
    ("kok-IN", "en"), ("", "en"), (None, "en"),
])
def test_default_language_follows_the_browser(locale, expected):
    assert i18n.default_language(locale) == expected


def test_lecture_terminology_is_used_in_korean():
    korean = " ".join(i18n.catalog("ko").values())
    for term in ["합성곱", "필터", "커널", "패딩", "스트라이드", "풀링", "특징 맵", "역전파"]:
        assert term in korean, term


def _hard_coded_texts(path: Path) -> list[str]:
    """Literal words passed to Streamlit display calls in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in DISPLAY_CALLS:
            continue
        args = list(node.args) + [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        for arg in args:
            found += [f"{path.name}:{c.lineno}: {c.value!r}" for c in _literals(arg)]
    return found


def _literals(node: ast.AST):
    """String constants with words in ``node``, not looking inside ``t(...)`` calls or subscripts."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str) and WORDS.search(node.value):
            yield node
        return
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"t", "translate"}:
        return
    for field, child in ast.iter_fields(node):
        if isinstance(node, ast.Subscript) and field == "slice":
            continue
        for item in child if isinstance(child, list) else [child]:
            if isinstance(item, ast.AST):
                yield from _literals(item)


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.name)
def test_pages_have_no_hard_coded_text(path):
    assert _hard_coded_texts(path) == []


def test_the_hard_coded_text_check_catches_a_literal(tmp_path):
    page = tmp_path / "bad.py"
    page.write_text('import streamlit as st\nst.title("Hello")\nst.button(label=f"Go {1}")\n'
                    'st.markdown(t("ok.key"))\nst.latex(r"O = \\frac{N}{S}")\n')
    assert len(_hard_coded_texts(page)) == 2
