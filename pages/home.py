"""Home: what each part of CNN Explorer teaches, with links."""

from pathlib import Path
from urllib.parse import urlparse

import streamlit as st

from explorer.core import lan
from explorer.core.session import t, through_app

PAGES_DIR = Path(__file__).parent
PARTS = [  # (page file, i18n namespace of its card)
    ("kernels.py", "kernel_lab"),
    ("shapes.py", "shapes"),
    ("backprop.py", "backprop"),
    ("fc.py", "fc"),
    ("train.py", "train"),
    ("builder.py", "builder"),
    ("activations.py", "activations"),
    ("interpret.py", "interpret"),
]


def classroom() -> None:
    """For the projector: the address students type (and its QR code) when this server serves the LAN."""
    with st.expander(t("home.classroom"), icon=":material/qr_code_2:"):
        seen = urlparse(getattr(st.context, "url", None) or "")
        host = seen.hostname if seen.hostname not in (None, "localhost", "127.0.0.1") else lan.lan_address()
        if host is None or not lan.serves_network(st.get_option("server.address")):
            st.info(t("home.classroom_local"))
            return
        url = f"http://{host}:{seen.port or st.get_option('server.port')}"
        c1, c2 = st.columns([1, 2], vertical_alignment="center")
        c1.image(lan.qr_png(url), width=260)
        c2.markdown(t("home.classroom_url", url=url))


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
    classroom()
    st.caption(t("home.footer"))


main()
