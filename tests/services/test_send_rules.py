"""Send rules in the data file: what holds for a distribution, counting caps, estimates."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from leaddesk.core import schedule
from leaddesk.core.caps import Caps
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.core.send_windows import SendWindows
from leaddesk.core.status import DeliveryState
from leaddesk.services import directory, distributions, send_rules
from leaddesk.services.distributions import NewDistribution
from leaddesk.services.send_rules import SendRules
from leaddesk.storage.models import Delivery, Distribution

BERLIN = "Europe/Berlin"
OFFICE_HOURS = SendWindows.parse("mon-fri 09:00-18:00", BERLIN)


def create(database, list_id, affiliate_id, offer_id, rules=None, title="Spring") -> int:
    with database.writer() as session:
        created = distributions.create_distribution(
            session,
            NewDistribution(
                title=title,
                lead_list_id=list_id,
                affiliate_id=affiliate_id,
                offer_id=offer_id,
                interval=SendInterval(1, PeriodUnit.MINUTES),
                fixed_fields={},
                manager_name="Dana",
                send_rules=rules or SendRules(),
            ),
        )
        session.commit()
        return created.id


def offer_rules(database, offer_id, rules: SendRules) -> None:
    with database.writer() as session:
        directory.set_offer_send_rules(session, offer_id, rules)
        session.commit()


def claim(database, distribution_id: int, count: int, at: datetime) -> None:
    """Mark the first `count` queued leads as sent at `at`, as the sender's claim does."""
    with database.writer() as session:
        for position in range(count):
            session.execute(
                update(Delivery)
                .where(Delivery.distribution_id == distribution_id, Delivery.position == position)
                .values(state=DeliveryState.ACCEPTED.value, claimed_at=at, finished_at=at)
            )
        session.commit()


def test_rules_survive_the_data_file_and_a_distribution_window_replaces_the_offers(
    database, make_list, make_offer
):
    affiliate_id, offer_id = make_offer("http://127.0.0.1:9/leads")
    offer_rules(database, offer_id, SendRules(OFFICE_HOURS, Caps(per_day=200)))
    night = SendWindows.parse("daily 22:00-06:00", BERLIN)
    own = create(database, make_list(), affiliate_id, offer_id, SendRules(night, Caps(per_hour=5)))
    plain = create(database, make_list("Autumn"), affiliate_id, offer_id, title="Autumn")

    with database.session() as session:
        own_rules = send_rules.rules_of(session, own)
        plain_rules = send_rules.rules_of(session, plain)

    assert own_rules.windows == night
    assert (own_rules.offer_caps, own_rules.distribution_caps) == (
        Caps(per_day=200),
        Caps(per_hour=5),
    )
    assert plain_rules.windows == OFFICE_HOURS
    assert plain_rules.describe() == "sending mon-fri 09:00-18:00 Europe/Berlin, 200 a day"


def test_caps_count_an_offers_leads_in_the_advertisers_day_and_hour(
    database, make_list, make_offer
):
    affiliate_id, offer_id = make_offer("http://127.0.0.1:9/leads")
    first = create(database, make_list("Spring", 5), affiliate_id, offer_id)
    second = create(database, make_list("Autumn", 5), affiliate_id, offer_id, title="Autumn")
    # 2026-03-10 22:30 UTC is 23:30 in Berlin; 23:10 UTC is already the next Berlin day.
    claim(database, first, 2, datetime(2026, 3, 10, 22, 30))
    claim(database, second, 3, datetime(2026, 3, 10, 23, 10))

    with database.session() as session:
        late = send_rules.usage(session, datetime(2026, 3, 10, 22, 50), BERLIN, offer_id=offer_id)
        next_day = send_rules.usage(
            session, datetime(2026, 3, 10, 23, 20), BERLIN, offer_id=offer_id, by_country=True
        )
        own = send_rules.usage(
            session, datetime(2026, 3, 10, 23, 20), BERLIN, distribution_id=first
        )

    assert (late.this_hour, late.today, late.total) == (2, 2, 5)
    assert (next_day.this_hour, next_day.today, next_day.total) == (3, 3, 5)
    assert dict(next_day.country_today) == {"DE": 3}
    assert (own.today, own.total) == (0, 2)


def test_the_tables_estimate_is_the_simulated_schedule_of_the_list(
    database, make_list, make_offer
):
    affiliate_id, offer_id = make_offer("http://127.0.0.1:9/leads")
    offer_rules(database, offer_id, SendRules(OFFICE_HOURS, Caps(per_day=200)))
    distribution_id = create(database, make_list(count=1000), affiliate_id, offer_id)
    # Started on a Monday at 08:00 in Berlin (07:00 UTC in winter).
    start = datetime(2026, 12, 7, 7, 0)
    with database.writer() as session:
        session.execute(
            update(Distribution)
            .where(Distribution.id == distribution_id)
            .values(started_at=start, anchor_at=start, anchor_index=0)
        )
        session.commit()
        row = distributions.load_rows(session, [distribution_id])[distribution_id]

    simulated = schedule.simulate(
        1000, start, schedule.SendPlan(60, OFFICE_HOURS, Caps(per_day=200))
    )
    # Five working days of 200 leads from 09:00 Berlin, the last at 12:19 on Friday.
    assert simulated.last_send_at == datetime(2026, 12, 11, 11, 19)
    assert row.estimated_end == simulated.last_send_at
    assert row.period_seconds == (simulated.last_send_at - start).total_seconds()
    assert row.period_description == (
        "4 d 4 h (every 1 min, sending mon-fri 09:00-18:00 Europe/Berlin, 200 a day)"
    )
    assert row.estimated_end - start > timedelta(days=4)
