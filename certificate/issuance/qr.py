"""The QR code printed on a certificate.

The QR carries the full verification URL (``{base_url}/v#{token}``). It is
built at error-correction level M with the smallest version that holds the
content, and refused above :data:`MAX_VERSION`: beyond that the modules get
too small to scan reliably from a printed A4 page at the size we print.

At level M, version 20 holds at most 666 bytes in byte mode, so with a base
URL like ``http://127.0.0.1:5000`` a base64url token may be at most about
640 characters long. Version 20 (97 modules) printed 40 mm wide gives modules
of 0.41 mm, well above what a phone camera resolves. It was 18 until tokens
carried ``typ: "ipc-cert+jwt"`` (which took the largest allowed certificate
10 bytes past version 18), then 19, and 20 once the claims said how the
holder's identity was confirmed (``idm``, and ``idb`` of up to 32 bytes).
"""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

#: Largest QR version a certificate may print.
MAX_VERSION = 20


def make_qr(content: str) -> qrcode.QRCode:
    """Build the QR code for ``content`` at level M, smallest version that fits.

    The returned code has no quiet zone of its own (``border=0``); whoever
    draws it must leave four modules of white around it.

    Raises:
        ValueError: if ``content`` is empty or needs a version above
            :data:`MAX_VERSION` at level M.
    """
    if not content:
        raise ValueError("QR content is empty")
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(content)
    try:
        qr.make(fit=True)
    except (DataOverflowError, ValueError) as exc:  # beyond version 40
        raise _too_long(content) from exc
    if qr.version > MAX_VERSION:
        raise _too_long(content)
    return qr


def qr_version(qr: qrcode.QRCode) -> int:
    """Return the QR version (1-40) that ``qr`` was built with."""
    return int(qr.version)


def qr_matrix(qr: qrcode.QRCode) -> list[list[bool]]:
    """Return the module matrix of ``qr``, rows top to bottom, True = dark."""
    return [[bool(cell) for cell in row] for row in qr.get_matrix()]


def _too_long(content: str) -> ValueError:
    size = len(content.encode("utf-8"))
    return ValueError(
        f"QR content of {size} bytes does not fit in QR version {MAX_VERSION} "
        "at error correction M (at most 624 bytes); shorten the verification "
        "token"
    )
