"""Accounts, roles and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from certificate.db import Base, UTCDateTime, new_id, utcnow
from certificate.encryption import EncryptedText


class Role(enum.StrEnum):
    """What a user may do."""

    APPLICANT = "applicant"
    AGENCY_OFFICER = "agency-officer"
    ADMIN = "admin"
    EMPLOYER = "employer"
    ID_CHECKER = "id-checker"


#: Roles that belong to an organisation.
ORGANISATION_ROLES = frozenset({Role.EMPLOYER.value, Role.ID_CHECKER.value})


class User(Base):
    """Someone who signs in: an applicant, an agency officer or an admin."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=Role.APPLICANT.value)
    country: Mapped[str | None] = mapped_column(String(2))
    # the language of the account's pages and e-mails (a served language's code)
    language: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # second factor (TOTP, RFC 6238) for officers and admins
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("users.totp_secret"))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # bumped on log-out, disabling and password change: every older session ends
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set when the owner followed the link sent to the address (or an operator created it)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # employers and ID checkers are members of one organisation
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)

    # flask-login's user interface
    @property
    def is_authenticated(self) -> bool:
        """Every stored user is a real, authenticated one."""
        return True

    @property
    def is_active(self) -> bool:
        """Disabled accounts cannot sign in."""
        return self.active

    @property
    def is_anonymous(self) -> bool:
        """Never anonymous."""
        return False

    def get_id(self) -> str:
        """The id flask-login keeps in the session."""
        return self.id


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
