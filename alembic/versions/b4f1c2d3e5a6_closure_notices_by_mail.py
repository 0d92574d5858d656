"""closure notices go by mail: the citizennotice table is dropped

A closure that cancels appointments now queues a mail for each citizen (mailoutbox); the notices it used to store
were never delivered.

Revision ID: b4f1c2d3e5a6
Revises: 7c2e9d41a0b3
Create Date: 2026-11-25 18:15:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = 'b4f1c2d3e5a6'
down_revision: Union[str, Sequence[str], None] = '7c2e9d41a0b3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('citizennotice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_citizennotice_sent_at'))
        batch_op.drop_index(batch_op.f('ix_citizennotice_appointment_id'))
    op.drop_table('citizennotice')


def downgrade() -> None:
    op.create_table('citizennotice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('params', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('citizennotice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_citizennotice_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_citizennotice_sent_at'), ['sent_at'], unique=False)
