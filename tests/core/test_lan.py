"""explorer.core.lan: the classroom address (found without sending anything) and its QR code."""

from __future__ import annotations

import io
import ipaddress

import pytest
from PIL import Image

from explorer.core import lan


def test_the_lan_address_is_a_real_non_loopback_address_or_none():
    address = lan.lan_address()
    assert address is None or not ipaddress.ip_address(address).is_loopback


@pytest.mark.parametrize(("address", "reachable"), [
    ("", True), (None, True), ("0.0.0.0", True), ("192.168.1.10", True),
    ("localhost", False), ("127.0.0.1", False), ("::1", False),
])
def test_which_server_addresses_other_computers_can_reach(address, reachable):
    assert lan.serves_network(address) is reachable


def test_the_qr_code_is_a_black_and_white_png_that_grows_with_its_text():
    small = Image.open(io.BytesIO(lan.qr_png("http://192.168.1.10:8501")))
    large = Image.open(io.BytesIO(lan.qr_png("http://192.168.1.10:8501/" + "kernels?preset=sobel_x" * 8)))
    assert small.format == "PNG" and large.size[0] > small.size[0]
    colours = {c for _, c in small.convert("L").getcolors()}
    assert colours == {0, 255}
