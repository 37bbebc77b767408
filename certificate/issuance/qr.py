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

from dataclasses import dataclass

import zxingcpp

#: Largest QR version a certificate may print.
MAX_VERSION = 20
#: The version the largest certificate with built-in identity methods needs at most (tested).
TARGET_VERSION = 18
#: A symbol's modules, rows top to bottom, True = dark.
QrMatrix = tuple[tuple[bool, ...], ...]
#: The error-correction level: M recovers about 15% of the symbol (a fold, a smudge).
ERROR_CORRECTION = "M"


@dataclass(frozen=True)
class QrCode:
    """A QR symbol: its modules, rows top to bottom (True = dark), without a quiet zone."""

    matrix: QrMatrix
    error_correction: str

    @property
    def version(self) -> int:
        """The QR version (1-40): a version-v symbol is 17 + 4v modules wide."""
        return (len(self.matrix) - 17) // 4


def make_qr(content: str) -> QrCode:
    """Build the QR code for ``content`` at level M, smallest version that fits.

    zxing-cpp encodes (in C++, through libzint): some 0.2 ms against the 35 ms
    of the pure-Python ``qrcode`` package's mask search for a certificate's
    500-byte URL, on every issuance. The tests check that its symbols are the
    standard encoding ``qrcode`` produces for the same content and version.
    The returned code has no quiet zone of its own: whoever draws it must
    leave four modules of white around it.

    Raises:
        ValueError: if ``content`` is empty or needs a version above
            :data:`MAX_VERSION` at level M.
    """
    if not content:
        raise ValueError("QR content is empty")
    try:
        barcode = zxingcpp.create_barcode(
            content, zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_CORRECTION
        )
    except ValueError as exc:  # beyond version 40
        raise _too_long(content) from exc
    # a buffer of one byte a module (the stubs do not declare the buffer protocol)
    modules = memoryview(barcode.to_image(scale=1, add_quiet_zones=False))  # type: ignore[arg-type]
    width = modules.shape[0] if modules.shape else 0
    pixels = modules.tobytes()  # row by row: 0 dark, 255 light
    qr = QrCode(
        matrix=tuple(
            tuple(pixel == 0 for pixel in pixels[row : row + width])
            for row in range(0, width * width, width)
        ),
        error_correction=ERROR_CORRECTION,
    )
    if qr.version > MAX_VERSION:
        raise _too_long(content)
    return qr


def _too_long(content: str) -> ValueError:
    size = len(content.encode("utf-8"))
    return ValueError(
        f"QR content of {size} bytes does not fit in QR version {MAX_VERSION} "
        "at error correction M (at most 624 bytes); shorten the verification "
        "token"
    )
