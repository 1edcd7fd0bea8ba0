"""The page that last saved each study draft, and how many saves it had sent.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Nullable columns: both databases add them in place, existing drafts keep no editor.
    op.add_column("study_drafts", sa.Column("editor", sa.String(64), nullable=True))
    op.add_column("study_drafts", sa.Column("editor_sequence", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("study_drafts") as table:  # SQLite drops columns by copying
        table.drop_column("editor_sequence")
        table.drop_column("editor")
