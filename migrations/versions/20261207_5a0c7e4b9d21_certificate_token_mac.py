"""certificate token mac

The MAC of a certificate's number and stored token, under a key derived from
the signing key: it vouches for the stored token in place of a signature
check on every typed-number and PDF verification. Certificates issued before
have none and are checked by their signature as before.

Revision ID: 5a0c7e4b9d21
Revises: c4e2a9b7d310
Create Date: 2026-12-07 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5a0c7e4b9d21'
down_revision = 'c4e2a9b7d310'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN: rebuilding the certificates table would trip the foreign keys
# of the tables that reference it.


def upgrade():
    op.add_column('certificates', sa.Column('token_mac', sa.String(length=64), nullable=True))


def downgrade():
    op.drop_column('certificates', 'token_mac')
