"""The tables of the data file, as SQLAlchemy 2 declarative models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Setting(Base):
    """A remembered preference, such as the current manager."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Manager(Base):
    __tablename__ = "manager"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Affiliate(Base):
    __tablename__ = "affiliate"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Offer(Base):
    __tablename__ = "offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # How requests are built and answers read (leaddesk.core.offer_config); never secrets.
    config: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # Send windows, time zone and caps the advertiser sets; empty means any time, no cap.
    send_rules: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")

    product: Mapped[Product | None] = relationship()


class OfferSecret(Base):
    """A secret of an offer kept in the data file, where no system keyring is available."""

    __tablename__ = "offer_secret"
    __table_args__ = (UniqueConstraint("offer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"))
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text)


class LeadList(Base):
    __tablename__ = "lead_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    source_file: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("manager.id"))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    lead_count: Mapped[int] = mapped_column(Integer, default=0)
    refused_count: Mapped[int] = mapped_column(Integer, default=0)
    # Refused rows that repeat an earlier lead of the same list (a subset of refused_count).
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An archived list is kept with its leads and history but hidden from everyday choices.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)

    created_by: Mapped[Manager | None] = relationship()


class Lead(Base):
    __tablename__ = "lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_list_id: Mapped[int] = mapped_column(ForeignKey("lead_list.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    # Columns of the file that map to no lead field, kept so nothing the manager had is lost.
    extra: Mapped[dict] = mapped_column(JSON, default=dict)


class RefusedRow(Base):
    """A row of an imported file that did not become a lead, with the reason why."""

    __tablename__ = "refused_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_list_id: Mapped[int] = mapped_column(ForeignKey("lead_list.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict] = mapped_column(JSON, default=dict)


class Distribution(Base):
    __tablename__ = "distribution"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    manager_id: Mapped[int] = mapped_column(ForeignKey("manager.id"), index=True)
    lead_list_id: Mapped[int] = mapped_column(ForeignKey("lead_list.id"), index=True)
    affiliate_id: Mapped[int] = mapped_column(ForeignKey("affiliate.id"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)
    period_unit: Mapped[str] = mapped_column(String(8))
    period_value: Mapped[int] = mapped_column(Integer)
    fixed_fields: Mapped[dict] = mapped_column(JSON, default=dict)
    # What the advertiser receives, summarised once at creation for the table.
    data_setting: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The pace is anchored here: the lead at position anchor_index is due at anchor_at.
    anchor_at: Mapped[datetime | None] = mapped_column(DateTime)
    anchor_index: Mapped[int] = mapped_column(Integer, default=0)
    # Counters kept beside the deliveries so the table never has to count a million rows.
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    unknown: Mapped[int] = mapped_column(Integer, default=0)
    last_lead_label: Mapped[str] = mapped_column(String(200), default="")
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Why an Active distribution is not sending now ("waiting for the advertiser"), and until
    # when; or why it was paused by LeadDesk rather than by a manager.
    waiting_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    waiting_until: Mapped[datetime | None] = mapped_column(DateTime)
    status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Send windows and caps of this distribution, overriding its offer's; empty: the offer's.
    send_rules: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")

    manager: Mapped[Manager] = relationship()
    lead_list: Mapped[LeadList] = relationship()
    affiliate: Mapped[Affiliate] = relationship()
    offer: Mapped[Offer] = relationship()


class Delivery(Base):
    """One lead of one distribution: whether, when and how it reached the advertiser."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("distribution_id", "lead_id"),
        Index("ix_delivery_distribution_state_position", "distribution_id", "state", "position"),
        # A sender that starts looks for leads left in flight; few are, so the index is small.
        Index("ix_delivery_in_flight", "state", sqlite_where=text("state = 'in_flight'")),
        # Caps count the leads an offer received in the current hour and day.
        Index("ix_delivery_claimed_at", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    distribution_id: Mapped[int] = mapped_column(ForeignKey("distribution.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    response_text: Mapped[str] = mapped_column(Text, default="")
    advertiser_lead_id: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    # accepted, duplicate, invalid, denied, rejected or unknown: how the answer was read.
    verdict: Mapped[str] = mapped_column(String(16), default="", server_default="")
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    autologin_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A password LeadDesk generated for this lead, since the advertiser needs one to log in.
    generated_password: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # Earlier outcomes of a lead the manager chose to send again, oldest first.
    history: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
