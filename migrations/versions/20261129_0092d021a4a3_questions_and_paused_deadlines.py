"""questions and paused deadlines

An officer's questions to the applicant (``check_questions``) and the pause
of a check's deadline while a question waits for its reply
(``checks.paused_at``).

Revision ID: 0092d021a4a3
Revises: b076d1a5a4a8
Create Date: 2026-11-29 05:02:32.245743

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0092d021a4a3'
down_revision = 'b076d1a5a4a8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('check_questions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('check_id', sa.String(length=32), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('asked_by', sa.String(length=100), nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['check_id'], ['checks.id'], name=op.f('fk_check_questions_check_id_checks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_questions'))
    )
    with op.batch_alter_table('check_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_questions_check_id'), ['check_id'], unique=False)

    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.drop_column('paused_at')

    with op.batch_alter_table('check_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_questions_check_id'))

    op.drop_table('check_questions')
