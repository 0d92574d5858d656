"""seats per channel: a schedule keeps some seats of each slot for phone and counter booking until some hours
before (schedule.staff_seats, schedule.staff_seats_hours); a daily quota of walk-in tickets per office
(office.walk_in_quota)

Revision ID: d7a1c3e5f902
Revises: a7d3c1e9f502
Create Date: 2026-12-03 19:10:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'd7a1c3e5f902'
down_revision: Union[str, Sequence[str], None] = 'a7d3c1e9f502'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_seats', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('staff_seats_hours', sa.Integer(), server_default='24', nullable=False))
    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.add_column(sa.Column('walk_in_quota', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.drop_column('walk_in_quota')
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.drop_column('staff_seats_hours')
        batch_op.drop_column('staff_seats')
