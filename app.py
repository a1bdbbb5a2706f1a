"""CNN Explorer: the router. Page config, language, navigation; each page lives in pages/."""

from pathlib import Path

import streamlit as st

from explorer.core import display, session
from explorer.core.i18n import LANGUAGES
from explorer.core.session import t

PAGES_DIR = Path(__file__).parent / "pages"
# (file in pages/, title key, icon, url path)
PAGES = [
    ("home.py", "common.nav.home", ":material/home:", "home"),
    ("kernel_lab.py", "common.nav.kernel_lab", ":material/grid_on:", "kernels"),
    ("shapes.py", "common.nav.shapes", ":material/straighten:", "shapes"),
    ("backprop.py", "common.nav.backprop", ":material/undo:", "backprop"),
    ("train.py", "common.nav.train", ":material/model_training:", "train"),
    ("activations.py", "common.nav.activations", ":material/visibility:", "activations"),
]

st.set_page_config(page_title="CNN Explorer", page_icon=":material/grid_on:", layout="wide")

if session.LANG_KEY not in st.session_state:
    st.session_state[session.LANG_KEY] = session.lang()
st.sidebar.radio(
    t("common.language"), LANGUAGES, key=session.LANG_KEY, horizontal=True,
    format_func=lambda code: t(f"common.lang_name.{code}"),
)
st.sidebar.toggle(t("common.projector"), key=display.PROJECTOR_KEY, help=t("common.projector_help"))
if st.session_state.get(display.PROJECTOR_KEY):
    st.html(display.PROJECTOR_CSS)

pages = [
    st.Page(PAGES_DIR / file, title=t(title), icon=icon, url_path=url, default=(file == "home.py"))
    for file, title, icon, url in PAGES
]
st.navigation(pages).run()
