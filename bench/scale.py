"""Verification at scale: p99 with one million certificates in PostgreSQL against ten thousand.

Needs ``IPC_TEST_DATABASE_URL`` (a PostgreSQL server; ``.ci/start-postgres``
starts one). Two fresh databases are created on it (and dropped at the
end), each served by its own gunicorn with gunicorn.conf.py's settings and
the same ``IPC_*`` values: one holds 10,000 certificates, the other
1,000,000 (``--quick``: 100,000). Each service issues one certificate
through its own API first (which creates its signing key and an account);
the rest are bulk-loaded with COPY.

Every bulk-loaded certificate is real: its own random 140-bit number, its
own application row, its own compact JWS signed by that service's key with
``certificate.signing.jws.sign`` (in a process pool), and one
``certificate.issued`` audit event. What is *not* real: the applications
have no residences or checks rows and all belong to one account, the audit
events carry random hashes rather than a valid chain, and there is no PDF
file. Verification reads none of those.

Then wrk drives ``POST /api/v1/verify`` with 8 keep-alive connections,
cycling through 20,000 certificates drawn at random from the whole table
(all of them at 10k), by token and by typed number with date of birth;
rounds alternate the two databases so that noise hits both alike.

Goal: p99 at 1M within 1.2x of p99 at 10k.

    .venv/bin/python bench/scale.py [--quick] [--rows 1000000] [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import psycopg
from _common import (
    LoadResult,
    issue_over_http,
    median_result,
    report_bad_answers,
    require_wrk,
    run_wrk,
    verdict,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from certificate.applications.latin import mrz_name
from certificate.encryption import DataKeyring
from certificate.issuance.claims import encode_outcomes, name_digest, new_certificate_id
from certificate.signing import jws
from certificate.signing.token_macs import derive_key, token_mac
from tests.live import LiveService, live_service

GOAL = 1.2
SMALL = 10_000
CHUNK = 25_000
SAMPLE = 20_000
CONNECTIONS = 8

APPLICATION_COLUMNS = (
    "id, user_id, status, family_name, given_names, other_names, date_of_birth, birth_city, "
    "birth_country, nationalities, document_type, document_number, document_country, "
    "document_expires, language, purpose, consent_at, created_at, completed_at"
)
CERTIFICATE_COLUMNS = (
    "id, application_id, generation, kid, token, token_mac, holder_date_of_birth, pdf_sha256, "
    "specimen, issued_at, expires_at"
)
AUDIT_COLUMNS = "at, actor, action, subject_type, subject_id, details, prev_hash, hash"
FAMILY_NAMES = ("Okafor", "Mensah", "Nguyen", "Garcia", "Smith", "Haddad", "Kowalski", "Silva")
GIVEN_NAMES = ("Ada Chioma", "Kwame", "Linh", "Lucia", "John", "Omar", "Anna", "Pedro")


@dataclass(frozen=True)
class Signer:
    """What a pool worker needs to sign tokens as one service would."""

    pem: bytes
    kid: str
    user_id: str
    #: The instance's data keys: tokens, document numbers and audit details are sealed at rest.
    data_keys: DataKeyring


_KEYS: dict[bytes, Ed25519PrivateKey] = {}


def _key(pem: bytes) -> Ed25519PrivateKey:
    """The private key in ``pem``, parsed once per pool worker (each service has its own)."""
    if pem not in _KEYS:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError("the service signs with Ed25519 keys only")
        _KEYS[pem] = key
    return _KEYS[pem]


def make_chunk(
    args: tuple[Signer, int, int],
) -> tuple[bytes, bytes, bytes, list[tuple[str, str, str]]]:
    """COPY text for ``count`` applications, certificates and audit events, and their
    (certificate id, token, date of birth) for the load generator. Runs in a pool worker."""
    signer, count, seed = args
    key = _key(signer.pem)
    mac_key = derive_key(key)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    applications, certificates, events, keys = [], [], [], []
    for _ in range(count):
        issued = now - timedelta(seconds=rng.randrange(170 * 86400))
        expires = issued + timedelta(days=180)
        dob = f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        family, given = rng.choice(FAMILY_NAMES), rng.choice(GIVEN_NAMES)
        application_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        certificate_id = new_certificate_id()
        claims = {
            "iss": "IPC",
            "jti": certificate_id,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "n": mrz_name(family, given),
            "nd": name_digest(certificate_id, family, given),
            "dob": dob,
            "c": encode_outcomes((country, "no_record") for country in ("KE", "TH", "NG")),
            "spc": True,
        }
        token = jws.sign(claims, key, signer.kid, typ=jws.CERTIFICATE_TYP)
        seal = signer.data_keys.seal
        sealed_token = seal(token.encode(), "certificates.token", 256, 1024)
        document = seal(f"A{rng.randrange(10**7):07d}".encode(), "applications.document_number")
        details = seal(
            json.dumps(
                {"application": application_id, "kid": signer.kid}, separators=(",", ":")
            ).encode(),
            "audit_events.details",
            128,
            256,
        )
        at = issued.strftime("%Y-%m-%d %H:%M:%S")
        until = expires.strftime("%Y-%m-%d %H:%M:%S")
        applications.append(
            f"{application_id}\t{signer.user_id}\tcomplete\t{family}\t{given}\t[]\t{dob}\tLagos\t"
            f'NG\t["NG"]\tpassport\t{document}\tNG\t2031-01-01\ten\t'
            f"Benchmark\t{at}\t{at}\t{at}\n"
        )
        certificates.append(
            f"{certificate_id}\t{application_id}\t1\t{signer.kid}\t{sealed_token}\t"
            f"{token_mac(mac_key, certificate_id, token)}\t{dob}\t"
            f"{secrets.token_hex(32)}\ttrue\t{at}\t{until}\n"
        )
        events.append(
            f"{at}\tsystem\tcertificate.issued\tcertificate\t{certificate_id}\t"
            f"{details}\t"
            f"{secrets.token_hex(32)}\t{secrets.token_hex(32)}\n"
        )
        keys.append((certificate_id, token, dob))
    return (
        "".join(applications).encode(),
        "".join(certificates).encode(),
        "".join(events).encode(),
        keys,
    )


def _chunks(signer: Signer, rows: int) -> Iterator[tuple[Signer, int, int]]:
    for start in range(0, rows, CHUNK):
        yield signer, min(CHUNK, rows - start), start


def psycopg_url(sqlalchemy_url: str) -> str:
    """The libpq form of a ``postgresql+psycopg://`` URL."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def signer_of(service: LiveService) -> Signer:
    """The service's signing key (from its instance folder) and its one account."""
    kid = str(service.query("SELECT kid FROM signing_keys LIMIT 1")[0][0])
    user_id = str(service.query("SELECT user_id FROM applications LIMIT 1")[0][0])
    pem = (Path(service.env["IPC_INSTANCE_PATH"]) / "keys" / f"{kid}.pem").read_bytes()
    return Signer(pem, kid, user_id, service.keyring())


