"""appointments cancelled by a closure are marked (appointment.cancel_reason), for the staff's call list; wall
screens open with a revocable display token (displaytoken)

Revision ID: c4f2a8e61d93
Revises: b3d5f7a9c1e2
Create Date: 2026-12-03 12:50:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = 'c4f2a8e61d93'
down_revision: Union[str, Sequence[str], None] = 'b3d5f7a9c1e2'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=20), server_default='',
                                      nullable=False))
    op.create_table(
        'displaytoken',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['office_id'], ['office.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('displaytoken', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_displaytoken_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_displaytoken_token_hash'), ['token_hash'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('displaytoken', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_displaytoken_token_hash'))
        batch_op.drop_index(batch_op.f('ix_displaytoken_office_id'))
    op.drop_table('displaytoken')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
