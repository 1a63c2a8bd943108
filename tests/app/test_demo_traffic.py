"""The demo's request trickle, driven against a real HTTP server on loopback (the scoring stub)."""

from __future__ import annotations

import socket

import pytest
from scoringstub import Behaviour, scoring_stub

from steward.app.demo_traffic import Target, TrafficPlan, Trickle, read_rows
from testkit import REPO_ROOT

SAMPLES = REPO_ROOT / "steward" / "sample_data"
CREDIT = Target("Prod", "credit-default", SAMPLES / "credit" / "production.csv")
BIKE = Target("Prod", "bike-demand", SAMPLES / "bike" / "production_2012.csv", drop_columns=("instant",))


def test_rows_are_the_sample_production_rows_with_numbers_as_numbers():
    rows = read_rows(BIKE)
    assert len(rows) > 1000
    first = rows[0]
    assert "instant" not in first and first["dteday"] == "2012-01-01"
    assert first["hr"] == 0 and isinstance(first["temp"], float)


def test_steady_singles_then_a_slow_stretch_of_batches_on_every_target():
    plan = TrafficPlan(
        requests_per_second=40,
        cycle_seconds=1.0,
        slow_start_seconds=0.5,
        slow_seconds=0.3,
        slow_batch_rows=25,
    )
    with scoring_stub(Behaviour(version=3)) as stub:
        trickle = Trickle(stub.url, "load-test-key", [CREDIT, BIKE], plan)
        counts = trickle.run(duration=1.6)
    assert counts.failed == 0 and counts.answered == counts.sent == stub.seen.requests
    assert stub.seen.paths == {"Prod/credit-default", "Prod/bike-demand"}
    assert 0 < counts.batches < counts.sent  # mostly single records, some batches in the stretch
    assert counts.versions == {"3"}
    single = stub.seen.records[0]  # the stub keeps single-record bodies
    assert set(single) <= set(read_rows(CREDIT)[0]) | set(read_rows(BIKE)[0])


def test_a_wrong_key_is_counted_as_failed_not_raised():
    with scoring_stub() as stub:
        counts = Trickle(stub.url, "not-the-key", [CREDIT], TrafficPlan(requests_per_second=50)).run(
            duration=0.3
        )
    assert counts.sent > 0 and counts.failed == counts.sent and stub.seen.unauthorised == counts.sent


def test_a_service_that_is_away_is_counted_and_the_trickle_keeps_going():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    counts = Trickle(f"http://127.0.0.1:{port}", "k", [CREDIT], TrafficPlan(requests_per_second=50)).run(
        duration=0.3
    )
    assert counts.sent > 1 and counts.failed == counts.sent


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"requests_per_second": 0}, "requests_per_second"),
        ({"slow_start_seconds": 590, "slow_seconds": 20}, "slow stretch"),
        ({"slow_batch_rows": 0}, "slow_batch_rows"),
    ],
)
def test_a_plan_that_cannot_run_is_refused_naming_the_setting(changes, problem):
    with pytest.raises(ValueError, match=problem):
        TrafficPlan(**changes)


def test_the_trickle_waits_for_readyz_before_sending():
    """45 of the first 723 demo requests failed while the service loaded: the trickle now waits."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked = []

    class Loading(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200 if len(asked) >= 3 else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Loading)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        trickle = Trickle(f"http://127.0.0.1:{server.server_port}", "k", [CREDIT])
        assert trickle.wait_ready(timeout=30, poll=0.05)
        assert asked == ["/readyz"] * 3, "two 503s while loading, then ready"
    finally:
        server.shutdown()
        server.server_close()


def test_waiting_for_a_service_that_never_listens_gives_up_at_the_timeout():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert not Trickle(f"http://127.0.0.1:{port}", "k", [CREDIT]).wait_ready(timeout=0.3, poll=0.05)
