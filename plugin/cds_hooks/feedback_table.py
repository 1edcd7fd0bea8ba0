"""The table of card feedback (CDS Hooks 2.0 §Feedback), one row per distinct report.

`key` is the SHA-256 identity of a report (`FeedbackItem.key`), so the same feedback sent again
finds its row instead of adding one. Rows name cards and suggestions by uuid only: cards are
not stored, so nothing here says which patient a card was about. Times are seconds since the
Unix epoch (UTC); `outcome_timestamp` is the client's ISO 8601 instant.
"""

from __future__ import annotations

from sqlalchemy import Float, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["FeedbackBase", "FeedbackRow", "feedback_metadata"]

feedback_metadata = MetaData()


class FeedbackBase(DeclarativeBase):
    metadata = feedback_metadata


class FeedbackRow(FeedbackBase):
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
