"""Operator commands: ``flask --app wsgi <group> <command>``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from certificate.agency.models import DEFAULT_DEADLINE_WORKING_DAYS, Agency, AgencyMode
from certificate.agency.service import (
    AgencyError,
    add_agency,
    disable_agency,
    enabled_agency,
    rotate_key,
)
from certificate.audit import (
    AuditEvent,
    CheckpointInvalid,
    checkpoint,
    parse_checkpoint,
    record_event,
    verify_against_checkpoint,
    verify_chain,
)
from certificate.auth.models import Role, User
from certificate.auth.service import (
    AccountError,
    create_user,
    disable_user,
    end_sessions,
    normalise_email,
)
from certificate.db import db, utcnow
from certificate.encryption import (
    install_keys,
    keyring,
    load_data_keys,
    reencrypt_all,
    write_key_file,
)
from certificate.issuance.revocation import (
    AlreadyRevoked,
    CertificateNotFound,
    find_certificate,
    revoke,
)
from certificate.issuance.service import NotReissuable, reissue, settle_document
from certificate.runtime import runtime
from certificate.signing.keys import active_key, rotate

users = AppGroup("users", help="Manage accounts.")
certificates = AppGroup("certificates", help="Manage issued certificates.")
keys = AppGroup("keys", help="Manage signing keys.")
demo = AppGroup("demo", help="Demo data for a laptop.")
agencies = AppGroup("agencies", help="Manage national agencies.")
audit = AppGroup("audit", help="The audit log.")
data = AppGroup("data", help="Stored personal data: encryption and retention.")

DEMO_ACCOUNTS = (
    ("applicant@example.org", "demo-applicant-pw", "Ada Okafor", Role.APPLICANT.value, None),
    ("admin@example.org", "demo-admin-password", "Demo Admin", Role.ADMIN.value, None),
    (
        "officer.is@example.org",
        "demo-officer-password",
        "Demo Officer",
        Role.AGENCY_OFFICER.value,
        "IS",
    ),
)
# Iceland is answered by hand in the officer portal in the demo (not by the sandbox).
DEMO_PORTAL_COUNTRY = "IS"


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default="", help="Display name (defaults to the e-mail).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.APPLICANT.value,
    show_default=True,
)
@click.option("--country", default=None, help="ISO code; agency officers only.")
@click.option(
    "--organisation", default=None, help="An organisation's id; employers and ID checkers only."
)
def create_user_command(
    email: str, password: str, name: str, role: str, country: str | None, organisation: str | None
) -> None:
    """Create an account and print its id."""
    try:
        user = create_user(
            db.session,
            email=email,
            password=password,
            name=name or email,
            role=role,
            country=country.upper() if country else None,
            email_verified=True,  # accounts an operator creates need no e-mail check
            organisation_id=organisation,
        )
    except AccountError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.field}") from exc
    db.session.commit()
    click.echo(user.id)


def _user_or_fail(email: str) -> User:
    user = db.session.scalars(select(User).where(User.email == normalise_email(email))).first()
    if user is None:
        raise click.ClickException(f"no account {email}")
    return user


@users.command("disable")
@click.argument("email")
def disable_user_command(email: str) -> None:
    """Disable an account; its sessions and API tokens end at once."""
    disable_user(db.session, _user_or_fail(email), actor="operator")
    db.session.commit()
    click.echo(f"disabled {email}")


@users.command("reset-second-factor")
@click.argument("email")
def reset_second_factor_command(email: str) -> None:
    """Forget an officer's or admin's authenticator (lost phone): they enrol anew at log-in."""
    user = _user_or_fail(email)
    user.totp_secret = None
    user.totp_last_step = None
    end_sessions(db.session, user)
    record_event(
        db.session,
        actor="operator",
        action="account.totp_reset",
        subject_type="user",
        subject_id=user.id,
    )
    db.session.commit()
    click.echo(f"the second factor of {email} will be enrolled again at the next log-in")


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A checkpoint printed earlier by `audit checkpoint`: the log must still extend it.",
)
def audit_verify_command(checkpoint_file: str | None) -> None:
    """Check the audit log's keyed hash chain; exits 1 naming the first bad event first."""
    if checkpoint_file is None:
        problems = verify_chain(db.session)
    else:
        try:
            document = json.loads(Path(checkpoint_file).read_text())
        except ValueError as exc:
            raise click.ClickException(f"{checkpoint_file} is not JSON") from exc
        kid = str(document.get("kid", "")) if isinstance(document, dict) else ""
        try:
            public_key = runtime().keys.private_key(kid).public_key()
        except KeyError:
            public_key = None
        try:
            point = parse_checkpoint(document, public_key)
        except CheckpointInvalid as exc:
            raise click.ClickException(f"{checkpoint_file}: {exc}") from exc
        problems = verify_against_checkpoint(db.session, point)
    count = db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"the audit log is broken in {len(problems)} place(s); the first: {problems[0]}"
        )
    extends = f", extending the checkpoint of {checkpoint_file}" if checkpoint_file else ""
    click.echo(f"the audit log is intact: {count} events{extends}")


