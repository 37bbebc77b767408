"""issuance retries: a failed issuance waits with backoff, with its error for operators

Revision ID: 5e1f0c9a3b27
Revises: b15607fc80e3
Create Date: 2026-12-06 04:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1f0c9a3b27'
down_revision = 'b15607fc80e3'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite 3.35+ has both): rebuilding the applications table,
# which other tables reference, would trip their foreign keys.


def upgrade():
    op.add_column('applications', sa.Column('issuance_failures', sa.Integer(), server_default='0', nullable=False))
    op.add_column('applications', sa.Column('issuance_retry_at', sa.DateTime(), nullable=True))
    op.add_column('applications', sa.Column('issuance_error', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('applications', 'issuance_error')
    op.drop_column('applications', 'issuance_retry_at')
    op.drop_column('applications', 'issuance_failures')
