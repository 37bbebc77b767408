"""Issuance throughput per core: the service's own issuance against the libraries doing the same.

In one process (one core: issuance is CPU-bound Python), on SQLite in a
temporary instance folder, the benchmark files applications through the
service's filing function and marks every check answered, then times
``certificate.jobs.issue_for`` (what the job engine calls: claims, EdDSA
token, PDF with its QR code, PAdES signature, file, row, audit event,
commit) for each of them.

The floor, measured in the same run in alternating batches, does the same
steps directly with the libraries, without the ORM or the service's
helpers: a claims dict, a PyJWT EdDSA signature, the same
``render_certificate_pdf`` layout (of a document built by hand), a pyHanko
PAdES signature with a signer built once, a SHA-256, and an fsync'ed write.
An informational second floor renders a bare reportlab page with the QR
code instead of the certificate's layout, to show what the layout costs.

Goal: the service issues at least 0.7 of the floor's certificates per second.

    .venv/bin/python bench/issue.py [--quick] [--count 60] [--batch 5]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import applicant_body, verdict
from flask import Flask

from certificate import create_app
from certificate.applications.latin import mrz_name
from certificate.applications.models import Application
from certificate.applications.schemas import ApplicationIn
from certificate.applications.service import file_application
from certificate.auth.models import User
from certificate.checks.models import CheckStatus
from certificate.db import db
from certificate.issuance.claims import encode_outcomes, name_digest
from certificate.issuance.document import CertificateDocument, CountryLine
from certificate.issuance.pdf import render_certificate_pdf
from certificate.issuance.qr import make_qr
from certificate.runtime import runtime

GOAL = 0.7
BASE_URL = "http://127.0.0.1:5000"


def pades_available() -> bool:
    """True when the service signs PDFs with PAdES (certificate/signing/pades.py exists)."""
    return (Path(__file__).resolve().parent.parent / "certificate/signing/pades.py").exists()


def build_app(instance: Path) -> Flask:
    """An app on a fresh SQLite database in ``instance``, with no background workers."""
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
            "SECRET_KEY": "bench",
            "BASE_URL": BASE_URL,
            "SANDBOX_COUNTRIES": "KE,TH,NG",
            "IDENTITY_PROOFING": "sandbox",
            "JOBS_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
    return app


def applications_ready_for_issuance(app: Flask, count: int) -> list[str]:
    """File ``count`` applications (KE, TH, NG) and answer every check ``no_record``."""
    now = datetime.now(UTC)
    with app.app_context():
        rt = runtime()
        user = User(email="bench@example.org", name="Bench", password_hash="-", role="applicant")
        db.session.add(user)
        db.session.flush()
        data = ApplicationIn.model_validate(applicant_body())
        ids = []
        for _ in range(count):
            application, _created = file_application(
                db.session,
                user,
                data,
                adapters=rt.registry.get,
                default_deadline=rt.default_deadline,
                now=now,
            )
            for check in application.checks:
                check.status = CheckStatus.ANSWERED.value
                check.outcome = "no_record"
                check.answered_at = check.finished_at = now
            ids.append(application.id)
        db.session.commit()
    return ids


def service_issuer(app: Flask) -> Callable[[str], None]:
    """Issue one application's certificate exactly as the job engine does."""
    from certificate.jobs import issue_for

    def issue(application_id: str) -> None:
        with app.app_context():
            issue_for(application_id)
            application = db.session.get(Application, application_id)
            if application is None or not application.certificates:
                raise RuntimeError("issue_for issued nothing")

    return issue


def _durable_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


class LibraryFloor:
    """The same steps done directly with the libraries: the floor the service is held to."""

    def __init__(self, app: Flask, out: Path, *, bare_page: bool = False) -> None:
        import jwt  # noqa: F401 - imported here so that import time is not timed

        with app.app_context():
            rt = runtime()
            kid = db.session.execute(db.text("SELECT kid FROM signing_keys LIMIT 1")).scalar_one()
            self.key = rt.keys.private_key(kid)
            self.kid = kid
            pades = rt.issuance.pades
            credentials = (
                pades.credentials(datetime.now(UTC), outlive=rt.issuance.validity)
                if pades is not None
                else None
            )
        self.signer = self._pyhanko_signer(credentials) if credentials is not None else None
        self.out = out
        self.bare_page = bare_page
        out.mkdir(parents=True, exist_ok=True)
        self.counter = 0

    @staticmethod
    def _pyhanko_signer(credentials: Any) -> Any:
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509
        from cryptography.hazmat.primitives import serialization
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        def asn1(cert: Any) -> Any:
            return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

        key_der = credentials.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return signers.SimpleSigner(
            signing_cert=asn1(credentials.certificate),
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs([asn1(c) for c in credentials.chain]),
        )

    def _pades(self, pdf: bytes) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        metadata = signers.PdfSignatureMetadata(
            field_name="IPCSignature",
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        )
        output = io.BytesIO()
        signers.sign_pdf(writer, metadata, signer=self.signer, output=output)
        return output.getvalue()

    def _bare_pdf(self, verify_url: str) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen.canvas import Canvas

        matrix = make_qr(verify_url).matrix  # zxing-cpp's symbol, as the service draws it
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=A4)
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(72, 770, "International Police Certificate")
        path = canvas.beginPath()
        for row_no, row in enumerate(matrix):
            for col_no, dark in enumerate(row):
                if dark:
                    path.rect(400 + col_no * 2, 780 - row_no * 2, 2, 2)
        canvas.drawPath(path, fill=1, stroke=0)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    def issue(self, _application_id: str) -> None:
        """Claims, token, PDF with QR, PAdES, hash, durable file."""
        import jwt

        self.counter += 1
        now = datetime.now(UTC)
        expires = now + timedelta(days=180)
        certificate_id = f"BNCH-{self.counter:04d}-0000-0000-0000-0000-0000"
        claims = {
            "iss": "IPC",
            "jti": certificate_id,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "n": mrz_name("Okafor", "Ada Chioma"),
            "nd": name_digest(certificate_id, "Okafor", "Ada Chioma"),
            "dob": "1990-04-17",
            "c": encode_outcomes((country, "no_record") for country in ("KE", "TH", "NG")),
            "spc": True,
        }
        token = jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})
        verify_url = f"{BASE_URL}/v#{token}"
        if self.bare_page:
            pdf = self._bare_pdf(verify_url)
        else:
            pdf = render_certificate_pdf(_document(certificate_id, verify_url, now, expires))
        if self.signer is not None:
            pdf = self._pades(pdf)
        hashlib.sha256(pdf).hexdigest()
        _durable_write(self.out / f"{certificate_id}.pdf", pdf)


