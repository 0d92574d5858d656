"""availability versions: one shared availability answer per procedure and office

Revision ID: e19a0c7d5b21
Revises: b4f1c2d3e5a6
Create Date: 2026-12-03 08:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'e19a0c7d5b21'
down_revision: Union[str, Sequence[str], None] = 'b4f1c2d3e5a6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('procedureoffice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grid_version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('seats_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('procedureoffice', schema=None) as batch_op:
        batch_op.drop_column('seats_version')
        batch_op.drop_column('grid_version')
