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


def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issuance_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('issuance_retry_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('issuance_error', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('issuance_error')
        batch_op.drop_column('issuance_retry_at')
        batch_op.drop_column('issuance_failures')
