"""The app's JSON: Flask's own provider, with compact answers written by orjson.

Every JSON answer (``jsonify``, a view returning a dict, the verification
lane) is written compact, and writing it with the standard library's encoder
is a noticeable share of a verification's CPU. orjson writes the same
document several times faster. What stays Flask's: keys sorted, dates and
datetimes as HTTP dates, dataclasses and ``Decimal`` as Flask writes them
(orjson hands each of those back to Flask's ``default``), and every other
call (``indent=2`` in debug, a caller's own options, anything orjson
refuses, such as an integer beyond 64 bits or a key that is not a string,
which Flask sorts as it was and orjson as text) goes to Flask's provider
unchanged. What differs is spelling only: characters beyond ASCII are
written as UTF-8 rather than ``\\u`` escapes, and a float's exponent
without a leading zero (``1e-7``, not ``1e-07``).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

#: the arguments Flask (and the verification lane) pass for a compact answer
_COMPACT = {"separators": (",", ":")}
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class CompactJSONProvider(DefaultJSONProvider):
    """Flask's default JSON provider; compact documents are written by orjson."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """``obj`` as JSON text: by orjson when compact with Flask's defaults, else as Flask
        writes it."""
        if kwargs == _COMPACT:
            try:
                return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
            except orjson.JSONEncodeError:
                pass  # Flask's encoder says what is wrong (or writes what orjson will not)
        return super().dumps(obj, **kwargs)
