"""content translations can be "to review": contenttranslation.stale

Set when the Spanish text of the field changes; cleared when staff confirm or update the translation.

Revision ID: e7a1c9d2b4f0
Revises: e19a0c7d5b21
Create Date: 2026-12-03 09:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'e7a1c9d2b4f0'
down_revision: Union[str, Sequence[str], None] = 'e19a0c7d5b21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('contenttranslation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stale', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('contenttranslation', schema=None) as batch_op:
        batch_op.drop_column('stale')
