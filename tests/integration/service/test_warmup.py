"""Start-up preparation: a fresh process holds its keys, fonts and PAdES authority before
its first request, and a process started before the schema exists still starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from reportlab.pdfbase import pdfmetrics
from sqlalchemy import inspect, select

from certificate.db import db
from certificate.jobs import ThreadJobEngine
from certificate.runtime import runtime
from certificate.signing.models import SigningKey
from certificate.warmup import prepare


def test_prepare_readies_keys_fonts_and_the_pades_authority(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = Path(app.instance_path)
    assert not (instance / "pades" / "signer.pem").exists()
    prepare(app)
    prepare(app)  # once per process: a second call changes nothing
    assert (instance / "pades" / "root.pem").exists()
    assert (instance / "pades" / "signer.pem").exists()
    assert {"CertSans", "CertNaskhArabic"} <= set(pdfmetrics.getRegisteredFontNames())
    with app.app_context():
        keys = db.session.scalars(select(SigningKey)).all()
        assert len(keys) == 1
        assert (instance / "keys" / f"{keys[0].kid}.pem").exists()
        # the verification key is in memory: found without reading the database
        verifier = runtime().verifier

        def unreachable(kid: str) -> None:
            raise AssertionError(f"read key {kid} from the database")

        monkeypatch.setattr(verifier.reader, "signing_key", unreachable)
        assert verifier.keys.get(keys[0].kid) is not None


def test_prepare_before_the_schema_leaves_the_database_alone(
    make_app: Any, app_config: dict[str, Any]
) -> None:
    fresh = make_app(app_config)  # the fixture `app` is not built: no tables
    prepare(fresh)
    assert (Path(fresh.instance_path) / "pades" / "signer.pem").exists()
    with fresh.app_context():
        assert not inspect(db.engine).has_table("signing_keys")  # left to `flask db upgrade`
        assert not (Path(fresh.instance_path) / "keys").exists()


def test_the_sweeper_waits_for_the_schema_and_then_stops_asking(
    make_app: Any, app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = make_app(app_config)  # no tables yet
    engine = ThreadJobEngine(fresh)
    swept: list[int] = []
    monkeypatch.setattr("certificate.jobs.sweep", lambda: swept.append(1) or [])
    engine.sweep_once()
    assert swept == []  # nothing to sweep before `flask db upgrade`
    with fresh.app_context():
        db.create_all()
    engine.sweep_once()
    assert swept == [1]

    def catalogue(*_: object) -> None:
        raise AssertionError("asked the catalogue again")

    monkeypatch.setattr("certificate.jobs.inspect", catalogue)  # 2-7 ms of CPU a sweep
    engine.sweep_once()
    assert swept == [1, 1]
    with fresh.app_context():
        db.drop_all()
