"""update_time trigger

The ORM's onupdate only covers updates the ORM makes; a trigger covers every UPDATE, including
the bulk ones and those made by hand in psql.

Revision ID: 5e1c8f0a7b3d
Revises: b6d0d1ff2a4c
Create Date: 2024-06-11 09:32:40.118342

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5e1c8f0a7b3d"
down_revision: str | None = "b6d0d1ff2a4c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("user_account", "refresh_token")


def upgrade() -> None:
    # clock_timestamp(), not now(): now() is the transaction's start, the same for every row.
    op.execute(
        """
        CREATE FUNCTION set_update_time() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.update_time = clock_timestamp();
            RETURN NEW;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_update_time BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_update_time()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_update_time ON {table}")
    op.execute("DROP FUNCTION set_update_time()")
