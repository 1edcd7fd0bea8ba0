"""Alembic revision scripts, oldest first."""

__all__: list[str] = []
