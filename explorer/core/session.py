"""The one module of `explorer` that touches Streamlit: per-session state and the current language."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import streamlit as st

from explorer.core import links, workers
from explorer.core.i18n import LANGUAGES, default_language, translate

T = TypeVar("T")
LANG_KEY = "lang"
APP_RAN_KEY = "app.ran"  # set by app.py: this session's runs go through the router
JOBS_KEY = "core.jobs"  # this session's background jobs and their results (explorer.core.workers.Results)
POLL_S = 0.5  # a running job's progress bar is refreshed this often
PAD_ASSETS = Path(__file__).parents[1] / "assets" / "pad"
Stroke = list[list[int]]  # [[x, y], ...] in pad pixels


def lang() -> str:
    """The session's language: the selector's choice, else the browser's locale."""
    chosen = st.session_state.get(LANG_KEY)
    if chosen in LANGUAGES:
        return chosen
    try:
        locale = st.context.locale
    except Exception:  # no browser context (bare script, some test harnesses)
        locale = None
    return default_language(locale)


def t(key: str, /, **kwargs: Any) -> str:
    """Translate ``key`` into the session's language."""
    return translate(key, lang(), **kwargs)


def projector() -> bool:
    """Whether this session has projector mode on (sidebar toggle in app.py)."""
    from explorer.core import display

    return bool(st.session_state.get(display.PROJECTOR_KEY))


def chart(container: Any, fig: Any, **kwargs: Any) -> Any:
    """Draw a plotly ``fig`` in ``container`` (``st`` or a column) in this session's display style; returns
    Streamlit's selection event when ``on_select`` is given (a clicked point)."""
    from explorer.core import display, figures

    fig = display.apply(fig, display.style(projector=projector()))
    if figures.checking():  # the test suite: the unvalidated figure must be what validation would make
        figures.check(fig)
    return container.plotly_chart(fig, **kwargs)


def get(key: str, factory: Callable[[], T]) -> T:
    """This session's object under ``key``, created by ``factory`` on first use."""
    if key not in st.session_state:
        st.session_state[key] = factory()
    return st.session_state[key]


def widget_key(key: str, language: str | None = None) -> str:
    """The key of the widget that shows the choice kept under ``key``, in ``language`` (default: the session's)."""
    return f"{key}[{language or lang()}]"


def choice(kind: str, label: str, options: Sequence[T], *, key: str, format: Callable[[T], str] | None = None,
           default: T | None = None, where: Any = None, on_change: Callable[[], None] | None = None,
           **kwargs: Any) -> T:
    """An option widget whose choice is kept as an *id* under ``st.session_state[key]``, never as a label.

    ``kind`` is "selectbox", "radio", "segmented_control", "pills" or "select_slider"; ``format`` gives an
    option's translated text (called now, in this run's language). Streamlit matches a widget's value to
    its options by the formatted label, so after a language switch the browser's old label matches no
    option and the page fails on the next click. Here the widget is keyed per language (`widget_key`):
    a switch makes a fresh widget that starts from the id under ``key``, and a change writes the id back.
    Code may set ``st.session_state[key]`` to an option before the widget runs; the widget follows.
    """
    options = list(options)
    fallback = default if default in options else options[0]
    chosen = st.session_state.get(key, fallback)
    if chosen not in options:
        chosen = fallback
    st.session_state[key] = chosen
    wkey = widget_key(key)
    if st.session_state.get(wkey) != chosen:
        st.session_state[wkey] = chosen
    texts = {o: (format(o) if format else str(o)) for o in options}  # fixed now: AppTest formats later

    def changed() -> None:
        value = st.session_state.get(wkey)
        if value is not None:  # a segmented control clicked off keeps the last choice
            st.session_state[key] = value
        if on_change is not None:
            on_change()

    widget = getattr(where if where is not None else st, kind)
    widget(label, options, key=wkey, format_func=texts.__getitem__, on_change=changed, **kwargs)
    return st.session_state[key]


def tabs(ids: Sequence[str], *, key: str, format: Callable[[str], str]) -> dict[str, Any]:
    """Tabs by id whose closed tabs need not run: ``if tabs[id].open: with tabs[id]: ...``.

    The open tab is kept as an id under ``key`` and the widget keyed per language, as in `choice`, so the
    same tab stays open after a language switch; code may set ``st.session_state[key]`` to open one.
    """
    ids = list(ids)
    chosen = st.session_state.get(key)
    if chosen not in ids:
        chosen = st.session_state[key] = ids[0]
    labels = {i: format(i) for i in ids}
    by_label = {text: i for i, text in labels.items()}
    wkey = widget_key(key)
    if st.session_state.get(wkey) != labels[chosen]:
        st.session_state[wkey] = labels[chosen]

    def changed() -> None:
        st.session_state[key] = by_label.get(st.session_state.get(wkey), chosen)

    return dict(zip(ids, st.tabs(list(labels.values()), key=wkey, on_change=changed)))


