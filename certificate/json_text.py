"""JSON text read as the standard library reads it, a few times faster where that is safe.

orjson reads most JSON several times faster than :func:`json.loads`, and
reads it alike, except where it refuses what the standard library takes (NaN,
a lone surrogate, UTF-16 or UTF-32 text, a byte-order mark) or reads it
otherwise (an integer beyond 64 bits becomes a float). :func:`loads` gives
those to the standard library, so its answer, or its ``ValueError``, is
always :func:`json.loads`'s (``tests/unit/test_json_text.py`` holds the
two alike for any text).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

#: every digit to ``0``: a run of 19 zeros in the translated text is a run of digits that
#: may be an integer beyond 64 bits, which orjson reads as a float (a translation and a
#: search cost a tenth of a regular expression's ``\d{19}`` on a token's body)
_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")
_LONG_RUN = b"0" * 19


def loads(raw: bytes) -> Any:
    """``json.loads(raw)``; raises ``ValueError`` (``json.JSONDecodeError`` or
    ``UnicodeDecodeError``) where it does."""
    if _LONG_RUN not in raw.translate(_DIGITS):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)
