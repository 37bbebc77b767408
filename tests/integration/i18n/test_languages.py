"""Each request's language: ?lang= then its cookie, the account, Accept-Language, English."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from flask import Flask
from flask.testing import FlaskClient

from certificate.i18n import catalogue, gettext_in, registry
from certificate.i18n.selection import COOKIE
from tests.conftest import csrf_token_of

PASSWORD = "correct horse battery"


def html_lang(client: FlaskClient, url: str, **headers: str) -> str:
    html = client.get(url, headers=headers).get_data(as_text=True)
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def test_lang_is_remembered_in_a_cookie_and_beats_accept_language(client: FlaskClient) -> None:
    response = client.get("/login?lang=fr", headers={"Accept-Language": "es"})
    assert '<html lang="fr" dir="ltr">' in response.get_data(as_text=True)
    assert f"{COOKIE}=fr" in response.headers["Set-Cookie"]
    assert "Accept-Language" in response.headers["Vary"]
    # the next page, with no ?lang=, stays in French
    assert html_lang(client, "/signup", **{"Accept-Language": "es"}) == "fr"
    assert html_lang(client, "/v?lang=ar") == "ar"
    assert html_lang(client, "/") == "ar"


def test_accept_language_then_english(client: FlaskClient) -> None:
    assert html_lang(client, "/", **{"Accept-Language": "de-DE, es-MX;q=0.9, fr;q=0.5"}) == "es"
    assert html_lang(client, "/", **{"Accept-Language": "de, ja"}) == "en"
    assert html_lang(client, "/") == "en"
    assert html_lang(client, "/?lang=xx") == "en"  # not served: ignored


def test_the_account_language_follows_the_user_to_another_browser(
    app: Flask, client: FlaskClient
) -> None:
    page = client.get("/signup?lang=es").get_data(as_text=True)
    client.post(
        "/signup",
        data={
            "csrf_token": csrf_token_of(page),
            "name": "Lucía Pérez",
            "email": "lucia@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    from certificate.auth.models import User
    from certificate.db import db

    with app.app_context():
        user = db.session.query(User).filter_by(email="lucia@example.org").one()
        assert user.language == "es"
    # a new browser, no cookie, an English Accept-Language: the account's Spanish wins
    other = app.test_client()
    page = other.get("/login").get_data(as_text=True)
    other.post(
        "/login",
        data={
            "csrf_token": csrf_token_of(page),
            "email": "lucia@example.org",
            "password": PASSWORD,
        },
    )
    assert html_lang(other, "/applications", **{"Accept-Language": "en"}) == "es"
    # choosing Arabic while signed in changes the account's language
    other.get("/applications?lang=ar")
    with app.app_context():
        assert db.session.query(User).filter_by(email="lucia@example.org").one().language == "ar"


def test_json_errors_follow_accept_language_and_keep_their_codes(client: FlaskClient) -> None:
    client.get("/v?lang=fr")  # a cookie does not change an API answer
    english = client.post("/api/v1/tokens", json={"email": "x@example.org", "password": "nope"})
    arabic = client.post(
        "/api/v1/tokens",
        json={"email": "x@example.org", "password": "nope"},
        headers={"Accept-Language": "ar"},
    )
    assert english.status_code == arabic.status_code == 401
    assert english.get_json()["error"]["code"] == arabic.get_json()["error"]["code"]
    message = english.get_json()["error"]["message"]
    assert message.startswith("The e-mail")
    assert arabic.get_json()["error"]["message"] == gettext_in("ar", message)
    assert arabic.get_json()["error"]["message"].startswith("البريد الإلكتروني")
    spanish = client.post(
        "/api/v1/accounts", json={"email": "nope"}, headers={"Accept-Language": "es"}
    )
    assert spanish.status_code == 400
    assert spanish.get_json()["error"]["message"].startswith("Algunos campos no son válidos: ")
    assert "email" in spanish.get_json()["error"]["fields"]


def test_the_switcher_offers_every_language_on_every_page(client: FlaskClient) -> None:
    html = client.get("/v?lang=es").get_data(as_text=True)
    for entry in registry.LANGUAGES.values():
        assert f'lang="{entry.code}" hreflang="{entry.code}"' in html
        assert entry.native_name in html
    assert 'href="/v?lang=ar"' in html
    assert 'aria-current="true">Español' in html


def _pseudo(text: str) -> str:
    """Accented, bracketed English: visibly translated, placeholders and tags untouched."""
    out, depth = [], 0
    for char in text:
        depth += char in "<{("
        out.append(char if depth else char.translate(str.maketrans("aeiouAEIOU", "àéîõüÀÉÎÕÜ")))
        depth -= char in ">})" and depth > 0
    return "⟦" + "".join(out) + "⟧"


def test_a_new_language_is_one_po_file_and_one_registry_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: FlaskClient
) -> None:
    translations = tmp_path / "translations"
    shutil.copytree(catalogue.TRANSLATIONS, translations)
    with catalogue.po_path("fr").open("rb") as source:
        french = read_po(source)
    pseudo = Catalog(locale="en")
    for message in french:
        if isinstance(message.id, tuple):  # a plural: both forms, pseudo-translated
            pseudo.add(message.id, tuple(_pseudo(str(form)) for form in message.id))
        elif message.id:
            pseudo.add(message.id, _pseudo(str(message.id)))
    target = catalogue.po_path("qps", translations)
    target.parent.mkdir(parents=True)
    with target.open("wb") as sink:
        write_po(sink, pseudo)
    # the two steps: a catalogue file, and one entry in the registry
    monkeypatch.setattr(catalogue, "TRANSLATIONS", translations)
    monkeypatch.setitem(registry.LANGUAGES, "qps", registry.Language("qps", "Pseudo", cldr="en"))

    html = client.get("/v?lang=qps").get_data(as_text=True)
    assert '<html lang="qps" dir="ltr">' in html
    assert _pseudo("Verify a certificate") in html
    assert _pseudo("Skip to main content") in html
    assert 'hreflang="qps"' in html
    assert html_lang(client, "/login") == "qps"  # remembered like any other language
