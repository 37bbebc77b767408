"""organisations: employers, their members, API keys, requests to candidates and webhooks

Revision ID: 0cc5e73c9330
Revises: de54ea1a7327
Create Date: 2026-12-06 04:39:08.032162

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0cc5e73c9330'
down_revision = 'de54ea1a7327'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=64), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    op.create_table('organisation_api_keys',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_api_keys_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_organisation_api_keys_key_hash'))
    )
    with op.batch_alter_table('organisation_api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_api_keys_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('webhooks',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.String(length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('disabled_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_webhooks_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhooks_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('candidate_requests',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.String(length=32), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('application_id', sa.String(length=32), nullable=True),
    sa.Column('candidate_id', sa.String(length=32), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('shared_at', sa.DateTime(), nullable=True),
    sa.Column('stopped_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_candidate_requests_application_id_applications')),
    sa.ForeignKeyConstraint(['candidate_id'], ['users.id'], name=op.f('fk_candidate_requests_candidate_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_candidate_requests_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate_requests'))
    )
    with op.batch_alter_table('candidate_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_candidate_requests_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_candidate_requests_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id'])



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))
        batch_op.drop_column('organisation_id')

    with op.batch_alter_table('candidate_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_requests_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_candidate_requests_application_id'))

    op.drop_table('candidate_requests')
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhooks_organisation_id'))

    op.drop_table('webhooks')
    with op.batch_alter_table('organisation_api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_api_keys_organisation_id'))

    op.drop_table('organisation_api_keys')
    op.drop_table('organisations')