def _document(
    certificate_id: str, verify_url: str, now: datetime, expires: datetime
) -> CertificateDocument:
    """What the service's document holds for the benchmark's filing, built by hand."""
    answered = now.date()
    return CertificateDocument(
        certificate_id=certificate_id,
        language="en",
        family_name="Okafor",
        given_names="Ada Chioma",
        other_names=("Ada Mensah",),
        date_of_birth=date(1990, 4, 17),
        place_of_birth="Lagos, Nigeria",
        nationalities=("NG",),
        document_type="passport",
        document_number="A1234567",
        document_issuing_country="NG",
        purpose="Teacher at a primary school",
        issued_on=now.date(),
        expires_on=expires.date(),
        countries=(
            CountryLine(
                "KE", "Kenya", "no_record", answered, "Sandbox KE", (("2012-09", "2016-06"),)
            ),
            CountryLine(
                "TH", "Thailand", "no_record", answered, "Sandbox TH", (("2016-07", None),)
            ),
            CountryLine("NG", "Nigeria", "no_record", answered, "Sandbox NG"),
        ),
        verify_url=verify_url,
        base_url=BASE_URL,
        specimen=True,
    )


def timed_batches(
    contenders: dict[str, Callable[[str], None]],
    ids: dict[str, list[str]],
    batch: int,
) -> dict[str, list[float]]:
    """Seconds per certificate of each contender, batches taken in turn (noise hits all alike)."""
    per_item: dict[str, list[float]] = {name: [] for name in contenders}
    queues = {name: list(values) for name, values in ids.items()}
    while any(queues.values()):
        for name, issue in contenders.items():
            chunk, queues[name] = queues[name][:batch], queues[name][batch:]
            if not chunk:
                continue
            started = time.perf_counter()
            for application_id in chunk:
                issue(application_id)
            per_item[name].append((time.perf_counter() - started) / len(chunk))
    return per_item


def main() -> int:
    """Run the benchmark; exit 1 when the goal is not met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer certificates (~30 s)")
    parser.add_argument("--count", type=int, help="certificates issued by each contender")
    parser.add_argument("--batch", type=int, default=5, help="certificates per timed batch")
    args = parser.parse_args()
    count = args.count or (25 if args.quick else 60)
    pades = pades_available()
    print(
        f"issue: {count} certificates each, one process (one core), SQLite; "
        f"PAdES {'included' if pades else 'NOT included (certificate/signing/pades.py absent)'}"
    )
    with tempfile.TemporaryDirectory(prefix="ipc-bench-issue-") as tmp:
        app = build_app(Path(tmp) / "instance")
        ids = applications_ready_for_issuance(app, count + 2)
        service = service_issuer(app)
        for warm in ids[:2]:  # fonts, signing key, PAdES CA, compiled queries
            service(warm)
        floor = LibraryFloor(app, Path(tmp) / "floor")
        bare = LibraryFloor(app, Path(tmp) / "bare", bare_page=True)
        floor.issue("warm-up")
        bare.issue("warm-up")
        dummy = [f"floor-{i}" for i in range(count)]
        results = timed_batches(
            {"service": service, "floor": floor.issue, "bare page": bare.issue},
            {"service": ids[2:], "floor": dummy, "bare page": dummy},
            args.batch,
        )
    rate = {name: 1 / statistics.median(values) for name, values in results.items()}
    ratio = rate["service"] / rate["floor"]
    print(f"service (issue_for):                 {rate['service']:6.1f} certificates/s per core")
    print(f"floor (same steps, libraries only):  {rate['floor']:6.1f} certificates/s per core")
    print(f"bare reportlab page + QR (info):     {rate['bare page']:6.1f} certificates/s per core")
    print(f"service / floor:                     {ratio:.2f}  ({verdict(ratio, GOAL)})")
    print(f"service / bare-page floor (info):    {rate['service'] / rate['bare page']:.2f}")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