@audit.command("checkpoint")
def audit_checkpoint_command() -> None:
    """Print a signed checkpoint of the audit log (JSON: size, head, signature, kid).

    Keep it outside the service (an auditor, another machine): `audit verify
    --checkpoint FILE` then detects any later edit, deletion, truncation or rewrite.
    """
    store = runtime().keys
    kid = active_key(db.session, store).kid
    db.session.commit()  # the first signing key may have just been created
    point = checkpoint(db.session, store.private_key(kid), kid)
    click.echo(json.dumps(point.as_json(), sort_keys=True))


@keys.command("rotate-data")
def rotate_data_key_command() -> None:
    """Add a data-encryption key that seals every value written from now on."""
    instance = Path(current_app.instance_path)
    if current_app.config.get("DATA_KEYS"):
        raise click.ClickException(
            "the data keys come from IPC_DATA_KEYS: add the new key in your secret store"
        )
    path = instance / "data-keys.json"
    document = json.loads(path.read_text())
    kid = write_key_file(path, document, add_new=True)
    install_keys(*load_data_keys(instance, None))
    click.echo(kid)


@data.command("purge")
def purge_command() -> None:
    """Erase personal data that has outlived its purpose (also run by the sweeper hourly)."""
    from certificate.jobs import purge

    purged = purge()
    click.echo(f"purged the personal data of {len(purged)} application(s)")


