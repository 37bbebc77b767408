"""Start-up preparation: what the first certificate and the first verification would
otherwise do on their own time.

A fresh process would, on its first issuance, create or load the signing key,
register the fonts (parsing several TrueType files), create or load the PAdES
authority, and import and warm reportlab, the QR encoder and pyHanko; on its
first verification, read the public keys. :func:`prepare` does all of it once,
before the process serves: gunicorn calls it from ``post_worker_init``
(gunicorn.conf.py), and the embedded job engine calls it when it starts, so a
fresh instance answers as fast as a warm one.
"""

from __future__ import annotations

import logging
import threading
from datetime import date

from flask import Flask
from sqlalchemy import inspect, text

from certificate.db import db, utcnow
from certificate.health import READY_KEY
from certificate.issuance.document import CertificateDocument, CountryLine
from certificate.issuance.pdf import render_certificate_pdf
from certificate.issuance.typesetting import register_fonts
from certificate.runtime import EXTENSION_KEY, Runtime
from certificate.signing.keys import active_key
from certificate.signing.pades import sign_pdf

log = logging.getLogger(__name__)

_lock = threading.Lock()
#: set in ``app.extensions`` once the app is prepared
PREPARED = "ipc.prepared"


def _rehearsal(base_url: str) -> CertificateDocument:
    """A specimen document with every part of the layout (no real person's data)."""
    return CertificateDocument(
        certificate_id="WARM-UP0-0000-0000-0000-0000-0000",
        language="en",
        family_name="Specimen",
        given_names="Start-up",
        # names in other scripts warm the shaping path (ICU, HarfBuzz, the CJK font)
        other_names=("नमूना", "見本"),
        date_of_birth=date(2000, 1, 1),
        place_of_birth="Nowhere",
        nationalities=("KE",),
        document_type="Passport",
        document_number="X0000000",
        document_issuing_country="KE",
        purpose="Start-up rehearsal",
        issued_on=date(2000, 1, 1),
        expires_on=date(2000, 7, 1),
        countries=(
            CountryLine(
                country="KE",
                country_name="Kenya",
                outcome="no_record",
                answered_on=date(2000, 1, 1),
                authority="Rehearsal",
            ),
        ),
        verify_url=f"{base_url}/v#" + "A" * 400,
        base_url=base_url,
        specimen=True,
    )


def prepare(app: Flask) -> None:
    """Load keys, fonts and the PAdES authority and rehearse one PDF, once per app and process.

    Safe to call from several threads; the database part is skipped until the
    schema exists (``flask db upgrade`` first).
    """
    with _lock:
        if app.extensions.get(PREPARED):
            return
        app.extensions[PREPARED] = True
    rt: Runtime = app.extensions[EXTENSION_KEY]
    now = utcnow()
    register_fonts()
    document = _rehearsal(rt.issuance.base_url)
    pdf = render_certificate_pdf(document)
    if rt.issuance.pades is not None:
        credentials = rt.issuance.pades.credentials(now, outlive=rt.issuance.validity)
        rt.issuance.pades.trust_roots(now)
        sign_pdf(pdf, credentials, verify_url=document.verify_url)
    with app.app_context():
        if not inspect(db.engine).has_table("signing_keys"):
            log.info("start-up: no schema yet; keys are loaded on first use")
            app.extensions[READY_KEY] = True
            return
        if db.engine.dialect.name == "postgresql":
            # two processes starting together must not both create the first key
            db.session.execute(text("SELECT pg_advisory_xact_lock(4243)"))
        key = active_key(db.session, rt.keys)
        db.session.commit()
        rt.keys.private_key(key.kid)
        held = rt.verifier.keys.load()
    app.extensions[READY_KEY] = True
    log.info("start-up: fonts, PAdES authority, PDF machinery and %d key(s) ready", held)
