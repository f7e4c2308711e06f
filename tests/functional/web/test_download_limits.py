"""Issue #17, certificate downloads: the per-user limit holds across gunicorn workers. Each
worker is a process with its own Portal; the counts live in the portal database (SQLite or
PostgreSQL), taken atomically, each row naming the requesting user."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from goldticket.services import Actor
from goldticket.services.certificates import issue
from goldticket.services.errors import RateLimitedError
from goldticket.services.portal import Portal

pytestmark = pytest.mark.functional

USER = Actor("tier1.clerk", "tier1", "supplier")

WORKER = """
import sys
from pathlib import Path
from goldticket.services import Actor
from goldticket.services.certificates import issue
from goldticket.services.errors import RateLimitedError
from goldticket.services.portal import Portal
from goldticket.settings import Settings

settings = Settings(data_dir=Path(sys.argv[1]), ledger="local", env="test", database_url=sys.argv[2] or None)
portal = Portal.open(settings)
taken = 0
try:
    for _ in range(int(sys.argv[3])):
        try:
            issue._take_download(portal.platform, Actor("tier1.clerk", "tier1", "supplier"))
            taken += 1
        except RateLimitedError:
            pass
finally:
    portal.close()
print(taken)
"""


def _worker(portal: Portal, count: int) -> int:
    """``count`` downloads of USER's taken in another process (a second gunicorn worker)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER,
            str(portal.settings.data_dir),
            portal.settings.database_url or "",
            str(count),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    return int(done.stdout.strip())


def _take(portal: Portal) -> bool:
    try:
        issue._take_download(portal.platform, USER)
    except RateLimitedError:
        return False
    return True


def test_two_workers_share_the_download_limit(portal):
    """Two processes on one data directory: together no more than DOWNLOADS_PER_HOUR."""
    limit = issue.DOWNLOADS_PER_HOUR
    first = sum(_take(portal) for _ in range(limit - 5))
    assert first == limit - 5
    assert _worker(portal, 10) == 5  # the other worker gets only what is left of the hour
    assert not _take(portal)


def test_concurrent_downloads_through_two_portals_never_pass_the_limit(portal):
    """Two Portal objects on one database, 2 x 24 downloads at once: exactly the limit pass,
    each recorded with the requesting user."""
    from sqlalchemy import select

    from goldticket.store.models import CertificateDownload

    second = Portal.open(portal.settings)
    try:
        barrier = threading.Barrier(48)
        outcomes: list[bool] = []

        def attempt(which: Portal) -> None:
            barrier.wait()
            outcomes.append(_take(which))

        threads = [threading.Thread(target=attempt, args=(p,)) for p in (portal, second) for _ in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(outcomes) == 48
        assert outcomes.count(True) == issue.DOWNLOADS_PER_HOUR, outcomes
        with second.database.session() as session:
            rows = list(session.scalars(select(CertificateDownload)))
        assert len(rows) == issue.DOWNLOADS_PER_HOUR
        assert {(row.username, row.member_id) for row in rows} == {(USER.username, USER.member_id)}
    finally:
        second.close()


def test_a_refused_download_says_when_to_come_back(portal):
    for _ in range(issue.DOWNLOADS_PER_HOUR):
        assert _take(portal)
    with pytest.raises(RateLimitedError, match="at most 30 certificates an hour per user") as refused:
        issue._take_download(portal.platform, USER)
    assert 0 < (refused.value.retry_after or 0) <= 3600
