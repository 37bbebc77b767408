"""The QR code printed on a certificate.

The QR carries the full verification URL (``{base_url}/v#{token}``). It is
built at error-correction level M with the smallest version that holds the
content, and refused above :data:`MAX_VERSION`: beyond that the modules get
too small to scan reliably from a printed A4 page at the size we print.

The claims are designed (certificate/issuance/claims.py) so that the largest
certificate, with the longest ``IPC_BASE_URL``, needs no more than
:data:`TARGET_VERSION`: at level M, version 18 holds 560 bytes in byte mode.
The name travels as its 39-letter MRZ form and a digest, so names of any
length fit. Version 18 (89 modules) printed 40 mm wide gives modules of
0.45 mm. :data:`MAX_VERSION` leaves room for an installed identity verifier
whose method name (claim ``idm``) is longer than the built-in ones.
"""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

#: Largest QR version a certificate may print.
MAX_VERSION = 20
#: The version the largest certificate with built-in identity methods needs at most (tested).
TARGET_VERSION = 18


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
