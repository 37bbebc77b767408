"""encryption at rest and log-in security

Seals identity document numbers, record details and officers' questions with
the instance's data key (existing rows are encrypted in place), and adds the
users' second factor, session epoch and lock-out columns.

Revision ID: 5e1f0c2a9b7d
Revises: d8b68a6c8768
Create Date: 2026-11-29 05:30:00

"""
import json

import sqlalchemy as sa
from alembic import op

revision = '5e1f0c2a9b7d'
down_revision = 'd8b68a6c8768'
branch_labels = None
depends_on = None

# (table, key column, column, purpose, is_json)
SEALED = [
    ("applications", "id", "document_number", "applications.document_number", False),
    ("checks", "id", "records", "checks.records", True),
    ("check_questions", "id", "question", "check_questions.question", False),
    ("check_questions", "id", "reply", "check_questions.reply", False),
]


def _reseal(seal):
    connection = op.get_bind()
    for table, key, column, purpose, is_json in SEALED:
        rows = connection.execute(
            sa.text(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL")
        ).all()
        for row_id, value in rows:
            connection.execute(
                sa.text(f"UPDATE {table} SET {column} = :value WHERE {key} = :id"),
                {"value": seal(value, purpose, is_json), "id": row_id},
            )


def upgrade():
    from certificate.encryption import keyring

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.alter_column('document_number', existing_type=sa.String(length=40),
                              type_=sa.Text(), existing_nullable=False)
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.alter_column('records', existing_type=sa.JSON(), type_=sa.Text(),
                              existing_nullable=False, postgresql_using='records::text')

    def seal(value, purpose, is_json):
        if value.startswith("enc:v1:"):
            return value
        plain = json.dumps(json.loads(value), separators=(",", ":")) if is_json else value
        return keyring().seal(plain.encode(), purpose)

    _reseal(seal)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))


def downgrade():
    from certificate.encryption import keyring

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('session_epoch')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')

    def unseal(value, purpose, is_json):
        return keyring().open(value, purpose).decode() if value.startswith("enc:v1:") else value

    _reseal(unseal)
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.alter_column('records', existing_type=sa.Text(), type_=sa.JSON(),
                              existing_nullable=False, postgresql_using='records::json')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.alter_column('document_number', existing_type=sa.Text(),
                              type_=sa.String(length=40), existing_nullable=False)
