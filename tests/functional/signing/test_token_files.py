"""SoftHSM2 token files under kills and concurrent processes (defect 7 of docs/operations.md,
"Reliability drills"). SoftHSM 2.6.1 rewrites a token's token.object on every C_Login in place
(ftruncate, unlock, then write at fclose): a process killed in between left the token.object
empty for good (its label, flags and PIN blobs gone), and a process initialising the library
in between read an empty one and failed with CKR_GENERAL_ERROR (the restarted gateway's first
signature). Each test runs real processes on a real SoftHSM2 token directory, bounded in count
and time."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from goldticket.messages.crypto import sha256
from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory, default_module_path

pytestmark = [
    pytest.mark.functional,
    pytest.mark.skipif(default_module_path() is None, reason="SoftHSM2 is not installed"),
]

SERIAL = "BS00000000000000a7"
PIN = "246810"
KILLS, KILL_SECONDS = 12, 90.0

# A process signing with the card: "ready" after its first signature, then signatures until killed
# (or `count` of them, each after a fresh C_Initialize when `fresh`, printing the failures).
SIGNER = textwrap.dedent(
    """
    import sys
    from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory
    module_path, token_dir, serial, pin, count, fresh = sys.argv[1:7]
    factory = Pkcs11CardFactory(module_path, token_dir=token_dir)
    card = factory.card(serial)
    failures = []
    for number in range(int(count)):
        if fresh == "1":
            with factory._module.lock:
                factory._module.activate(factory.config_path)
                factory._module.refresh()
        try:
            card.sign_digest(bytes(32), pin)
        except Exception as error:
            failures.append(f"{type(error).__name__}: {error}")
        if number == 0:
            print("ready", flush=True)
    print("failures", len(failures), failures[:3], flush=True)
    """
)


def _factory(directory: Path) -> Pkcs11CardFactory:
    module = default_module_path()
    assert module is not None
    return Pkcs11CardFactory(module, token_dir=directory / "softhsm" / "tokens")


def _signer(factory: Pkcs11CardFactory, count: int, *, fresh: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            SIGNER,
            factory.module_path,
            str(factory.token_dir),
            SERIAL,
            PIN,
            str(count),
            "1" if fresh else "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def _signs(factory: Pkcs11CardFactory, public: ec.EllipticCurvePublicKey) -> None:
    """A new process signs with the card, and the signature verifies."""
    done = subprocess.run(
        [sys.executable, "-c", SIGNER, factory.module_path, str(factory.token_dir), SERIAL, PIN, "1", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "failures 0 " in done.stdout, done.stdout + done.stderr[-2000:]
    signature = factory.card(SERIAL).sign_digest(sha256(b"after"), PIN)
    public.verify(signature, sha256(b"after"), ec.ECDSA(Prehashed(hashes.SHA256())))


def test_a_kill_9_in_the_middle_of_signatures_leaves_the_card_usable(tmp_path: Path) -> None:
    """Killed while signing in a loop, at a random moment, up to KILLS times: each time a new
    process still signs with the card (today's SoftHSM2 left the token.object empty in about
    half of such kills, the card's key lost with it)."""
    factory = _factory(tmp_path)
    scalar = random.randrange(1, 2**255)
    factory.card(SERIAL).put_key(scalar, PIN)
    public = ec.derive_private_key(scalar, ec.SECP256R1()).public_key()
    began = time.monotonic()
    for _ in range(KILLS):
        if time.monotonic() - began > KILL_SECONDS:
            break
        process = _signer(factory, 10**6)
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
            time.sleep(random.uniform(0.05, 0.25))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            process.stdout.close() if process.stdout else None
        _signs(factory, public)


def test_processes_reading_the_tokens_while_another_signs_never_fail(tmp_path: Path) -> None:
    """Two processes sign in a loop, one of them initialising the library before every
    signature (as a restarted gateway does, or softhsm2-util): no signature fails (today's
    SoftHSM2 let the reader see an empty token.object: CKR_GENERAL_ERROR, or no such card)."""
    factory = _factory(tmp_path)
    scalar = random.randrange(1, 2**255)
    factory.card(SERIAL).put_key(scalar, PIN)
    signer = _signer(factory, 600)
    reader = _signer(factory, 300, fresh=True)
    outputs = []
    for process in (reader, signer):
        output, _ = process.communicate(timeout=120)
        outputs.append(output)
    assert all("failures 0 " in output for output in outputs), outputs
