"""certificate expiry announced

When ``certificate.expired`` was announced for a certificate (once, by the
sweeper), and the index the sweeper's question uses.

Revision ID: c4e2a9b7d310
Revises: 3b8e1d5c7a42
Create Date: 2026-12-06 07:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e2a9b7d310'
down_revision = '3b8e1d5c7a42'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN: rebuilding the certificates table would trip the foreign keys
# of the tables that reference it.


def upgrade():
    op.add_column('certificates', sa.Column('expiry_announced_at', sa.DateTime(), nullable=True))
    op.create_index(
        'ix_certificates_expiry_due', 'certificates', ['expiry_announced_at', 'expires_at']
    )


def downgrade():
    op.drop_index('ix_certificates_expiry_due', table_name='certificates')
    op.drop_column('certificates', 'expiry_announced_at')
