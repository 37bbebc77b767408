"""latin names

The name as the identity document's machine-readable zone writes it, given
or derived at filing: sent to agencies beside the name as filed, printed on
the certificate, and the source of the name the QR code carries.

Revision ID: 3b8e1d5c7a42
Revises: 5e1f0c9a3b27
Create Date: 2026-12-06 07:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b8e1d5c7a42'
down_revision = '5e1f0c9a3b27'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite 3.35+ has both): rebuilding the applications table,
# which other tables reference, would trip their foreign keys.


def upgrade():
    op.add_column('applications', sa.Column('latin_family_name', sa.String(length=400), nullable=True))
    op.add_column('applications', sa.Column('latin_given_names', sa.String(length=800), nullable=True))


def downgrade():
    op.drop_column('applications', 'latin_given_names')
    op.drop_column('applications', 'latin_family_name')
