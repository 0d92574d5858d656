"""a booking for several people or procedures is one visit (appointment.visit_of points to its first row); a
booking made for someone else keeps the representative's name and contacts

Revision ID: d8e2b6c4a9f1
Revises: c4f2a8e61d93
Create Date: 2026-12-03 19:10:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

# revision identifiers, used by Alembic.
revision: str = 'd8e2b6c4a9f1'
down_revision: Union[str, Sequence[str], None] = 'c4f2a8e61d93'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_of', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('representative_name', sqlmodel.sql.sqltypes.AutoString(length=100),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('representative_email', sqlmodel.sql.sqltypes.AutoString(length=254),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('representative_phone', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_appointment_visit_of'), ['visit_of'], unique=False)
        batch_op.create_foreign_key('fk_appointment_visit_of_appointment', 'appointment', ['visit_of'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_appointment_visit_of_appointment', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_appointment_visit_of'))
        batch_op.drop_column('representative_phone')
        batch_op.drop_column('representative_email')
        batch_op.drop_column('representative_name')
        batch_op.drop_column('visit_of')
