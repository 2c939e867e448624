"""The uuid-ossp extension: ids the database can make itself

Revision ID: e2412789c190
Revises:
Create Date: 2024-03-05 10:14:03.226931

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "e2412789c190"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute('CREATE EXTENSION IF NOT EXISTS "uuid-ossp"')


def downgrade():
    op.execute('DROP EXTENSION IF EXISTS "uuid-ossp"')
