"""``flask demo seed``: demo accounts and a portal agency for a laptop."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from certificate.agency.models import AgencyMode
from certificate.agency.service import add_agency, enabled_agency
from certificate.auth.models import Role, User
from certificate.auth.service import create_user
from certificate.db import db, utcnow
from certificate.organisations.models import Organisation
from certificate.organisations.service import add_organisation

DEMO_ORGANISATION = "Demo Children's Charity"
DEMO_MEMBERS = (
    ("employer@example.org", "demo-employer-password", "Demo Employer", Role.EMPLOYER.value),
    ("checker@example.org", "demo-checker-password", "Demo ID Checker", Role.ID_CHECKER.value),
)

demo = AppGroup("demo", help="Demo data for a laptop.")

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
    _seed_organisation()
    db.session.commit()


def _seed_organisation() -> None:
    """A demo organisation with an employer and an ID checker (once)."""
    organisation = db.session.scalars(
        select(Organisation).where(Organisation.name == DEMO_ORGANISATION)
    ).first()
    if organisation is None:
        organisation = add_organisation(
            db.session, name=DEMO_ORGANISATION, short_name="Demo NGO", now=utcnow()
        )
    for email, password, name, role in DEMO_MEMBERS:
        if db.session.scalars(select(User).where(User.email == email)).first() is None:
            create_user(
                db.session,
                email=email,
                password=password,
                name=name,
                role=role,
                email_verified=True,
                organisation_id=organisation.id,
            )
        click.echo(f"  {role:<15} {email}  password: {password} ({DEMO_ORGANISATION})")
