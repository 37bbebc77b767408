"""The Latin form of a name (``applicant.latin_name``): given, derived, or asked for; stored,
shown in the application's JSON and sent to agencies beside the name as filed."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from certificate.applications.models import Application
from certificate.db import db
from tests.conftest import application_body, drain
from tests.integration.agency.test_agency_api import _register
from tests.integration.web.test_pages import count_applications, form_data, signup

ARABIC = {"family_name": "الهاشمي", "given_names": "محمد علي"}
ARABIC_LATIN = {"family_name": "Al-Hashimi", "given_names": "Mohammed Ali"}


def _file(client: FlaskClient, auth: dict[str, str], **applicant: Any) -> Any:
    body = application_body(residences=[{"country": "IS", "from": "2012-09", "to": None}])
    body["applicant"].update(applicant)
    return client.post("/api/v1/applications", json=body, headers=auth)


def test_a_cyrillic_name_gets_the_icao_latin_form_and_agencies_receive_both(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    iceland = _register(app, "IS", Ed25519PrivateKey.generate())
    response = _file(client, auth, family_name="Щеглова", given_names="Юлия Андреевна")
    assert response.status_code == 201, response.get_json()
    applicant = response.get_json()["applicant"]
    # ICAO Doc 9303's table, as Russian passports write it since 2013
    assert applicant["latin_name"] == {
        "family_name": "Shcheglova",
        "given_names": "Iuliia Andreevna",
    }
    assert applicant["family_name"] == "Щеглова"
    drain(app)
    queries = client.get("/api/v1/agency/queries?status=open", headers=iceland.headers())
    [query] = queries.get_json()["queries"]
    subject = query["subject"]
    assert (subject["family_name"], subject["given_names"]) == ("Щеглова", "Юлия Андреевна")
    assert subject["latin_name"] == applicant["latin_name"]


def test_a_latin_name_needs_no_latin_form(client: FlaskClient, auth: dict[str, str]) -> None:
    response = _file(client, auth, family_name="García de la Peña", given_names="José")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["applicant"]["latin_name"] is None


def test_a_name_with_no_reliable_derivation_is_asked_for_its_latin_form(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    for name in (ARABIC, {"family_name": "山田", "given_names": "太郎"}):
        response = _file(client, auth, **name)
        assert response.status_code == 400, response.get_json()
        fields = response.get_json()["error"]["fields"]
        assert list(fields) == ["applicant.latin_name"], fields
        assert "machine-readable zone" in fields["applicant.latin_name"]
    assert count_applications(app) == 0
    response = _file(client, auth, **ARABIC, latin_name=ARABIC_LATIN)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["applicant"]["latin_name"] == ARABIC_LATIN
    with app.app_context():
        stored = db.session.get(Application, response.get_json()["id"])
        assert stored is not None
        assert (stored.latin_family_name, stored.latin_given_names) == (
            "Al-Hashimi",
            "Mohammed Ali",
        )


@pytest.mark.parametrize(
    ("latin_name", "path", "words"),
    [
        ({"family_name": "Аль-Хашими", "given_names": "Mohammed"}, "family_name", "Latin letters"),
        ({"family_name": "Al-Hashimi", "given_names": "Mohammed 2"}, "given_names", "hyphens"),
        ({"family_name": "Al\u200bHashimi", "given_names": "Mohammed"}, "family_name", "invisible"),
        ({"family_name": "Al-Hashimi"}, "given_names", "required"),
        ({"family_name": "-'", "given_names": "Mohammed"}, "family_name", "letter"),
    ],
)
def test_a_wrong_latin_form_is_a_400_naming_its_field(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    latin_name: dict[str, str],
    path: str,
    words: str,
) -> None:
    response = _file(client, auth, **ARABIC, latin_name=latin_name)
    assert response.status_code == 400, response.get_json()
    fields = response.get_json()["error"]["fields"]
    assert words in fields[f"applicant.latin_name.{path}"], fields
    assert count_applications(app) == 0


def test_the_form_asks_for_the_latin_form_and_stores_it(app: Flask, client: FlaskClient) -> None:
    signup(client)
    response = client.post("/applications/new", data=form_data(**ARABIC))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "latin_family_name-error" in html
    assert "Family name in Latin letters" in html
    assert count_applications(app) == 0
    response = client.post(
        "/applications/new",
        data=form_data(
            **ARABIC,
            latin_family_name=ARABIC_LATIN["family_name"],
            latin_given_names=ARABIC_LATIN["given_names"],
        ),
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        [stored] = db.session.scalars(db.select(Application)).all()
        assert (stored.latin_family_name, stored.latin_given_names) == (
            "Al-Hashimi",
            "Mohammed Ali",
        )
