"""how an appointment was booked (appointment.channel): "web", or "phone" / "counter" when staff booked it for the
person; rows from before are web bookings

Revision ID: a7d3c1e9f502
Revises: d8e2b6c4a9f1
Create Date: 2026-12-03 19:10:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = 'a7d3c1e9f502'
down_revision: Union[str, Sequence[str], None] = "d8e2b6c4a9f1"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), server_default='web',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_column('channel')
