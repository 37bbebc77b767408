"""The message catalogues, compiled from their ``.po`` sources on first use.

The ``.po`` files are package data, and nothing else is: each process
compiles the catalogue of a language the first time it needs it, in memory,
so an editable install, a wheel and a fresh checkout all serve exactly what
the sources say, with no compiled file that could fall out of date.
"""

from __future__ import annotations

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


def translations(code: str) -> NullTranslations:
    """The compiled catalogue of ``code``: the source English for ``en`` or a missing file."""
    if code == DEFAULT:
        return NullTranslations()
    path = po_path(code)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = 0
    return _compiled(path, mtime)


def gettext_in(code: str, message: str, **values: Any) -> str:
    """``message`` translated into ``code``, with ``values`` filled in (``%(name)s``)."""
    text = translations(code).gettext(message)
    return text % values if values else text


def N_(message: str) -> str:  # noqa: N802 - the conventional name extractors look for
    """Mark ``message`` for the catalogue without translating it (translated where shown)."""
    return message
