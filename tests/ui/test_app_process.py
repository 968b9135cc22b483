"""The app as a real process: it sends while open and ends cleanly when asked to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import select

from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.core.status import DeliveryState
from leaddesk.services import directory, distributions
from leaddesk.storage.models import Delivery


def test_the_app_sends_and_stops_cleanly_on_sigterm(
    tmp_path, database, make_list, make_offer, sandbox
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    list_id = make_list(count=50)
    with database.writer() as session:
        directory.set_current_manager(session, "Dana")
        distributions.create_distribution(
            session,
            distributions.NewDistribution(
                title="Spring",
                lead_list_id=list_id,
                affiliate_id=affiliate_id,
                offer_id=offer_id,
                interval=SendInterval(1, PeriodUnit.SECONDS),
                fixed_fields={},
            ),
        )
        session.commit()
    environment = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "leaddesk", "--data-dir", str(database.path.parent)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(sandbox.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(sandbox.received) >= 3
        app.send_signal(signal.SIGTERM)
        _out, errors = app.communicate(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()

    assert app.returncode == 0, errors
    assert "QThread" not in errors and "Traceback" not in errors
    received = len(sandbox.received)
    with database.session() as session:
        states = list(session.scalars(select(Delivery.state)))
    assert DeliveryState.IN_FLIGHT.value not in states
    assert states.count(DeliveryState.ACCEPTED.value) == received
    time.sleep(1.5)
    assert len(sandbox.received) == received
