"""The message catalogues, compiled from their ``.po`` sources on first use.

The ``.po`` files are package data, and nothing else is: each process
compiles the catalogue of a language the first time it needs it, in memory,
so an editable install, a wheel and a fresh checkout all serve exactly what
the sources say, with no compiled file that could fall out of date.
"""

from __future__ import annotations

import time
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from certificate.i18n.registry import DEFAULT

#: Where ``<code>/LC_MESSAGES/messages.po`` live.
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"


def po_path(code: str, directory: Path | None = None) -> Path:
    """The catalogue source of language ``code``."""
    return (directory or TRANSLATIONS) / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=32)
def _compiled(path: Path, mtime_ns: int) -> NullTranslations:
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as msgfmt does
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


#: The source English: messages as written.
_SOURCE = NullTranslations()
#: How long a language's catalogue is served before its file is looked at again for an
#: edit. Every message of a page or a certificate asks for its catalogue: a stat each
#: time cost a certificate's layout some 1,000 system calls.
RECHECK_SECONDS = 1.0
_served: dict[str, tuple[float, NullTranslations]] = {}


def translations(code: str) -> NullTranslations:
    """The compiled catalogue of ``code``: the source English for ``en`` or a missing file.

    An edited ``.po`` file is compiled again and served within
    :data:`RECHECK_SECONDS`, without a restart.
    """
    if code == DEFAULT:
        return _SOURCE
    now = time.monotonic()
    served = _served.get(code)
    if served is not None and now - served[0] < RECHECK_SECONDS:
        return served[1]
    path = po_path(code)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = 0
    catalogue = _compiled(path, mtime)
    _served[code] = (now, catalogue)
    return catalogue


def gettext_in(code: str, message: str, **values: Any) -> str:
    """``message`` translated into ``code``, with ``values`` filled in (``%(name)s``)."""
    text = translations(code).gettext(message)
    return text % values if values else text


def N_(message: str) -> str:  # noqa: N802 - the conventional name extractors look for
    """Mark ``message`` for the catalogue without translating it (translated where shown)."""
    return message
