"""CNN Explorer: the router. Language, projector mode and navigation; each lesson is a page in pages/."""

from pathlib import Path

import streamlit as st

from explorer.core import display, session
from explorer.core.i18n import LANGUAGES
from explorer.core.session import t

PAGES_DIR = Path(__file__).parent / "pages"
ICON = Path(__file__).parent / "explorer" / "assets" / "icon.png"  # shipped: the tab icon needs no network
FILE = "{}.py"  # a page's file in pages/ is named after its URL path
# (URL path, title key, sidebar icon)
PAGES = [
    ("home", "common.nav.home", ":material/home:"),
    ("kernels", "common.nav.kernel_lab", ":material/grid_on:"),
    ("shapes", "common.nav.shapes", ":material/straighten:"),
    ("backprop", "common.nav.backprop", ":material/undo:"),
    ("fc", "common.nav.fc", ":material/hub:"),
    ("train", "common.nav.train", ":material/model_training:"),
    ("builder", "common.nav.builder", ":material/construction:"),
    ("activations", "common.nav.activations", ":material/visibility:"),
    ("interpret", "common.nav.interpret", ":material/psychology:"),
]

if session.LANG_KEY not in st.session_state:
    st.session_state[session.LANG_KEY] = session.lang()
st.sidebar.radio(
    t("common.language"), LANGUAGES, key=session.LANG_KEY, horizontal=True,
    format_func=lambda code: t(f"common.lang_name.{code}"),
)
st.sidebar.toggle(t("common.projector"), key=display.PROJECTOR_KEY, help=t("common.projector_help"))
if st.session_state.get(display.PROJECTOR_KEY):
    st.html(display.PROJECTOR_CSS)

page = st.navigation([st.Page(PAGES_DIR / FILE.format(name), title=t(title), icon=icon, url_path=name,
                              default=(name == "home")) for name, title, icon in PAGES])
st.set_page_config(page_title=f"{page.title} · {t('common.app_title')}", page_icon=str(ICON), layout="wide")
session.app_ran()
page.run()
