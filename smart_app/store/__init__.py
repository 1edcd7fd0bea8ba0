"""Server-side storage of the SMART app: launch records and sessions (SQLAlchemy async)."""

from smart_app.store.database import Database
from smart_app.store.launch_records import (
    LAUNCH_TTL_SECONDS,
    LaunchRecord,
    LaunchRecordStore,
    LaunchRefusal,
)
from smart_app.store.sessions import SessionStore, StoredSession

__all__ = [
    "LAUNCH_TTL_SECONDS",
    "Database",
    "LaunchRecord",
    "LaunchRecordStore",
    "LaunchRefusal",
    "SessionStore",
    "StoredSession",
]