@data.command("reencrypt")
def reencrypt_command() -> None:
    """Re-seal every encrypted value with the current data key."""
    counts = reencrypt_all(db.session)
    db.session.commit()
    for column, count in counts.items():
        click.echo(f"{column}: {count} value(s) sealed with key {keyring().current}")


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
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify_offline_command(
    certificate: str,
    jwks_source: str,
    pades_root: str | None,
    issuer: str | None,
    as_json: bool,
) -> None:
    """Check a certificate PDF or token without the database (offline).

    CERTIFICATE is a PDF file, a file holding a token, or the token (or the
    QR content) itself. Exits 0 when valid, 1 otherwise. Revocation is not
    checked offline, and the output says so.
    """
    from certificate.verify.offline import (
        JwksError,
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
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        for line in report_lines(result):
            click.echo(line)
    click.get_current_context().exit(0 if result.valid else 1)


@keys.command("rotate")
def rotate_command() -> None:
    """Create a new signing key; earlier keys stay published to verify what they signed."""
    key = rotate(db.session, runtime().keys)
    db.session.commit()
    click.echo(key.kid)


@demo.command("seed")
def seed_command() -> None:
    """Create the demo accounts and a portal-mode agency for Iceland (once); print them."""
    for email, password, name, role, country in DEMO_ACCOUNTS:
        exists = db.session.scalars(select(User).where(User.email == email)).first()
        if exists is None:
            create_user(
                db.session,
                email=email,
                password=password,
                name=name,
                role=role,
                country=country,
                email_verified=True,
            )
        where = f" ({country})" if country else ""
        click.echo(f"  {role:<15} {email}  password: {password}{where}")
    if enabled_agency(db.session, DEMO_PORTAL_COUNTRY) is None:
        add_agency(
            db.session,
            country=DEMO_PORTAL_COUNTRY,
            name="Demo Criminal Records Office",
            mode=AgencyMode.PORTAL.value,
        )
    click.echo(
        f"  {DEMO_PORTAL_COUNTRY} is answered by the demo officer in the portal; "
        "officers and admins set up an authenticator app at their first log-in"
    )
    db.session.commit()


def _agency_or_fail(agency_id: str) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise click.ClickException(f"no agency {agency_id}")
    return agency


def _read_key(path: str | None) -> str | None:
    return Path(path).read_text() if path else None


@agencies.command("add")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 code.")
@click.option("--name", required=True, help="The agency's name, printed on certificates.")
@click.option("--mode", required=True, type=click.Choice([m.value for m in AgencyMode]))
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(exists=True, dir_okay=False),
    help="PEM file of the ES256 or EdDSA key the agency's system signs with.",
)
@click.option("--endpoint", help="The agency's URL (push mode).")
@click.option(
    "--deadline-days",
    type=int,
    default=DEFAULT_DEADLINE_WORKING_DAYS,
    show_default=True,
    help="Working days the agency has to answer.",
)
def add_agency_command(
    country: str,
    name: str,
    mode: str,
    public_key: str | None,
    endpoint: str | None,
    deadline_days: int,
) -> None:
    """Register an agency; prints its id alone on the last line."""
    try:
        agency = add_agency(
            db.session,
            country=country,
            name=name,
            mode=mode,
            public_key_pem=_read_key(public_key),
            endpoint=endpoint,
            deadline_working_days=deadline_days,
        )
    except AgencyError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.field}") from exc
    db.session.commit()
    click.echo(f"Added {agency.mode} agency for {agency.country}: {agency.name}")
    click.echo(agency.id)


@agencies.command("list")
def list_agencies_command() -> None:
    """Every registered agency."""
    for agency in db.session.scalars(select(Agency).order_by(Agency.country, Agency.created_at)):
        state = "enabled" if agency.enabled else "disabled"
        click.echo(
            f"{agency.id}  {agency.country}  {agency.mode:<6}  {state:<8}  "
            f"{len(agency.active_keys)} key(s)  {agency.name}"
        )


@agencies.command("disable")
@click.argument("agency_id")
def disable_agency_command(agency_id: str) -> None:
    """Stop using an agency (its country falls back to any installed adapter)."""
    disable_agency(db.session, _agency_or_fail(agency_id))
    db.session.commit()
    click.echo(f"disabled {agency_id}")


@agencies.command("rotate-key")
@click.argument("agency_id")
@click.option(
    "--public-key", "public_key", required=True, type=click.Path(exists=True, dir_okay=False)
)
def rotate_agency_key_command(agency_id: str, public_key: str) -> None:
    """Register the agency's new key and retire its earlier ones."""
    try:
        rotate_key(db.session, _agency_or_fail(agency_id), Path(public_key).read_text())
    except AgencyError as exc:
        raise click.BadParameter(str(exc), param_hint="--public-key") from exc
    db.session.commit()
    click.echo(f"rotated the key of {agency_id}")


def register_commands(app: Flask) -> None:
    """Attach the command groups to the app's CLI."""
    app.cli.add_command(purge_command)  # `flask purge`, the same as `flask data purge`
    for group in (users, certificates, keys, demo, agencies, audit, data):
        app.cli.add_command(group)
