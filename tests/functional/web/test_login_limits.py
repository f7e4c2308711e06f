"""Issue #17 point 12, as an attacker tries it: wrong passwords raced past the limit, and an
anonymous client keeping a user (``operator`` included) locked out. Logins are counted
atomically and slowed by a growing delay per account and per address, never a lockout that
one address can keep up."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from support import OPERATOR_PASSWORD

from goldticket.services import accounts, login_limits
from goldticket.services.errors import RateLimitedError, UnauthenticatedError

pytestmark = pytest.mark.functional

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(accounts, "_now", clock)
    return clock


def _try(portal, username, password, client):
    try:
        accounts.login(portal, username, password, client)
    except RateLimitedError as error:
        return 429, error
    except UnauthenticatedError as error:
        return 401, error
    return 200, None


def test_concurrent_wrong_passwords_never_pass_the_limit(portal):
    """24 wrong passwords at once: at most 5 are checked (401); the rest wait (429)."""
    barrier = threading.Barrier(24)
    outcomes: list[int] = []

    def attempt() -> None:
        barrier.wait()
        outcomes.append(_try(portal, "operator", "not the operator password", ATTACKER)[0])

    threads = [threading.Thread(target=attempt) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 24
    assert outcomes.count(401) <= login_limits.FREE_TRIES, outcomes
    assert set(outcomes) <= {401, 429}


def test_an_anonymous_client_cannot_keep_the_operator_locked_out(portal, clock):
    """The attacker sends 5 wrong passwords every 10 seconds for an hour; the operator, from
    its own address, gets in once the first delay has passed."""
    let_in = None
    for step in range(360):
        for _ in range(5):
            _try(portal, "operator", "guess " + str(step), ATTACKER)
        status, _ = _try(portal, "operator", OPERATOR_PASSWORD, OWNER)
        if status == 200:
            let_in = step
            break
        clock.advance(10)
    assert let_in is not None, "the operator stayed locked out for an hour"
    assert let_in * 10 <= login_limits.BASE_DELAY.total_seconds()


def test_the_delay_grows_and_the_right_password_works_once_it_has_passed(portal, clock):
    for _ in range(5):
        assert _try(portal, "operator", "wrong password!", ATTACKER)[0] == 401
    status, error = _try(portal, "operator", OPERATOR_PASSWORD, ATTACKER)
    assert status == 429 and error.retry_after == 30
    clock.advance(31)
    assert _try(portal, "operator", "wrong password!", ATTACKER)[0] == 401  # a sixth failure
    status, error = _try(portal, "operator", OPERATOR_PASSWORD, ATTACKER)
    assert status == 429 and error.retry_after == 60  # it doubled
    clock.advance(30)
    assert _try(portal, "operator", OPERATOR_PASSWORD, ATTACKER)[0] == 429  # refused tries add nothing
    clock.advance(31)
    assert _try(portal, "operator", OPERATOR_PASSWORD, ATTACKER)[0] == 200


def test_one_address_is_slowed_across_accounts(portal, clock):
    for number in range(login_limits.FREE_TRIES_PER_CLIENT):
        assert _try(portal, f"nobody{number}", "wrong password!", ATTACKER)[0] == 401
    assert _try(portal, "operator", OPERATOR_PASSWORD, ATTACKER)[0] == 429
    assert _try(portal, "operator", OPERATOR_PASSWORD, OWNER)[0] == 200
    clock.advance(31)
    assert _try(portal, "operator", OPERATOR_PASSWORD, ATTACKER)[0] == 200


def test_api_says_retry_after_and_tries_left(client, clock):
    from apiclient import Api

    anonymous = Api(client)
    body = anonymous.post("/auth/token", {"username": "operator", "password": "wrong password"}, expect=401)
    assert "4 tries left" in body["message"]
    for _ in range(4):
        anonymous.post("/auth/token", {"username": "operator", "password": "wrong password"}, expect=401)
    body = anonymous.post("/auth/token", {"username": "operator", "password": OPERATOR_PASSWORD}, expect=429)
    assert body["error"] == "rate_limited"
    assert anonymous.last.headers["Retry-After"] == "30"


def test_the_portal_shows_the_tries_left(client, clock):
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/login", data={"username": "operator", "password": "wrong password", "csrf_token": token}
    )
    assert answer.status_code == 401
    assert "4" in answer.get_data(as_text=True)
    assert "tries left" in answer.get_data(as_text=True) or "还可尝试" in answer.get_data(as_text=True)
