"""staff second factor: staffuser.totp_secret, totp_last_step, recovery_codes; staffsession.pending

Revision ID: b3d5f7a9c1e2
Revises: a3d8f0c6e2b9
Create Date: 2026-12-03 12:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = 'b3d5f7a9c1e2'
down_revision: Union[str, Sequence[str], None] = 'a3d8f0c6e2b9'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('staffuser', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sqlmodel.sql.sqltypes.AutoString(), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('recovery_codes', sqlmodel.sql.sqltypes.AutoString(), server_default='',
                                      nullable=False))
    with op.batch_alter_table('staffsession', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('staffsession', schema=None) as batch_op:
        batch_op.drop_column('pending')
    with op.batch_alter_table('staffuser', schema=None) as batch_op:
        batch_op.drop_column('recovery_codes')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
