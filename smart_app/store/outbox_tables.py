"""The tables of signed reports and their write-back: every signed version frozen (its exact
Bundle and content hash), the outbox item that writes it to the chart, and the ledger of what
each write left in the chart (server id and version per identifier).

Rows are never deleted: an outbox item ends `written`, or stays visible (`failed`, …).
The session an item writes with is referred to by its id encrypted (a session id is as good
as the session cookie). Times are seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from smart_app.store.tables import Base

__all__ = ["LedgerEntryRow", "OutboxItemRow", "SignedReportRow"]


class SignedReportRow(Base):
    __tablename__ = "signed_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    draft_id: Mapped[str] = mapped_column(String(36))
    ehr_iss: Mapped[str] = mapped_column(String(2048))
    patient_id: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(500))
    study_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    signed_at: Mapped[float] = mapped_column(Float)
    document_type: Mapped[str] = mapped_column(String(16))
    study_json: Mapped[str] = mapped_column(Text)
    bundle_json: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    content_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("ehr_iss", "study_key", "version", name="uq_signed_reports_version"),
    )


class OutboxItemRow(Base):
    __tablename__ = "outbox_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(36), ForeignKey("signed_reports.id"), unique=True)
    ehr_iss: Mapped[str] = mapped_column(String(2048))
    patient_id: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(500))
    study_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))
    session_ref: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    strategy: Mapped[str | None] = mapped_column(String(16), nullable=True)
    plan_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    in_doubt: Mapped[int] = mapped_column(Integer)  # 1: stopped unsure whether a write landed
    notes_json: Mapped[str] = mapped_column(Text)
    # The resources the last attempt found changed in the chart (and would have overwritten),
    # and those the user then reviewed and agreed to write over (`smart_app.outbox.chart_changes`).
    chart_changes_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    accepted_changes_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    written_at: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (
        Index("ix_outbox_items_due", "state", "next_attempt_at"),
        Index("ix_outbox_items_study", "ehr_iss", "study_key", "version"),
        Index("ix_outbox_items_user", "ehr_iss", "user_id", "state"),
    )


class LedgerEntryRow(Base):
    __tablename__ = "outbox_ledger"

    item_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("outbox_items.id"), primary_key=True
    )
    step_key: Mapped[str] = mapped_column(String(600), primary_key=True)
    token: Mapped[str] = mapped_column(String(600))
    resource_type: Mapped[str] = mapped_column(String(64))
    # intended (sent, answer not yet recorded) | created | found | updated | inferred
    state: Mapped[str] = mapped_column(String(16))
    server_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    duplicates: Mapped[int] = mapped_column(Integer)  # extra copies found in the chart
    intended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    recorded_at: Mapped[float | None] = mapped_column(Float, nullable=True)