def run_job(key: Any, fn: Callable[..., Any], *args: Any, store: workers.Results | None = None,
            **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` computed once in a worker process (`workers.Job`) and kept under ``key``
    (hashable) in this session's results, or in ``store`` (shared by all sessions of this server).

    Returns the result; None meanwhile (a progress bar shows, and the page reruns when the job ends) or
    when it failed (the reason shows, translated, with a button to try again).
    """
    results = store if store is not None else get(JOBS_KEY, workers.Results)
    entry = results.ask(key, fn, *args, **kwargs)
    if isinstance(entry, workers.Job):
        entry = results.settle(key, entry)
        if not entry.done:
            name = f"job.{abs(hash(key)):x}"
            st.fragment(run_every=POLL_S, key=name)(_follow)(results, key)
            return None
    problem = workers.problem(entry)
    if problem is None:
        return entry.result
    st.warning(t(*problem[:1], **problem[1]))
    st.button(t("common.job.retry"), key=f"job.{abs(hash(key)):x}.retry", on_click=results.forget, args=(key,),
              icon=":material/refresh:")
    return None


def _follow(results: workers.Results, key: Any) -> None:
    entry = results.get(key)
    state = results.settle(key, entry) if isinstance(entry, workers.Job) else entry
    if state is None or state.done:
        st.rerun()  # one full run draws the result and ends the polling
    text = t("common.job.queued") if state.queued else t("common.job.running", percent=f"{state.progress:.0%}")
    st.progress(state.progress, text=text)


@cache
def _pad() -> Any:
    """The drawing pad component (registered once per process; its files ship in explorer/assets/pad)."""
    return st.components.v2.component("cnn_explorer.drawing_pad", html="<canvas></canvas>",
                                      js=(PAD_ASSETS / "pad.js").read_text(encoding="utf-8"),
                                      css=(PAD_ASSETS / "pad.css").read_text(encoding="utf-8"))


def drawing_pad(*, key: str, label: str, size: int = 280, width: int = 20) -> list[Stroke]:
    """A square pad to draw on (black ink on white); returns this session's strokes, kept under ``key``.

    A finished stroke reaches Python in the component's callback, before the script runs, so the pad is
    drawn with it at once. The page's own (translated) buttons undo or clear by editing the list.
    """
    strokes: list[Stroke] = st.session_state.setdefault(key, [])

    def stroke_done() -> None:
        result = st.session_state.get(f"{key}.pad")
        stroke = result.get("stroke") if hasattr(result, "get") else getattr(result, "stroke", None)
        if isinstance(stroke, list) and stroke and all(isinstance(p, list) and len(p) == 2 for p in stroke):
            strokes.append([[int(v) for v in p] for p in stroke[:10_000]])  # at most 10,000 points a stroke

    _pad()(data={"size": size, "width": width, "strokes": strokes, "label": label}, key=f"{key}.pad",
           on_stroke_change=stroke_done, width="content", height="content")
    return strokes


def app_ran() -> None:
    """Called by app.py before it runs the page: this session is routed by app.py."""
    st.session_state[APP_RAN_KEY] = True


def through_app() -> None:
    """Call first on every page: make sure the page runs inside app.py (language, sidebar, projector mode).

    A freshly started server serves its first visitor in Streamlit's legacy ``pages/`` mode, which runs the
    page file named in the URL (a teacher's deep link such as ``/kernels``) without app.py, and stays in
    that mode until app.py's ``st.navigation`` has run once. Such a run switches Streamlit to app.py's
    routing (the flag ``st.navigation`` itself clears) and starts over at once. Pages run on their own
    (the tests' AppTest) are left alone: there app.py is not the main script.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    main = Path(ctx.main_script_path).name if ctx is not None else ""
    if main == "app.py" and not st.session_state.get(APP_RAN_KEY):
        PagesManager.uses_pages_directory = False  # what app.py's st.navigation would have set
        st.rerun()


def lesson_link(fields: Sequence[links.Field], *, page: str) -> set[str]:
    """This page's settings from its URL, and a "copy link to this view" button; returns the session keys
    the URL set in this run (a page may act on them: a linked preset loads its table).

    The first run with a new query string applies it (each value checked: a bad or hostile one is named in
    the user's language and the page keeps its default), then clears the URL, so the session's own
    choices take over. The button shows the link to the current settings, ready to copy.
    """
    params = {name: st.query_params.get(name) for name in st.query_params}
    values: dict[str, Any] = {}
    if params:
        values, problems = links.parse(fields, params)
        st.session_state.update(values)
        st.session_state[f"links.problems.{page}"] = problems
        st.query_params.clear()
    for name, err in st.session_state.pop(f"links.problems.{page}", []):
        st.warning(t("common.link.bad", name=name, reason=t(err.key, **err.params)))
    base = getattr(st.context, "url", None) or ""
    with st.popover(t("common.link.copy"), icon=":material/link:"):
        st.caption(t("common.link.help"))
        st.code(f"{base}?{links.query(fields, st.session_state)}", language=None, wrap_lines=True)
    return set(values)
