"""Languages: the registry, the catalogues, and each request's language.

``init_app`` binds Flask-Babel to the catalogues in ``translations/`` and
gives every template ``_()``, the page's ``page_lang`` and ``page_dir``, and
the language switcher's entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from flask import Flask, g, has_app_context, has_request_context, request
from flask_babel import Babel, Domain, force_locale

from certificate.i18n import cldr, words
from certificate.i18n.catalogue import N_, gettext_in, translations
from certificate.i18n.registry import DEFAULT, LANGUAGES, Language, codes, language, supported
from certificate.i18n.registry import is_rtl as is_rtl_language
from certificate.i18n.selection import choose, switch_url

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "Language",
    "codes",
    "country_name",
    "current_language",
    "day",
    "gettext_in",
    "init_app",
    "is_rtl_language",
    "language",
    "supported",
    "translations",
    "use_language",
    "when",
]


class _Catalogue(Domain):
    """Flask-Babel's domain, served from the catalogues compiled in memory."""

    def get_translations(self) -> Any:
        return translations(current_language())


def current_language() -> str:
    """The language of this request or of :func:`use_language` (else English)."""
    if not has_app_context():
        return DEFAULT
    code = g.get("ipc_language")
    if code is None:
        code = choose(request) if has_request_context() else DEFAULT
        g.ipc_language = code
    return str(code)


@contextmanager
def use_language(code: str) -> Iterator[None]:
    """Render in language ``code`` (an e-mail, a PDF) whatever the request's own language."""
    previous = g.get("ipc_language")
    g.ipc_language = supported(code) or DEFAULT
    with force_locale(language(g.ipc_language).locale):
        try:
            yield
        finally:
            g.ipc_language = previous


def country_name(code: str) -> str:
    """Country ``code`` named in the current language (CLDR)."""
    return cldr.country_name(code, current_language())


def day(moment: date | datetime | None) -> str:
    """A date as people read it in the current language: ``17 Apr 2026``, ``17 avr. 2026``."""
    if moment is None:
        return ""
    return cldr.medium_date(
        moment.date() if isinstance(moment, datetime) else moment, current_language()
    )


def when(moment: datetime | None) -> str:
    """A moment in UTC as people read it in the current language: ``17 Apr 2026, 14:03 UTC``."""
    return cldr.date_time_utc(moment, current_language()) if moment else ""


def date_example() -> str:
    """A date field's hint: the fields are day, month and year, with an example in words."""
    from flask_babel import gettext

    example = cldr.long_date(date(1990, 4, 17), current_language())
    return str(gettext("Day, month and year, e.g. %(example)s.", example=example))


def init_app(app: Flask) -> None:
    """Languages for every page, e-mail, PDF and JSON error of ``app``."""
    babel = Babel()
    babel.init_app(
        app, default_locale=DEFAULT, locale_selector=lambda: language(current_language()).locale
    )
    babel.domain_instance = _Catalogue()
    from certificate.i18n.selection import remember_choice

    remember_choice(app)

    app.add_template_global(country_name, "country_name")
    app.add_template_global(day, "day")
    app.add_template_global(when, "when")
    app.add_template_global(date_example, "date_example")
    app.add_template_global(
        lambda status: words.word(words.CHECK_STATUSES, status), "check_status_word"
    )
    app.add_template_global(
        lambda status: words.word(words.CERTIFICATE_STATUSES, status), "certificate_status_word"
    )

    @app.context_processor
    def _language_context() -> dict[str, Any]:
        code = current_language()
        return {
            "page_lang": code,
            "page_dir": language(code).direction,
            "language_links": [
                (entry, switch_url(entry.code), entry.code == code) for entry in LANGUAGES.values()
            ],
        }
