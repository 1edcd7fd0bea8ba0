"""The table of study drafts: one row per study a user works on for a patient in one EHR,
holding the study as typed (valid or not) and the problems found in it.

Patient data lives here by design (this is the product's store); it never goes to logs.
Times are seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smart_app.store.tables import Base

__all__ = ["DraftRow"]


class DraftRow(Base):
    __tablename__ = "study_drafts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ehr_iss: Mapped[str] = mapped_column(String(2048))
    patient_id: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(500))
    study_id: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer)  # bumped on every save (compare-and-swap)
    state: Mapped[str] = mapped_column(String(16))  # editing | signed
    study_json: Mapped[str] = mapped_column(Text)
    problems_json: Mapped[str] = mapped_column(Text)
    based_on_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    signed_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The page (one render of the results page) that made the last save, and how many saves
    # it had sent: a later state of that page may replace its own earlier one. Cleared by any
    # other save, by signing and by starting an amendment.
    editor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    editor_sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint(
            "ehr_iss", "patient_id", "user_id", "study_id", name="uq_study_drafts_owner_study"
        ),
        Index("ix_study_drafts_owner_state", "ehr_iss", "patient_id", "user_id", "state"),
    )
