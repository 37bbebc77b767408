"""The verification path's reads: one indexed Core ``SELECT``, outside any transaction.

A verification only reads. It does not go through the ORM session (no
identity map, no unit of work, no ``BEGIN``/``COMMIT``): it borrows a
connection from a small pool of its own, opened in autocommit mode, and runs
one statement by primary key (or by the PDF's hash, also indexed), compiled
once and run on the driver's own cursor
(:mod:`certificate.driver_statements`).
On SQLite an autocommit ``SELECT`` is a read snapshot of the WAL and never
takes the write lock; on PostgreSQL it is one round trip, prepared by psycopg
after its fifth use.

Every answer reads the row afresh, so a revocation committed by any process
is seen by the next verification in every process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, create_engine, event, null, select
from sqlalchemy.engine import Engine

from certificate.applications.models import Application
from certificate.driver_statements import DriverStatement, KeptConnections, fetch
from certificate.issuance.models import Certificate, CertificateStatus, status_at
from certificate.signing.models import SigningKey

_COLUMNS = (
    Certificate.id,
    Certificate.kid,
    Certificate.token,
    Certificate.holder_date_of_birth,
    Certificate.holder_dob_hash,
    Certificate.expires_at,
    Certificate.revoked_at,
    Certificate.superseded_at,
    # the holder's full names: the QR carries only their MRZ form and a digest
    Application.family_name,
    Application.given_names,
    Application.latin_family_name,
    Application.latin_given_names,
    Certificate.token_mac,
)
_FROM = select(*_COLUMNS).join(Application, Certificate.application_id == Application.id)
_BY_ID = _FROM.where(Certificate.id == bindparam("id"))
# The same without the stored token (sealed at rest): a caller holding the token has no
# use for it, and opening it costs a decryption.
_BY_ID_UNSEALED = (
    select(*(null().label("token") if c is Certificate.token else c for c in _COLUMNS))
    .join(Application, Certificate.application_id == Application.id)
    .where(Certificate.id == bindparam("id"))
)
_BY_PDF = _FROM.where(Certificate.pdf_sha256 == bindparam("digest")).limit(1)
_KEY = select(SigningKey.algorithm, SigningKey.public_jwk).where(SigningKey.kid == bindparam("kid"))
_ALL_KEYS = select(SigningKey.kid, SigningKey.algorithm, SigningKey.public_jwk)


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    """The columns of a certificate that a verification needs, and nothing else."""

    id: str
    kid: str
    token: str | None
    holder_date_of_birth: date | None
    holder_dob_hash: str | None
    expires_at: datetime
    revoked_at: datetime | None
    superseded_at: datetime | None
    family_name: str = ""  # "" once the holder's personal data is purged
    given_names: str = ""
    latin_family_name: str | None = None
    latin_given_names: str | None = None
    #: vouches for ``token`` (certificate/signing/token_macs.py); None when issued before
    token_mac: str | None = None

    def holder(self) -> dict[str, Any] | None:
        """The holder's names as filed, with their Latin form; None once purged."""
        if not (self.family_name or self.given_names):
            return None
        latin = None
        if self.latin_family_name is not None:
            latin = {
                "family_name": self.latin_family_name,
                "given_names": self.latin_given_names or "",
            }
        return {
            "family_name": self.family_name,
            "given_names": self.given_names,
            "latin_name": latin,
        }

    def status_at(self, now: datetime) -> CertificateStatus:
        """What a verifier is told at ``now`` (revocation, then supersession, then expiry)."""
        return status_at(self.revoked_at, self.superseded_at, self.expires_at, now)


def _record(rows: list[tuple[Any, ...]]) -> CertificateRecord | None:
    return CertificateRecord(*rows[0]) if rows else None


class CertificateReader:
    """Autocommit reads of certificates and signing keys on a pool of their own.

    The pool is not pre-pinged (a ping is a round trip per request); a
    connection found dead is discarded and the read retried once on a new one
    (:func:`certificate.driver_statements.fetch`).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connections = KeptConnections(engine)
        dialect = engine.dialect
        self._by_id = DriverStatement.compile(_BY_ID, dialect)
        self._by_id_unsealed = DriverStatement.compile(_BY_ID_UNSEALED, dialect)
        self._by_pdf = DriverStatement.compile(_BY_PDF, dialect)
        self._key = DriverStatement.compile(_KEY, dialect)
        self._all_keys = DriverStatement.compile(_ALL_KEYS, dialect)

    @classmethod
    def for_database(cls, url: str, *, pool_size: int = 8) -> CertificateReader:
        """A reader on its own autocommit engine for the database at ``url``."""
        options: dict[str, Any] = {
            "isolation_level": "AUTOCOMMIT",
            "pool_size": pool_size,
            "max_overflow": pool_size * 2,
            "pool_reset_on_return": None,  # autocommit: nothing to roll back
        }
        if url.startswith("sqlite"):
            options["connect_args"] = {"check_same_thread": False}
        engine = create_engine(url, **options)
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.execute("PRAGMA query_only=ON")  # this pool never writes
                cursor.close()

        return cls(engine)

    def by_id(self, certificate_id: str, *, token: bool = True) -> CertificateRecord | None:
        """The certificate numbered ``certificate_id`` (canonical form), if any; its stored
        token left unread (None) with ``token=False``, for a caller that holds it."""
        statement = self._by_id if token else self._by_id_unsealed
        return _record(fetch(self.connections, statement, {"id": certificate_id}))

    def by_pdf_sha256(self, digest: str) -> CertificateRecord | None:
        """The certificate whose issued PDF has this SHA-256 (hex), if any."""
        return _record(fetch(self.connections, self._by_pdf, {"digest": digest}))

    def signing_key(self, kid: str) -> tuple[str, dict[str, str]] | None:
        """The algorithm and public JWK of the signing key ``kid``, if it exists."""
        rows = fetch(self.connections, self._key, {"kid": kid})
        return (rows[0][0], rows[0][1]) if rows else None

    def signing_keys(self) -> list[tuple[str, str, dict[str, str]]]:
        """Every signing key: ``kid``, algorithm and public JWK."""
        return [
            (kid, algorithm, jwk)
            for kid, algorithm, jwk in fetch(self.connections, self._all_keys, {}, every=True)
        ]

    def dispose(self) -> None:
        """Close the pool's connections."""
        self.connections.dispose()
