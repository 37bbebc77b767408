"""The languages the service speaks: one entry each, used by every page, e-mail and PDF.

A language is one :class:`Language` here plus one catalogue,
``translations/<code>/LC_MESSAGES/messages.po``. INTERPOL's four official
languages are served; English is the source language of the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Language:
    """One language: its code, its name in itself, its direction and its PDF fonts."""

    code: str
    native_name: str
    direction: Literal["ltr", "rtl"] = "ltr"
    #: Font files (in ``certificate/issuance/fonts``) that print this language's script.
    fonts: tuple[str, ...] = ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf")
    #: The CLDR locale for country names and dates (``en_GB`` writes 17 April 1990).
    cldr: str = ""

    @property
    def locale(self) -> str:
        """The CLDR locale: :attr:`cldr`, else the code itself."""
        return self.cldr or self.code

    @property
    def rtl(self) -> bool:
        """True when the language is written right to left."""
        return self.direction == "rtl"


DEFAULT = "en"

#: Every served language by code, in the order a language switcher lists them.
LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English", cldr="en_GB"),
    "fr": Language("fr", "Français"),
    "es": Language("es", "Español"),
    "ar": Language(
        "ar",
        "العربية",
        "rtl",
        ("NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf", "DejaVuSansCondensed.ttf"),
    ),
}


def codes() -> tuple[str, ...]:
    """The codes of every served language, English first."""
    return tuple(LANGUAGES)


def language(code: str | None) -> Language:
    """The served language ``code`` names (English for anything else)."""
    return LANGUAGES.get((code or "").strip().lower(), LANGUAGES[DEFAULT])


def supported(code: str | None) -> str | None:
    """``code`` in lower case when it names a served language, else None."""
    normalised = (code or "").strip().lower()
    return normalised if normalised in LANGUAGES else None


def is_rtl(code: str) -> bool:
    """True when ``code`` names a language written right to left."""
    return language(code).rtl
