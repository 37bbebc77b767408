"""Names that cannot hide: one stored form, no invisible characters, no mixed-script words.

A certificate that says "No record" for a name must not be obtainable for a
name that merely *looks* like another. So every name is stored in Unicode
NFC, and refused (with a message naming the problem) when it holds:

* a control, format, private-use or surrogate character (Unicode categories
  Cc, Cf, Co, Cs): zero-width spaces, byte-order marks, bidirectional
  overrides and isolates, soft hyphens. The one exception is the zero-width
  joiner and non-joiner (U+200D, U+200C), which Persian, Hindi and other
  scripts need inside words: they are allowed only between two letters or
  marks of a script that uses them;
* a word that mixes scripts the way Unicode's security mechanisms (UTS #39)
  flag, such as a Cyrillic capital IE (U+0415) inside a Latin word. ICU's spoof checker
  decides, at its "moderately restrictive" level: one script per word, or
  Latin with one other script that is not Cyrillic or Greek, or the usual
  Han/Kana/Hangul combinations of Chinese, Japanese and Korean;
* a character that no font of the certificate has: it would print as a box,
  so the name cannot be printed whole on a certificate.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import icu

from certificate.i18n import N_
from certificate.issuance.typesetting import unprintable

#: The message for a name with a character no certificate font has (translated on the form).
UNPRINTABLE = N_(
    "cannot be printed on a certificate: one of its characters is in none of the certificate's fonts"
)
#: Scripts whose words use the zero-width joiner and non-joiner (ICU script names).
JOINING_SCRIPTS = frozenset(
    {
        "Arabic",
        "Syriac",
        "Nko",
        "Mongolian",
        "Devanagari",
        "Bengali",
        "Gurmukhi",
        "Gujarati",
        "Oriya",
        "Tamil",
        "Telugu",
        "Kannada",
        "Malayalam",
        "Sinhala",
        "Khmer",
        "Myanmar",
    }
)
ZWNJ, ZWJ = "\u200c", "\u200d"
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs"})


@lru_cache(maxsize=1)
def _spoof_checker() -> icu.SpoofChecker:
    checker = icu.SpoofChecker()
    checker.setChecks(
        icu.USpoofChecks.RESTRICTION_LEVEL
        | icu.USpoofChecks.INVISIBLE
        | icu.USpoofChecks.MIXED_NUMBERS
    )
    checker.setRestrictionLevel(icu.URestrictionLevel.MODERATELY_RESTRICTIVE)
    return checker


def script_name(char: str) -> str:
    """The ICU name of the script ``char`` belongs to (``Latin``, ``Arabic``, ``Common``...)."""
    return str(icu.Script.getScript(ord(char)).getName())


def _joins_letters(text: str, index: int) -> bool:
    """A ZWJ/ZWNJ at ``index`` sits between two letters or marks of a joining script."""
    if index == 0 or index == len(text) - 1:
        return False
    before, after = text[index - 1], text[index + 1]
    for neighbour in (before, after):
        if unicodedata.category(neighbour)[0] not in "LM":
            return False
    scripts = {script_name(before), script_name(after)} - {"Inherited", "Common"}
    return bool(scripts) and scripts <= JOINING_SCRIPTS


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".strip()


def name_problem(name: str) -> str | None:
    """What makes ``name`` (already in NFC) unsafe to print, or None when it is safe."""
    for index, char in enumerate(name):
        if char in (ZWJ, ZWNJ):
            if not _joins_letters(name, index):
                return (
                    f"contains an invisible joiner ({_describe(char)}) outside a word of a "
                    "script that uses it"
                )
        elif unicodedata.category(char) in _HIDDEN_CATEGORIES:
            return f"contains an invisible or control character ({_describe(char)})"
    for word in name.split():
        if _spoof_checker().check(word):
            return (
                f"mixes writing systems in the word {word!r} in a way that can pass for "
                "another name (for example a Cyrillic letter in a Latin word)"
            )
    if unprintable(name):
        return UNPRINTABLE
    return None


def safe_name(value: str) -> str:
    """``value`` in NFC; ValueError naming the problem when it could hide another name."""
    normalised = unicodedata.normalize("NFC", value)
    problem = name_problem(normalised)
    if problem:
        raise ValueError(problem)
    return normalised
