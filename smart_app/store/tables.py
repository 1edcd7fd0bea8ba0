"""The SMART app's tables: pending launches (keyed on `state`) and app sessions.

Secrets (the EHR's `launch` handle, the PKCE verifier, tokens, the patient context) live only
inside the encrypted `secrets` / `state` columns. Keys are SHA-256 hashes of the `state` and of
the session cookie, so a copy of the database gives no usable cookie or state. Times are
seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, LargeBinary, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "LaunchRecordRow", "SessionRow", "metadata"]

metadata = MetaData()


class Base(DeclarativeBase):
    metadata = metadata


class LaunchRecordRow(Base):
    __tablename__ = "smart_launch_records"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    iss: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[float] = mapped_column(Float)
    used_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    secrets: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_smart_launch_records_created_at", "created_at"),)


class SessionRow(Base):
    __tablename__ = "smart_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    iss: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer)  # bumped on every write (compare-and-swap)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    # Until when one worker holds the right to refresh the tokens (None: nobody).
    refresh_claimed_until: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_smart_sessions_expires_at", "expires_at"),)
