"""Names that cannot hide, through the API and the form: each trick is a 400 naming the
field and nothing is stored; real names that need a joiner are accepted."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from certificate.applications.models import Application
from certificate.db import db
from tests.conftest import application_body
from tests.integration.web.test_pages import count_applications, form_data, signup

TRICKS = {
    "zero-width space": "Oka\u200bfor",
    "byte-order mark": "\ufeffOkafor",
    "zero-width joiner in a Latin word": "Oka\u200dfor",
    "right-to-left override": "\u202eOkafor",
    "Cyrillic letter in a Latin word": "Ok\u0430for",  # Cyrillic small a
    "Cyrillic capital E in a Latin word": "RECORD\u0415R",
    "only format characters": "\u200b\u200c\u2060",
    "soft hyphen": "Oka\u00adfor",
}
PERSIAN = "مهرابی\u200cنژاد"  # ZWNJ inside a Persian family name
HINDI = "श्रीवास्\u200dतव"  # ZWJ inside a Devanagari word


def _api(client: FlaskClient, auth: dict[str, str], applicant: dict[str, Any]) -> Any:
    body = application_body()
    body["applicant"].update(applicant)
    return client.post("/api/v1/applications", json=body, headers=auth)


@pytest.mark.parametrize("trick", TRICKS)
@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("family_name", "applicant.family_name"),
        ("given_names", "applicant.given_names"),
    ],
)
def test_each_trick_is_refused_by_the_api(
    app: Flask, client: FlaskClient, auth: dict[str, str], trick: str, field: str, path: str
) -> None:
    response = _api(client, auth, {field: TRICKS[trick]})
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert path in error["fields"], error
    assert count_applications(app) == 0


def test_other_names_and_the_city_are_checked_too(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    response = _api(client, auth, {"other_names": ["Ada Mensah", "Ada\u200bMensah"]})
    assert "applicant.other_names.1" in response.get_json()["error"]["fields"]
    response = _api(client, auth, {"place_of_birth": {"city": "L\u0430gos", "country": "NG"}})
    assert "applicant.place_of_birth.city" in response.get_json()["error"]["fields"]
    assert count_applications(app) == 0


@pytest.mark.parametrize("trick", TRICKS)
def test_each_trick_is_refused_by_the_form(app: Flask, client: FlaskClient, trick: str) -> None:
    signup(client)
    response = client.post("/applications/new", data=form_data(family_name=TRICKS[trick]))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Family name" in html
    assert "family_name-error" in html
    assert count_applications(app) == 0


def test_names_that_need_a_joiner_are_accepted_and_stored_in_nfc(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    decomposed = unicodedata.normalize("NFD", "José María")
    response = _api(
        client,
        auth,
        {
            "family_name": PERSIAN,
            "given_names": decomposed,
            "other_names": [HINDI],
            # a name in Arabic script is written in Latin letters by the applicant
            "latin_name": {"family_name": "Mehrabinejad", "given_names": "Jose Maria"},
        },
    )
    assert response.status_code == 201, response.get_json()
    assert count_applications(app) == 1
    with app.app_context():
        stored = db.session.get(Application, response.get_json()["id"])
        assert stored is not None
        assert stored.family_name == PERSIAN
        assert stored.given_names == "José María"  # NFC
        assert unicodedata.is_normalized("NFC", stored.given_names)
        assert stored.other_names == [HINDI]
