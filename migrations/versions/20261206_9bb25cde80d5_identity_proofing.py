"""identity proofing: one proof per application; users' verified e-mail addresses

Existing accounts start unverified: their next filing asks them to verify the
address, as a new account would. Applications filed before this revision keep
their status and have no proof (their certificates carry no ``idm`` claim).

Revision ID: 9bb25cde80d5
Revises: a7d1c3e9f044
Create Date: 2026-12-06 03:44:15.053860

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9bb25cde80d5'
down_revision = 'a7d1c3e9f044'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('identity_proofs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('application_id', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=True),
    sa.Column('vouched_by', sa.String(length=200), nullable=True),
    sa.Column('organisation_id', sa.String(length=32), nullable=True),
    sa.Column('checker_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_identity_proofs_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_proofs')),
    sa.UniqueConstraint('application_id', name=op.f('uq_identity_proofs_application_id')),
    sa.UniqueConstraint('code', name=op.f('uq_identity_proofs_code'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')

    op.drop_table('identity_proofs')
