"""Imports every model so that the metadata (and Alembic) sees the whole schema."""

from certificate.admin.models import PendingAction
from certificate.agency.models import Agency, AgencyKey, UsedAssertion
from certificate.applications.models import Application, IdempotencyKey, Residence
from certificate.audit import AuditEvent
from certificate.auth.models import ApiToken, User
from certificate.checks.models import Check
from certificate.identity.models import IdentityProof
from certificate.issuance.models import Certificate
from certificate.notifications.models import OutboxMessage
from certificate.organisations.models import ApiKey, CandidateRequest, Organisation, Webhook
from certificate.rate_limits import RateLimitCounter
from certificate.signing.models import SigningKey

__all__ = [
    "Agency",
    "AgencyKey",
    "ApiKey",
    "ApiToken",
    "Application",
    "AuditEvent",
    "CandidateRequest",
    "Certificate",
    "Check",
    "IdempotencyKey",
    "IdentityProof",
    "Organisation",
    "OutboxMessage",
    "PendingAction",
    "RateLimitCounter",
    "Residence",
    "SigningKey",
    "UsedAssertion",
    "User",
    "Webhook",
]
