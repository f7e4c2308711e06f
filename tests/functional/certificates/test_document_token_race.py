"""The document-signing token made by many at once (defect 6 of docs/operations.md, "Reliability
drills"): under a write load the first certificates, asked for at once, once made
`softhsm2-util --init-token` fail after it had made the GTDOCSIGN token, and every later
certificate failed for good ("a token labelled GTDOCSIGN exists but its record is missing").
Here threads and processes ask for the first document signer at once on a fresh token
directory while another process signs with a card in a loop (every C_Login rewrites its token's
files); all of them must get the one signer, in one token, whose signatures verify. Also: a
creation cut short is finished with the token and key it made, a half-made token of an older
version is left alone, and `goldticket init` makes the token."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PdfFileWriter

from goldticket.certificates import open_document_signer
from goldticket.certificates.signer import TOKEN_LABEL
from goldticket.certificates.verify import check_signature
from goldticket.signing.ca import OrgCA
from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory, default_module_path
from goldticket.signing.keystore import KeyStore

pytestmark = [
    pytest.mark.functional,
    pytest.mark.skipif(default_module_path() is None, reason="SoftHSM2 is not installed"),
]

THREADS, PROCESSES, ROUNDS, SECONDS = 4, 3, 4, 150.0
SERIAL, PIN = "BS00000000000000d6", "135790"

# Waits for the start file, opens the document signer, signs a PDF; prints the signed PDF's
# path or the error.
OPENER = textwrap.dedent(
    """
    import os, sys, time, traceback
    from pathlib import Path
    from goldticket.certificates import open_document_signer
    from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory
    from goldticket.signing.keystore import KeyStore
    module_path, base, start, pdf, out = sys.argv[1:6]
    base = Path(base)
    factory = Pkcs11CardFactory(module_path, token_dir=base / "softhsm" / "tokens")
    ca = KeyStore(base / "keys").cas()["OperatorMSP"]
    while not os.path.exists(start):
        time.sleep(0.002)
    try:
        signer = open_document_signer(base / "certificates", ca, factory)
        Path(out).write_bytes(signer.sign(Path(pdf).read_bytes(), reason="race"))
        print("signed", flush=True)
    except Exception:
        print("failed", traceback.format_exc()[-800:], flush=True)
    """
)
# Signs with the card in a loop for `seconds` (each signature a C_Login rewriting token.object).
LOAD = textwrap.dedent(
    """
    import sys, time
    from goldticket.signing.cards.pkcs11 import Pkcs11CardFactory
    module_path, token_dir, serial, pin, seconds = sys.argv[1:6]
    card = Pkcs11CardFactory(module_path, token_dir=token_dir).card(serial)
    end, count = time.monotonic() + float(seconds), 0
    print("ready", flush=True)
    while time.monotonic() < end:
        card.sign_digest(bytes(32), pin)
        count += 1
    print("signed", count, flush=True)
    """
)


def _pdf() -> bytes:
    writer = PdfFileWriter()
    page = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Page"),
            generic.NameObject("/MediaBox"): generic.ArrayObject(
                [generic.NumberObject(n) for n in (0, 0, 200, 200)]
            ),
        }
    )
    writer.insert_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _base(directory: Path) -> tuple[Path, Pkcs11CardFactory, OrgCA]:
    module = default_module_path()
    assert module is not None
    factory = Pkcs11CardFactory(module, token_dir=directory / "softhsm" / "tokens")
    ca = OrgCA.create("OperatorMSP", "GoldTicket Operator")
    KeyStore(directory / "keys").save_ca(ca)
    return directory, factory, ca


def _document_tokens(factory: Pkcs11CardFactory) -> list[str]:
    with factory._module.lock:
        factory._module.activate(factory.config_path)
        factory._module.refresh()
        library = factory._module.activate(factory.config_path)
        labels = [slot.get_token().label for slot in library.get_slots(token_present=True)]
    return [label for label in labels if label.startswith(TOKEN_LABEL)]


def _verifies(signed: bytes, record: dict[str, Any]) -> None:
    check = check_signature(signed, record["certificate_pem"].encode(), record["ca_pem"].encode())
    assert check.genuine, check.reason


def _round(directory: Path) -> None:
    base, factory, ca = _base(directory)
    factory.card(SERIAL).put_key(7**70 % 2**250, PIN)
    pdf = base / "page.pdf"
    pdf.write_bytes(_pdf())
    start = base / "start"
    load = subprocess.Popen(
        [sys.executable, "-c", LOAD, factory.module_path, str(factory.token_dir), SERIAL, PIN, "20"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert load.stdout is not None and load.stdout.readline().strip() == "ready"
    openers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                OPENER,
                factory.module_path,
                str(base),
                str(start),
                str(pdf),
                str(base / f"p{n}.pdf"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    time.sleep(1.5)  # the processes are waiting for the start file
    results: list[bytes | BaseException] = []

    def open_and_sign() -> None:
        try:
            signer = open_document_signer(base / "certificates", ca, factory)
            results.append(signer.sign(pdf.read_bytes(), reason="race"))
        except BaseException as error:  # noqa: BLE001 - reported below
            results.append(error)

    threads = [threading.Thread(target=open_and_sign) for _ in range(THREADS)]
    start.touch()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    answers = [process.communicate(timeout=120)[0] for process in openers]
    load.kill()
    load.wait(timeout=30)
    load.stdout.close()
    assert all(answer.startswith("signed") for answer in answers), answers
    assert len(results) == THREADS and all(isinstance(result, bytes) for result in results), results
    record = json.loads((base / "certificates" / "signer.json").read_text())
    assert "state" not in record and record["token_label"] == TOKEN_LABEL
    assert _document_tokens(factory) == [TOKEN_LABEL]
    for signed in [*results, *(base / f"p{n}.pdf" for n in range(PROCESSES))]:
        _verifies(signed if isinstance(signed, bytes) else signed.read_bytes(), record)


def test_threads_and_processes_asking_at_once_under_signing_load_get_one_token(tmp_path: Path) -> None:
    began = time.monotonic()
    for number in range(ROUNDS):
        if time.monotonic() - began > SECONDS:
            break
        _round(tmp_path / f"round{number}")


def test_a_creation_cut_short_is_finished_with_the_key_it_made(tmp_path: Path) -> None:
    """The record says "creating" (the process making it was killed after the token and key were
    made, before the certificate): the next call finishes it with that token and that key (no
    second token, no key thrown away), and what it signs verifies."""
    base, factory, ca = _base(tmp_path)
    directory = base / "certificates"
    open_document_signer(directory, ca, factory)
    record = json.loads((directory / "signer.json").read_text())
    half = {key: record[key] for key in ("kind", "token_label", "pin")} | {"state": "creating"}
    (directory / "signer.json").write_text(json.dumps(half))
    again = open_document_signer(directory, ca, factory)
    finished = json.loads((directory / "signer.json").read_text())
    assert "state" not in finished and finished["token_label"] == record["token_label"]
    assert _document_tokens(factory) == [TOKEN_LABEL]
    assert _public_key(finished) == _public_key(record)
    _verifies(again.sign(_pdf(), reason="after"), finished)


def _public_key(record: dict[str, Any]) -> bytes:
    certificate = x509.load_pem_x509_certificate(record["certificate_pem"].encode())
    return certificate.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def test_a_half_made_token_of_an_older_version_is_left_alone(tmp_path: Path) -> None:
    """A GTDOCSIGN token without a record (PIN unknown: the older version's failure) is kept as
    it is; the signer gets a token of its own."""
    base, factory, ca = _base(tmp_path)
    made = factory._softhsm_util(
        "--init-token", "--free", "--label", TOKEN_LABEL, answers="12345678\n12345678\n87654321\n87654321\n"
    )
    assert made.returncode == 0, made.stderr
    signer = open_document_signer(base / "certificates", ca, factory)
    record = json.loads((base / "certificates" / "signer.json").read_text())
    assert record["token_label"].startswith(f"{TOKEN_LABEL}-")
    assert sorted(_document_tokens(factory)) == sorted([TOKEN_LABEL, record["token_label"]])
    _verifies(signer.sign(_pdf(), reason="own token"), record)
