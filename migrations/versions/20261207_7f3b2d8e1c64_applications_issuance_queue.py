"""applications issuance queue index

The sweeper asks on every pass (every 2 s by default) which applications in
progress owe a certificate, in order of failures and age. Without an index
that question scanned every application ever filed: at a million, some
hundreds of milliseconds of the database's CPU every pass.

Revision ID: 7f3b2d8e1c64
Revises: 5a0c7e4b9d21
Create Date: 2026-12-07 06:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7f3b2d8e1c64'
down_revision = '5a0c7e4b9d21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_applications_issuance_queue',
        'applications',
        ['status', 'issuance_failures', 'created_at'],
    )


def downgrade():
    op.drop_index('ix_applications_issuance_queue', table_name='applications')
