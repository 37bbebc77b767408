"""The Latin form of a name: as the identity document's machine-readable zone writes it.

A certificate names its holder in the script the holder filed (``Ольга``,
``محمد``) and beside it in Latin letters, as the passport's machine-readable
zone (MRZ) writes the name, because that is the form border officers,
employers abroad and most agencies can read and compare with a document.

The applicant may give that Latin form (``applicant.latin_name``). When they
do not, and the name is not in Latin script already, it is derived:

* Cyrillic by ICAO Doc 9303's own table (Part 3, section 6), as the
  ``iuliia`` library implements it for Russian, then ICU for the letters of
  other Cyrillic alphabets;
* Greek, Armenian, Georgian, the Indic scripts, Japanese kana and Ethiopic by
  ICU's transliterators (``Any-Latin``), which follow the ISO and UNGEGN
  systems those countries' documents use.

Some scripts have no derivation an applicant can rely on to match their
document, so the service asks for the Latin form instead of guessing
(:class:`NoReliableLatinForm`): abjads that leave vowels unwritten (Arabic,
Hebrew, Syriac, Thaana), Han characters (read differently in Chinese,
Japanese and Korean), and scripts whose passports follow no transliteration
(Hangul, Thai, Lao, Khmer, Myanmar...).

:func:`mrz_name` writes a name as the TD3 (passport) MRZ's name field does:
``FAMILY<<GIVEN<NAMES``, letters A-Z only, at most 39 characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import icu
import iuliia

from certificate.applications.names import script_name

#: Scripts whose names are derived into Latin letters without asking (ICU script names).
DERIVABLE_SCRIPTS = frozenset(
    {
        "Latin",
        "Cyrillic",
        "Greek",
        "Armenian",
        "Georgian",
        "Devanagari",
        "Bengali",
        "Gurmukhi",
        "Gujarati",
        "Oriya",
        "Tamil",
        "Telugu",
        "Kannada",
        "Malayalam",
        "Hiragana",
        "Katakana",
        "Ethiopic",
    }
)
#: Length of the TD3 (passport) MRZ's name field (ICAO Doc 9303 Part 4).
MRZ_NAME_LENGTH = 39
#: What a Latin form may hold: letters of the Latin script (with their accents), spaces,
#: hyphens and apostrophes, as the visual zone of a travel document writes names.
_LATIN_PUNCTUATION = frozenset(" -'\u2019")
_NOT_MRZ = re.compile(r"[^A-Z]+")


class NoReliableLatinForm(ValueError):
    """The name's script has no derivation into Latin letters that would match a document."""


@dataclass(frozen=True)
class LatinName:
    """A name in Latin letters: family name and given names."""

    family_name: str
    given_names: str


def scripts_of(text: str) -> set[str]:
    """The scripts of the letters in ``text`` (marks, digits and punctuation left out)."""
    return {script_name(char) for char in text if unicodedata.category(char).startswith("L")} - {
        "Common",
        "Inherited",
    }


def is_latin(text: str) -> bool:
    """True when every letter of ``text`` is in the Latin script."""
    return scripts_of(text) <= {"Latin"}


def latin_form_problem(text: str) -> str | None:
    """Why ``text`` cannot be a Latin form of a name, or None when it can."""
    for char in text:
        category = unicodedata.category(char)
        if category.startswith("L"):
            if script_name(char) != "Latin":
                return (
                    f"must be written in Latin letters ({_describe(char)} is not): "
                    "as the machine-readable zone of the identity document writes it"
                )
        elif category.startswith("M"):
            continue  # accents on Latin letters, in NFD input
        elif char not in _LATIN_PUNCTUATION:
            return (
                f"may hold only Latin letters, spaces, hyphens and apostrophes "
                f"({_describe(char)} is not one)"
            )
    if not any(unicodedata.category(char).startswith("L") for char in text):
        return "must hold at least one letter"
    return None


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".strip()


@lru_cache(maxsize=1)
def _to_latin() -> icu.Transliterator:
    return icu.Transliterator.createInstance("Any-Latin; Latin-ASCII")


def _derive_one(text: str) -> str:
    # ICAO's table for the Russian letters of a Cyrillic word, then ICU for what is left
    words = (
        iuliia.ICAO_DOC_9303.translate(word) if "Cyrillic" in scripts_of(word) else word
        for word in text.split()
    )
    return " ".join(str(_to_latin().transliterate(word)) for word in words)


def derive_latin_name(family_name: str, given_names: str) -> LatinName | None:
    """The Latin form of a name, derived; None when the name is in Latin script already.

    Raises:
        NoReliableLatinForm: a script of the name has no reliable derivation
            (see :data:`DERIVABLE_SCRIPTS`); the applicant must give the Latin form.
    """
    scripts = scripts_of(family_name + given_names)
    if scripts <= {"Latin"}:
        return None
    unreliable = sorted(scripts - DERIVABLE_SCRIPTS)
    if unreliable:
        raise NoReliableLatinForm(
            f"a name in {', '.join(unreliable)} script has no reliable Latin form: write it as "
            "the machine-readable zone of your identity document does"
        )
    derived = LatinName(_derive_one(family_name), _derive_one(given_names))
    for part in (derived.family_name, derived.given_names):
        if part and latin_form_problem(part):  # pragma: no cover - ICU left a letter unmapped
            raise NoReliableLatinForm("part of the name has no Latin form")
    return derived


def _mrz_part(text: str) -> str:
    ascii_text = str(_to_latin().transliterate(text)).upper()
    ascii_text = ascii_text.replace("'", "").replace("\u2019", "")  # ICAO: apostrophes omitted
    return _NOT_MRZ.sub("<", ascii_text).strip("<")


def mrz_name(family_name: str, given_names: str) -> str:
    """The name as a TD3 MRZ's name field writes it: ``FAMILY<<GIVEN<NAMES``.

    Letters A-Z only (accents dropped, ``ß`` as ``SS``, apostrophes omitted), spaces and
    hyphens as ``<``; cut at :data:`MRZ_NAME_LENGTH` characters (given names first, as ICAO
    truncates), without the trailing fillers the printed zone pads with.
    """
    family, given = _mrz_part(family_name), _mrz_part(given_names)
    field = f"{family}<<{given}" if given else family
    return field[:MRZ_NAME_LENGTH].rstrip("<")
