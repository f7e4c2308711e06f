"""The portal's database holds password and token hashes: 0600 whatever the umask."""

from __future__ import annotations

import os
import stat

import pytest

from goldticket.store.database import Database

pytestmark = pytest.mark.functional


def test_the_portal_database_is_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        database = Database(f"sqlite:///{tmp_path / 'data' / 'portal.sqlite'}")
        database.migrate()
        database.close()
    finally:
        os.umask(old)
    for name in os.listdir(tmp_path / "data"):
        mode = stat.S_IMODE(os.stat(tmp_path / "data" / name).st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == 0o700
