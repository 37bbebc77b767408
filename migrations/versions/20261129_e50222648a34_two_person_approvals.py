"""two-person approvals

Admins' revocations and hand-entered answers wait in ``pending_actions`` until
a second admin approves or rejects them. ``payload`` is sealed (AES-GCM, like
``checks.records``) and cleared once the action is decided.

Revision ID: e50222648a34
Revises: 2a073cd36ae7
Create Date: 2026-11-29 05:35:13.064895

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e50222648a34'
down_revision = '2a073cd36ae7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_actions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=32), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=32), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_pending_actions_decided_by_users')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_pending_actions_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_actions'))
    )
    with op.batch_alter_table('pending_actions', schema=None) as batch_op:
        batch_op.create_index('ix_pending_actions_open', ['decision', 'requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_actions_requested_by'), ['requested_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_actions_subject_id'), ['subject_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pending_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_actions_subject_id'))
        batch_op.drop_index(batch_op.f('ix_pending_actions_requested_by'))
        batch_op.drop_index('ix_pending_actions_open')

    op.drop_table('pending_actions')
