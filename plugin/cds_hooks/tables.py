"""The CDS Hooks tables in the product's database (created by its migrations, 0005, 0007 and
0010),
on one metadata of their own beside the SMART app's.

- `cds_feedback` — card feedback (CDS Hooks 2.0 §Feedback), one row per distinct report. `key`
  is the SHA-256 identity of a report (`FeedbackItem.key`), so the same feedback sent again
  finds its row instead of adding one. Rows name cards and suggestions by uuid only: cards are
  not stored, so nothing here says which patient a card was about. `outcome_timestamp` is the
  client's ISO 8601 instant.
- `cds_token_ids` — CDS client JWT ids already used (`jti`, §Trusting CDS Clients), one row per
  (iss, jti) until the token expires. `key` is the SHA-256 hex of the issuer and the id
  (`token_id_store.token_id_key`): no token id is stored as sent, and the key has one length
  whatever the client sends. `expires_at` is indexed: expired rows are deleted by it.
- `cds_returned_cards` — the cards the service returned, kept `CARD_RETENTION_SECONDS` so that
  feedback is checked against them by every worker (`returned_cards`): the card's uuid, the
  service and client it went to, its suggestions' uuids (JSON array) and the override reasons
  it offered (JSON array of [system, code]). No card text: nothing says which patient it was
  about. `expires_at` is indexed: expired rows are deleted by it.

Times are seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from sqlalchemy import Float, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["CdsTablesBase", "FeedbackRow", "ReturnedCardRow", "TokenIdRow", "cds_metadata"]

cds_metadata = MetaData()


class CdsTablesBase(DeclarativeBase):
    metadata = cds_metadata


class FeedbackRow(CdsTablesBase):
    __tablename__ = "cds_feedback"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(200))
    client_iss: Mapped[str] = mapped_column(String(2048))
    card_uuid: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    accepted_suggestions: Mapped[str] = mapped_column(Text)  # JSON array of suggestion uuids
    override_system: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    override_code: Mapped[str | None] = mapped_column(String(200), nullable=True)
    override_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_timestamp: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_cds_feedback_card_uuid", "card_uuid"),)


class TokenIdRow(CdsTablesBase):
    __tablename__ = "cds_token_ids"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_cds_token_ids_expires_at", "expires_at"),)


class ReturnedCardRow(CdsTablesBase):
    __tablename__ = "cds_returned_cards"

    card_uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(200))
    client_iss: Mapped[str] = mapped_column(String(2048))
    suggestions: Mapped[str] = mapped_column(Text)  # JSON array of suggestion uuids
    override_reasons: Mapped[str] = mapped_column(Text)  # JSON array of [system, code]
    issued_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_cds_returned_cards_expires_at", "expires_at"),)
