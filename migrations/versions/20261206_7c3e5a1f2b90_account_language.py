"""account language

The language an account's pages and e-mails are in: set at sign-up from the
page's language and whenever a signed-in user picks one with ``?lang=``.

Revision ID: 7c3e5a1f2b90
Revises: e50222648a34
Create Date: 2026-12-06 04:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e5a1f2b90'
down_revision = 'e50222648a34'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
