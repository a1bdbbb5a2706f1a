"""Home: what each part of CNN Explorer teaches, with links."""

from pathlib import Path

import streamlit as st

from explorer.core.session import t, through_app

PAGES_DIR = Path(__file__).parent
PARTS = [  # (page file, i18n namespace of its card)
    ("kernels.py", "kernel_lab"),
    ("shapes.py", "shapes"),
    ("backprop.py", "backprop"),
    ("train.py", "train"),
    ("activations.py", "activations"),
]


def main() -> None:
    through_app()
    st.title(t("home.title"))
    st.markdown(t("home.intro"))
    columns = st.columns(2)
    for i, (file, part) in enumerate(PARTS):
        with columns[i % 2].container(border=True):
            st.subheader(t(f"common.nav.{part}"))
            st.markdown(t(f"home.teaches.{part}"))
            st.page_link(str(PAGES_DIR / file), label=t("home.open"), icon=":material/arrow_forward:")
    st.caption(t("home.footer"))


main()
