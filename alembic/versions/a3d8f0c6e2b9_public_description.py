"""Open311 publishes a moderated text: servicerequest.public_description and public_address

Empty until staff approve what the feed may show; the citizen's own text and address are never published as they
came.

Revision ID: a3d8f0c6e2b9
Revises: e7a1c9d2b4f0
Create Date: 2026-12-03 12:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = 'a3d8f0c6e2b9'
down_revision: Union[str, Sequence[str], None] = 'e7a1c9d2b4f0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('servicerequest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_description', sqlmodel.sql.sqltypes.AutoString(), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('public_address', sqlmodel.sql.sqltypes.AutoString(), server_default='',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('servicerequest', schema=None) as batch_op:
        batch_op.drop_column('public_address')
        batch_op.drop_column('public_description')
