"""Seed the default category every item falls into

Revision ID: 1a31ce608336
Revises: 9c0a54914c78
Create Date: 2024-04-12 16:02:11.407281

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "1a31ce608336"
down_revision = "9c0a54914c78"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("INSERT INTO category (name) VALUES ('general')")


def downgrade():
    op.execute("DELETE FROM category WHERE name = 'general'")
