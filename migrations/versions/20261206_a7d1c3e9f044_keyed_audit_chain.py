"""keyed audit chain

Each audit event carries a MAC of its hash made with a data key
(``audit_events.mac``, ``kid:hex``), so a chain recomputed without the key is
detected. Events written before this revision have none.

Revision ID: a7d1c3e9f044
Revises: 99c58da84665
Create Date: 2026-12-06 04:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d1c3e9f044'
down_revision = '99c58da84665'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mac', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('mac')
