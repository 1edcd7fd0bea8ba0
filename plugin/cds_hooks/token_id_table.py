"""The table of CDS client JWT ids already used (`jti`, CDS Hooks 2.0 §Trusting CDS Clients),
one row per (iss, jti) until the token expires.

`key` is the SHA-256 hex of the issuer and the id (`token_id_store.token_id_key`): no token id
is stored as sent, and the key has one length whatever the client sends. `expires_at` is seconds
since the Unix epoch (UTC); indexed, because expired rows are deleted by it.
"""

from __future__ import annotations

from sqlalchemy import Float, Index, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["TokenIdBase", "TokenIdRow", "token_id_metadata"]

token_id_metadata = MetaData()


class TokenIdBase(DeclarativeBase):
    metadata = token_id_metadata


class TokenIdRow(TokenIdBase):
    __tablename__ = "cds_token_ids"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_cds_token_ids_expires_at", "expires_at"),)
