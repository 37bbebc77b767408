"""outcomes, tokens and audit details sealed

``checks.outcome``, ``certificates.token`` and ``audit_events.details`` are
sealed with the data keys (AES-256-GCM, the format of
``certificate/encryption.py``), padded so that a ciphertext's length does not
tell one outcome from another; ``checks.records`` is re-sealed padded for the
same reason. Existing rows are sealed here, with the keys the running
configuration loads (``IPC_DATA_KEYS`` or the instance's key file).

Revision ID: b15607fc80e3
Revises: 0cc5e73c9330
Create Date: 2026-12-06 04:40:00

"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b15607fc80e3'
down_revision = '0cc5e73c9330'
branch_labels = None
depends_on = None

# (table, column, purpose, block, minimum, JSON?) as the models declare them today
SEALED = [
    ("checks", "outcome", "checks.outcome", 32, 0),
    ("checks", "records", "checks.records", 256, 2048),
    ("certificates", "token", "certificates.token", 256, 1024),
    ("audit_events", "details", "audit_events.details", 128, 256),
]
KEYS = {"checks": "id", "certificates": "id", "audit_events": "id"}


def _rows(table, column):
    bind = op.get_bind()
    key = KEYS[table]
    return bind.execute(
        sa.text(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
    ).all()


def _update(table, column, key, value):
    op.get_bind().execute(
        sa.text(f"UPDATE {table} SET {column} = :v WHERE {KEYS[table]} = :k"),  # noqa: S608
        {"v": value, "k": key},
    )


def upgrade():
    from certificate.encryption import keyring

    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.alter_column('outcome', existing_type=sa.String(length=30), type_=sa.Text())
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column(
            'details',
            existing_type=sa.JSON(),
            type_=sa.Text(),
            postgresql_using='details::text',
        )
    ring = keyring()
    for table, column, purpose, block, minimum in SEALED:
        for key, stored in _rows(table, column):
            if isinstance(stored, (dict, list)):
                stored = json.dumps(stored, separators=(",", ":"))
            if stored.startswith("enc:v2:"):
                continue
            plain = ring.open(stored, purpose) if stored.startswith("enc:v1:") else stored.encode()
            if column == "details":  # the JSON as the model writes it
                plain = json.dumps(json.loads(plain), separators=(",", ":")).encode()
            _update(table, column, key, ring.seal(plain, purpose, block, minimum))


def downgrade():
    from certificate.encryption import keyring

    ring = keyring()
    for table, column, purpose, _block, _minimum in SEALED:
        if column == "records":
            continue  # stays sealed: it was sealed before this revision too
        for key, stored in _rows(table, column):
            _update(table, column, key, ring.open(stored, purpose).decode())
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column(
            'details',
            existing_type=sa.Text(),
            type_=sa.JSON(),
            postgresql_using='details::json',
        )
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.alter_column('outcome', existing_type=sa.Text(), type_=sa.String(length=30))
