"""Issue #20 point 15: a certificate took 1.7-2.3 s in the portal while the bench measured
~220 ms. cProfile of the portal's first certificate in a fresh process: ~2 s importing
WeasyPrint (cffi parsing pango's declarations) and ~0.6 s of its first render (fontconfig, the
CJK font), then the same ~0.3 s as the library. Every worker of ``goldticket serve`` paid this
on its first certificate or statement. A worker now loads them in the background when it
starts (``create_app`` opening its own portal, as gunicorn calls it); the cost per request is
measured in bench/certificates.py (portal rows), not asserted here."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from goldticket.services import setup
from goldticket.settings import Settings

pytestmark = pytest.mark.functional

CHILD = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from goldticket import certificates as pdf
    from goldticket.services.certificates import documents
    from goldticket.settings import Settings
    from web import WARM_THREAD, create_app

    settings = Settings(**{settings!r})
    assert "weasyprint" not in sys.modules and not pdf.is_warm()
    app = create_app({{"GOLDTICKET_SETTINGS": settings, "FOLLOW_SECONDS": 0}})
    warming = [t for t in threading.enumerate() if t.name == WARM_THREAD]
    assert len(warming) == 1, warming
    warming[0].join(timeout=300)
    assert not warming[0].is_alive()
    print("warm", pdf.is_warm(), len(documents._SIGNERS))
    """
)


def _child(settings: Settings, tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    values = {
        "data_dir": Path(settings.data_dir),
        "env": "test",
        "today": settings.today,
        "card_backend": settings.card_backend,
        "card_kdf_n": settings.card_kdf_n,
        "signer_rate": settings.signer_rate,
        "operator_password": settings.operator_password,
        "operator_pin": settings.operator_pin,
    }
    script = tmp_path / "child.py"
    script.write_text("import datetime\nfrom pathlib import PosixPath\n" + code.format(settings=values))
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=Path.cwd()
    )


def test_a_served_worker_loads_the_pdf_renderer_and_signer_before_the_first_certificate(
    settings: Settings, tmp_path: Path
) -> None:
    setup.init_platform(settings).close()
    done = _child(settings, tmp_path, CHILD)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["warm", "True", "1"], done.stdout


def test_an_app_given_its_portal_by_a_test_does_not_warm_unless_asked(
    settings: Settings, tmp_path: Path
) -> None:
    setup.init_platform(settings).close()
    code = CHILD.replace(
        'create_app({{"GOLDTICKET_SETTINGS": settings, "FOLLOW_SECONDS": 0}})',
        'create_app({{"GOLDTICKET_SETTINGS": settings, "FOLLOW_SECONDS": 0, "WARM_PDF": False}})',
    ).replace("assert len(warming) == 1, warming", "assert warming == [], warming; raise SystemExit(0)")
    done = _child(settings, tmp_path, code)
    assert done.returncode == 0, done.stderr[-3000:]
