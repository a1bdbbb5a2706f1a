"""The address students type on a classroom network, and its QR code for the projector.

`lan_address` asks the operating system which local address it would use to reach the local network;
nothing is sent (a UDP socket is only connected, never written to), so it works offline. `qr_png` draws a
QR code with the `qrcode` library (no network either).
"""

from __future__ import annotations

import io
import ipaddress
import socket

import qrcode

PROBE = ("10.255.255.255", 1)  # any address outside this machine: only the route is looked up


def lan_address() -> str | None:
    """This computer's address on its local network (e.g. "192.168.1.10"), or None if it has none."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(PROBE)
            address = s.getsockname()[0]
    except OSError:
        return None
    ip = ipaddress.ip_address(address)
    return None if ip.is_loopback or ip.is_unspecified else address


def serves_network(address: str | None) -> bool:
    """Whether a server bound to ``address`` (Streamlit's ``server.address``) can be reached from other
    computers: an empty or unspecified address means every interface; localhost means this computer only."""
    if not address:
        return True
    try:
        return not ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address not in ("localhost",)


def qr_png(text: str, *, box: int = 10) -> bytes:
    """A QR code of ``text`` as PNG bytes (black on white, with its quiet zone)."""
    code = qrcode.QRCode(border=4, box_size=box, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer)
    return buffer.getvalue()