def bulk_load(service: LiveService, rows: int, pool: Any, sample: int) -> list[tuple[str, ...]]:
    """COPY ``rows`` certificates (with applications and audit events) into the service's
    database; return a random sample of their (id, token, date of birth)."""
    signer = signer_of(service)
    rng = random.Random(rows)
    kept: list[tuple[str, ...]] = []
    seen = 0
    started = time.perf_counter()
    with psycopg.connect(psycopg_url(service.database_url)) as connection:
        for applications, certificates, events, keys in pool.imap(
            make_chunk, _chunks(signer, rows)
        ):
            with connection.cursor() as cursor:
                for table, columns, data in (
                    ("applications", APPLICATION_COLUMNS, applications),
                    ("certificates", CERTIFICATE_COLUMNS, certificates),
                    ("audit_events", AUDIT_COLUMNS, events),
                ):
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        copy.write(data)
            connection.commit()
            for key in keys:  # reservoir sampling: uniform over the whole table
                seen += 1
                if len(kept) < sample:
                    kept.append(key)
                elif (slot := rng.randrange(seen)) < sample:
                    kept[slot] = key
            if seen % 200_000 < CHUNK:
                print(
                    f"    {seen:>9,} rows loaded ({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE applications")
        connection.execute("VACUUM ANALYZE certificates")
        connection.execute("VACUUM ANALYZE audit_events")
    print(f"    {rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
    return kept


def check_answers(base_url: str, sample: list[tuple[str, ...]]) -> None:
    """Loaded certificates must verify as ``valid`` both ways: wrong answers measure nothing."""
    for certificate_id, token, dob in sample:
        for body in ({"token": token}, {"certificate_id": certificate_id, "date_of_birth": dob}):
            answer = httpx.post(f"{base_url}/api/v1/verify", json=body, timeout=10)
            if answer.status_code != 200 or answer.json().get("status") != "valid":
                raise RuntimeError(f"a loaded certificate does not verify: {answer.text[:300]}")


def main() -> int:
    """Run the benchmark; exit 1 when the goal is not met (0 with a note when skipped)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows, short runs (~1 min)")
    parser.add_argument("--rows", type=int, help="certificates in the large database")
    parser.add_argument("--seconds", type=float, help="length of each measured run")
    parser.add_argument("--rounds", type=int, help="alternating rounds")
    args = parser.parse_args()
    server = os.environ.get("IPC_TEST_DATABASE_URL")
    if not server:
        print('scale: skipped: needs PostgreSQL (eval "$(.ci/start-postgres)" sets it)')
        return 0
    require_wrk()
    large = args.rows or (100_000 if args.quick else 1_000_000)
    seconds = args.seconds or (4.0 if args.quick else 8.0)
    rounds = args.rounds or (1 if args.quick else 3)
    print(
        f"scale: {SMALL:,} vs {large:,} certificates in PostgreSQL; wrk, {CONNECTIONS} "
        f"connections, {seconds:g} s runs, {rounds} round(s)"
    )
    settings = {
        "VERIFY_RATE_LIMIT": "1000000/minute",
        "SANDBOX_LATENCY_MS": "0",
        "SWEEP_INTERVAL_SECONDS": "2",
    }
    results: dict[str, dict[str, list[LoadResult]]] = {}
    with tempfile.TemporaryDirectory(prefix="ipc-bench-scale-") as tmp, ExitStack() as stack:
        services: dict[str, LiveService] = {}
        bodies: dict[str, dict[str, list[dict[str, Any]]]] = {}
        pool = stack.enter_context(multiprocessing.Pool(os.cpu_count() or 2))
        for label, rows in (("10k", SMALL), (f"{large // 1000}k", large)):
            work = Path(tmp) / label
            work.mkdir()
            service = stack.enter_context(live_service(work, server="gunicorn", **settings))
            issue_over_http(service, 1)
            print(f"  loading {label}:", flush=True)
            sample = bulk_load(service, rows - 1, pool, SAMPLE)
            random.Random(1).shuffle(sample)
            check_answers(service.base_url, sample[:20])
            bodies[label] = {
                "token": [{"token": token} for _, token, _ in sample],
                "number": [{"certificate_id": cid, "date_of_birth": dob} for cid, _, dob in sample],
            }
            services[label] = service
            results[label] = {"token": [], "number": []}
        for label, service in services.items():  # warm-up: connections, caches, compiled queries
            run_wrk(f"{service.base_url}/api/v1/verify", bodies[label]["token"], seconds=2)
        for round_no in range(1, rounds + 1):
            for kind in ("token", "number"):
                for label, service in services.items():
                    result = run_wrk(
                        f"{service.base_url}/api/v1/verify",
                        bodies[label][kind],
                        seconds=seconds,
                        connections=CONNECTIONS,
                    )
                    results[label][kind].append(result)
                    print(f"  round {round_no} {label:>6} {kind:<7}{result.line()}", flush=True)
        for label, service in services.items():
            report_bad_answers(service.log_path, label)
    small_label, large_label = list(results)
    met = True
    print("\nmedians:")
    for kind in ("token", "number"):
        small_result = median_result(results[small_label][kind])
        large_result = median_result(results[large_label][kind])
        ratio = large_result.p99_ms / small_result.p99_ms
        met = met and ratio <= GOAL
        print(
            f"{kind:<6} p99 {small_label} {small_result.p99_ms:6.1f} ms  "
            f"{large_label} {large_result.p99_ms:6.1f} ms  ratio {ratio:.2f}  "
            f"({verdict(ratio, GOAL, higher_is_better=False)})   "
            f"throughput {small_result.rps:.0f} vs {large_result.rps:.0f} req/s"
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
