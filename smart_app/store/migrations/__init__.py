"""Alembic migrations of the SMART app's tables (version table `smart_app_alembic_version`)."""

__all__: list[str] = []
