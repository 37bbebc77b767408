"""The catalogue: every served language translates every string, with the same placeholders."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from certificate.i18n import DEFAULT, LANGUAGES
from certificate.i18n.catalogue import po_path

ROOT = Path(__file__).resolve().parents[3]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "_l": None}
# %(name)s for gettext, {name} for str.format, and HTML tags kept around a link
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]*\}|</?[a-z]+\b[^>]*>")


def source_messages() -> set[str]:
    """Every string the code and templates mark for translation, as `make translations` finds them."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    for pattern, method in method_map:
        if method == "jinja2":  # a template that does not parse fails here, not silently
            options_map.setdefault(pattern, {})["silent"] = "false"
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        found.update(m for m in ([message] if isinstance(message, str) else message) if m)
    return found


def test_the_sources_mark_the_strings_every_page_shows() -> None:
    messages = source_messages()
    for english in ("Verify a certificate", "Skip to main content", "Valid until"):
        assert english in messages


@pytest.mark.parametrize("code", [code for code in LANGUAGES if code != DEFAULT])
def test_every_language_translates_every_string_with_the_same_placeholders(code: str) -> None:
    with po_path(code).open("rb") as source:
        catalogue = read_po(source)
    translated: set[str] = set()
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(texts):
            continue
        translated.update(sources)
        allowed = {p for english in sources for p in PLACEHOLDER.findall(english)}
        for text in texts:
            found = PLACEHOLDER.findall(text)
            assert set(found) <= allowed, (code, sources[0], text)  # nothing the source lacks
            if len(sources) == 1:  # a singular message keeps every placeholder
                assert sorted(found) == sorted(PLACEHOLDER.findall(sources[0])), (code, text)
    missing = sorted(source_messages() - translated)
    assert not missing, f"{code} lacks {len(missing)} translations, e.g. {missing[:5]}"


def test_the_placeholder_check_catches_a_translation_that_adds_one() -> None:
    english, translation = "Valid until", "Valable jusqu’au %(date)s"
    assert sorted(PLACEHOLDER.findall(translation)) != sorted(PLACEHOLDER.findall(english))


def test_an_edited_catalogue_is_served_within_the_recheck_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalogue is looked up for every message; its file is looked at again for an edit
    once per :data:`RECHECK_SECONDS`, not on every message."""
    from certificate.i18n import catalogue

    clock = [1000.0]
    monkeypatch.setattr(catalogue, "TRANSLATIONS", tmp_path)
    monkeypatch.setattr(catalogue, "_served", {})
    monkeypatch.setattr(catalogue.time, "monotonic", lambda: clock[0])
    source = catalogue.po_path("fr")
    source.parent.mkdir(parents=True)

    def write(translation: str, mtime_ns: int) -> None:
        source.write_text(f'msgid "Hello"\nmsgstr "{translation}"\n', encoding="utf-8")
        os.utime(source, ns=(mtime_ns, mtime_ns))

    write("Bonjour", 10**18)
    assert catalogue.translations("fr").gettext("Hello") == "Bonjour"
    write("Salut", 2 * 10**18)
    clock[0] += catalogue.RECHECK_SECONDS / 2
    assert catalogue.translations("fr").gettext("Hello") == "Bonjour"  # not looked at yet
    clock[0] += catalogue.RECHECK_SECONDS
    assert catalogue.translations("fr").gettext("Hello") == "Salut"
    assert catalogue.translations("en").gettext("Hello") == "Hello"
