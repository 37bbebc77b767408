"""``flask certificates …``: revoke, re-issue and verify issued certificates."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from certificate.db import db, utcnow
from certificate.issuance.revocation import (
    AlreadyRevoked,
    CertificateNotFound,
    find_certificate,
    revoke,
)
from certificate.issuance.service import NotReissuable, reissue, settle_document
from certificate.runtime import runtime

certificates = AppGroup("certificates", help="Manage issued certificates.")


@certificates.command("revoke")
@click.option("--reason", required=True, help="Why; kept in the audit log.")
@click.argument("certificate_id")
def revoke_command(certificate_id: str, reason: str) -> None:
    """Revoke a certificate; verification answers 'revoked' from now on."""
    try:
        certificate = revoke(
            db.session, certificate_id, reason=reason, actor="operator", now=utcnow()
        )
    except CertificateNotFound as exc:
        raise click.ClickException(f"no certificate {certificate_id}") from exc
    except AlreadyRevoked as exc:
        raise click.ClickException(f"certificate {exc} was already revoked") from exc
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--reason") from exc
    db.session.commit()
    click.echo(f"revoked {certificate.id}")


@certificates.command("reissue")
@click.option("--reason", required=True, help="What was corrected; kept in the audit log.")
@click.argument("certificate_id")
def reissue_command(certificate_id: str, reason: str) -> None:
    """Re-issue after a correction: a new certificate from the current checks.

    The old certificate answers 'superseded' from now on. Prints the new
    certificate's number on the last line.
    """
    old = find_certificate(db.session, certificate_id)
    if old is None:
        raise click.ClickException(f"no certificate {certificate_id}")
    rt = runtime()
    try:
        new = reissue(
            db.session,
            old,
            reason=reason,
            actor="operator",
            keys=rt.keys,
            files=rt.files,
            settings=rt.issuance,
            now=utcnow(),
        )
    except NotReissuable as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--reason") from exc
    db.session.commit()
    settle_document(rt.files, new.id)
    click.echo(f"superseded {old.id} (generation {old.generation})")
    click.echo(new.id)


@certificates.command("verify")
@click.argument("certificate")
@click.option(
    "--jwks",
    "jwks_source",
    required=True,
    help="The published key set: a file, or a URL such as https://…/.well-known/jwks.json.",
)
@click.option(
    "--pades-root",
    type=click.Path(exists=True, dir_okay=False),
    help="PEM root certificate(s) the PDF's signature must chain to.",
)
@click.option("--issuer", default=None, help="The expected 'iss' claim.")
@click.option("--family-name", default=None, help="The holder's family name, to check.")
@click.option("--given-names", default=None, help="The holder's given names, to check.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify_offline_command(
    certificate: str,
    jwks_source: str,
    pades_root: str | None,
    issuer: str | None,
    family_name: str | None,
    given_names: str | None,
    as_json: bool,
) -> None:
    """Check a certificate PDF or token without the database (offline).

    CERTIFICATE is a PDF file, a file holding a token, or the token (or the
    QR content) itself. Exits 0 when valid, 1 otherwise. Revocation is not
    checked offline, and the output says so. With --family-name and
    --given-names (as on the holder's identity document, in any script) it
    also says whether that full name is the one the certificate binds.
    """
    from certificate.verify.offline import (
        JwksError,
        check_name,
        load_jwks,
        load_trust_roots,
        report_lines,
        verify_offline,
    )

    subject: str | bytes = certificate
    try:
        path = Path(certificate)
        if path.is_file():
            subject = path.read_bytes()
    except OSError:  # a token is longer than any file name
        pass
    try:
        key_set = load_jwks(jwks_source)
    except JwksError as exc:
        raise click.BadParameter(str(exc), param_hint="--jwks") from exc
    roots = load_trust_roots(pades_root) if pades_root else None
    result = verify_offline(subject, key_set, issuer=issuer, trust_roots=roots)
    if family_name is not None or given_names is not None:
        result = check_name(result, family_name or "", given_names or "")
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        for line in report_lines(result):
            click.echo(line)
    click.get_current_context().exit(0 if result.valid else 1)
