"""appointments cancelled by a closure are marked (appointment.cancel_reason), for the staff's call list

Revision ID: c4f2a8e61d93
Revises: e7a1c9d2b4f0
Create Date: 2026-12-03 12:50:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = 'c4f2a8e61d93'
down_revision: Union[str, Sequence[str], None] = 'e7a1c9d2b4f0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=20), server_default='',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
