#!/usr/bin/env python3
"""Targeted mutation testing of the checks that guard money: authorization in the chaincode,
the signing gateway's intent checks, and the embedded ledger's validation.

    python tools/mutants.py [--only PATH] [--list] [--jobs N]

mutmut skips decorated functions (every @transaction of the contract) and mutating the
contract class breaks fabric-chaincode-python, so this applies its own mutants, each one at a
time to a copy of the repository, and runs the tests that should notice:

- guard: ``if <condition>: raise ...Error(...)`` becomes ``if False: ...`` (a check removed);
- role: ``tx.caller("bank")`` loses its roles, ``admin=True`` is dropped (who may act);
- allow: an entry of the gateway's per-function write allow-list gains every state kind.

A mutant is killed when the tests fail. Survivors are printed with file and line; each one in
an authorization, intent or validation check must be killed by a new test or explained in
docs/mutation.md. Prints the score.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import dataclasses
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
# The tests each target's mutants run against (scenarios signing in-process only: the
# gateway variant signs the same transactions).
SCENARIOS = ["-k", "not gateway"]
CONTRACT_TESTS = [
    *SCENARIOS,
    "tests/scenario/test_authorization_matrix.py",
    "tests/scenario/test_identities.py",
    "tests/scenario/test_member_recovery.py",
    "tests/scenario/test_review_findings.py",
    "tests/scenario/test_conflicts.py",
    "tests/scenario/test_life_cycle.py",
    "tests/functional/test_bootstrap.py",
    "tests/scenario/test_certificate_life.py",
    "tests/functional/certificates/test_certificate_pdf.py",
    "tests/scenario/test_need_to_know.py",
    "tests/scenario/test_documents_required.py",  # #21's documents rule
    # issue #17: rate bound, invoice owner, credit lines, claimed identities, recovery
    "tests/scenario/test_prices_credit_invoices.py",
    "tests/scenario/test_claimed_identities.py",
    # issue #21: approval needs a current registration (中登网) of the application
    "tests/scenario/test_registration.py",
]
# issue #17: accounts, activation codes, passwords, PINs and login limits
SECRETS_TESTS = [
    "tests/functional/web/test_login_limits.py",
    "tests/functional/web/test_owner_secrets.py",
    "tests/functional/web/test_card_life.py",
    "tests/functional/signing/test_card_pins.py",
    "tests/functional/signing/test_card_desk.py",
]
TARGETS: dict[str, list[str]] = {
    # The contract's transactions by area: each module's guards against the same tests.
    **{
        f"chaincode/{area}.py": CONTRACT_TESTS
        for area in ("transactions", "identities", "tickets", "financing", "settlement", "certificates")
    },
    "chaincode/identity.py": [*SCENARIOS, "tests/scenario/test_authorization_matrix.py"],
    # issue #20: rehearsing a write before the PIN, only by the read identity, never writing
    "chaincode/rehearsal.py": [*SCENARIOS, "tests/scenario/test_rehearse_before_pin.py"],
    # issue #20: maker-checker (the chaincode's guards and the domain's setting and intent rules)
    "chaincode/dual_control.py": [*SCENARIOS, "tests/scenario/test_dual_control.py"],
    "goldticket/domain/dual_control.py": [*SCENARIOS, "tests/scenario/test_dual_control.py"],
    # issue #21: the documents rule (each move records its signed document; turned on, never off)
    "goldticket/domain/documents.py": [
        "tests/scenario/test_documents_required.py",
        "tests/functional/ledger/test_documents_bootstrap.py",
        "tests/functional/ledger/test_contract_replay.py",
    ],
    # issue #21: overdue and recourse (the chaincode's guards and the domain's rules)
    "chaincode/recourse.py": ["tests/scenario/test_overdue_recourse.py"],
    # issue #21: registration (中登网): who records it, what it must say, search before funding
    "chaincode/registration.py": ["tests/scenario/test_registration.py"],
    "goldticket/domain/registration.py": [
        "tests/unit/domain/test_domain_registration.py",
        "tests/scenario/test_registration.py",
    ],
    "goldticket/domain/recourse.py": [
        "tests/unit/domain/test_domain_recourse.py",
        "tests/scenario/test_overdue_recourse.py",
    ],
    # need to know (issue #17): who reads what, on the ledger and in the read model
    "chaincode/visibility.py": [
        *SCENARIOS,
        "tests/scenario/test_need_to_know.py",
        "tests/scenario/test_authorization_matrix.py",
    ],
    "goldticket/domain/visibility.py": [
        *SCENARIOS,
        "tests/scenario/test_need_to_know.py",
        "tests/functional/web/test_need_to_know_web.py",
    ],
    "goldticket/signing/intents.py": [
        "tests/unit/signing",
        "tests/functional/signing",
        # RecordCertificate is the platform's alone: a holder's card refuses to sign it (#17)
        "tests/scenario/test_need_to_know.py::test_a_holders_card_cannot_record_a_certificate_of_its_choosing",
    ],
    "goldticket/ledger/local/peer.py": ["tests/functional/test_local_ledger.py", "tests/functional/ledger"],
    # issue #17: the holder's rate bound in the domain (approval above it refused)
    "goldticket/domain/financing.py": [
        "tests/unit/domain",
        "tests/scenario/test_prices_credit_invoices.py",
        *SCENARIOS,
    ],
    # issue #17: secrets chosen by their owners, login limits, account life follows the card
    # issue #19: an organisation's CA certifies its users' cards only if it is the trusted one
    "goldticket/signing/organisations.py": [
        "tests/unit/test_organisation_folder.py",
        "tests/functional/signing/test_organisation_folders.py",
        "tests/unit/test_fabric_org_keys.py",
    ],
    "goldticket/services/login_limits.py": SECRETS_TESTS,
    "goldticket/services/accounts.py": SECRETS_TESTS,
    "goldticket/services/pins.py": SECRETS_TESTS,
    "goldticket/services/self_service.py": SECRETS_TESTS,
    # the card's life (open, PIN, approval, recovery, lost, replace, eliminate) is walked by these
    "goldticket/services/cards.py": [
        *SECRETS_TESTS,
        "tests/functional/signing/test_cards.py",
        "tests/functional/signing/test_backup_token.py",
        "tests/functional/test_new_user_holes.py",
        "tests/scenario/test_identities.py",
        "tests/scenario/test_member_recovery.py",
        "tests/scenario/test_claimed_identities.py",
    ],
    # certificate downloads (issue #17): the per-user limit shared by every worker, and who may certify
    # issue #21: documents signed by the member's own card (the gateway's checks, who may read them)
    "goldticket/signing/documents.py": ["tests/functional/signing/test_gateway_documents.py"],
    "goldticket/services/signed_documents.py": [
        "tests/scenario/test_signed_commitment.py",
        "tests/functional/web/test_commitment_web.py",
    ],
    "goldticket/services/certificates/issue.py": [
        "tests/functional/web/test_download_limits.py",
        "tests/scenario/test_certificate_life.py",
    ],
}
# Hand-written mutants where a guard is not an `if ...: raise` (issue #17's login limits):
# the file, the exact text replaced (once), its replacement, and what the mutant breaks.
EDITS: list[tuple[str, str, str, str]] = [
    (
        "goldticket/services/login_limits.py",
        "    with portal.database.session(immediate=True) as session:\n        _lock(session, portal)",
        "    with portal.database.session() as session:\n        _lock(session, portal)",
        "attempts not counted atomically (no BEGIN IMMEDIATE)",
    ),
    (
        "goldticket/services/login_limits.py",
        "BASE_DELAY * 2 ** min(failures - free, 20)",
        "BASE_DELAY",
        "the delay does not grow",
    ),
    (
        "goldticket/services/login_limits.py",
        "sorted(times)[:FREE_TRIES]",
        "sorted(times)",
        "an address's failures all count against the account (anyone can keep it locked)",
    ),
    (
        "goldticket/services/login_limits.py",
        "            _next_allowed(client_times, FREE_TRIES_PER_CLIENT),\n",
        "",
        "no delay per client address",
    ),
]
# Survivors shown to be equivalent (docs/mutation.md says why at more length): the mutant's
# description, and one line of reason. They are still run and still printed, as "equivalent".
EQUIVALENT: dict[str, str] = {
    "chaincode/dual_control.py:46 guard `approval['function'] != function or approval['member_id'] !=` removed": (
        "tx.approval is set only by ApproveOperation and PrepareOperation, each to the operation whose"
        " own function it then runs for the caller's member; no covered function calls another, so the"
        " guard (kept against a future one that does) is unreachable"
    ),
    "chaincode/dual_control.py:74 guard `approval is not None and (approval['function'] != dc.SETTING` removed": (
        "as the :46 guard: SetDualControl runs under an approval only as the operation's own function"
        " (ApproveOperation and PrepareOperation run operation['function'] for the caller's member), so"
        " an approval of another function or member never reaches it"
    ),
    "chaincode/registration.py:31 roles dropped from `tx.caller('bank')`": "record_registration refuses"
    " every caller but the application's own bank (always a member of role bank): the same forbidden",
    "goldticket/services/cards.py:70 guard `record.status != 'OPENED'` removed": "personalise's two"
    " callers pass only OPENED cards (set_pin's OPENED branch, init opening the operator's card just"
    " before), and the registry's activate allows OPENED only: no caller reaches it otherwise",
    "goldticket/services/cards.py:154 guard `record.status != 'ACTIVE' or record.backup is None` removed": "change_pin is reached only from set_pin for a card that is not OPENED; the signing service's"
    " check_pin (check_can_sign) refuses every status but ACTIVE before anything changes, and every"
    " ACTIVE card has a backup (the registry's activate takes one)",
    "chaincode/tickets.py:78 guard `not lines[0].active` removed": "choose_credit_line draws only"
    " active lines, so a named line not active is refused as rule_violation all the same",
    "goldticket/services/accounts.py:308 guard `account is None` removed": "no code path deletes an"
    " account, so a token's user always exists; and without the guard None fails anyway (no access)",
    "goldticket/signing/intents.py:443 guard `request.get(field) is None` removed": "the proposal's"
    " request is the intent's (checked), and the chaincode endorses no ApplyFinancing without a bound nor"
    " a credit-line answer without an id, so no envelope lacking the field reaches the check",
}


@dataclasses.dataclass(frozen=True)
class Mutant:
    path: str
    line: int
    kind: str
    source: str  # the whole mutated file

    def describe(self) -> str:
        return f"{self.path}:{self.line} {self.kind}"


def _raises_error(body: list[ast.stmt]) -> bool:
    return any(
        isinstance(stmt, ast.Raise)
        and stmt.exc is not None
        and "Error" in ast.unparse(stmt.exc).split("(")[0]
        for stmt in body
    )


def mutants_of(path: str) -> list[Mutant]:
    text = subprocess.run(
        ["git", "show", f"HEAD:{path}"], cwd=REPOSITORY, capture_output=True, text=True, check=True
    ).stdout
    tree = ast.parse(text)
    found: list[Mutant] = []

    def emit(line: int, kind: str, edit: object) -> None:
        mutated = ast.parse(text)
        for node in ast.walk(mutated):
            if getattr(node, "lineno", None) == line and edit(node):  # type: ignore[operator]
                found.append(Mutant(path, line, kind, ast.unparse(mutated)))
                return

    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _raises_error(node.body):

            def guard(candidate: ast.AST, test: str = ast.unparse(node.test)) -> bool:
                if isinstance(candidate, ast.If) and ast.unparse(candidate.test) == test:
                    candidate.test = ast.Constant(False)
                    return True
                return False

            emit(node.lineno, f"guard `{ast.unparse(node.test)[:60]}` removed", guard)
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("tx.caller"):
            if node.args:

                def no_roles(candidate: ast.AST, call: str = ast.unparse(node)) -> bool:
                    if isinstance(candidate, ast.Call) and ast.unparse(candidate) == call:
                        candidate.args = []
                        return True
                    return False

                emit(node.lineno, f"roles dropped from `{ast.unparse(node)}`", no_roles)
            if any(keyword.arg == "admin" for keyword in node.keywords):

                def no_admin(candidate: ast.AST, call: str = ast.unparse(node)) -> bool:
                    if isinstance(candidate, ast.Call) and ast.unparse(candidate) == call:
                        candidate.keywords = [k for k in candidate.keywords if k.arg != "admin"]
                        return True
                    return False

                emit(node.lineno, f"admin=True dropped from `{ast.unparse(node)}`", no_admin)
        if (
            isinstance(node, ast.Dict)
            and path.endswith("intents.py")
            and all(isinstance(key, ast.Constant) and isinstance(key.value, str) for key in node.keys)
            and "IssueTicket" in {key.value for key in node.keys if isinstance(key, ast.Constant)}
        ):
            for key in node.keys:
                assert isinstance(key, ast.Constant)

                def allow_all(candidate: ast.AST, name: str = key.value) -> bool:
                    if isinstance(candidate, ast.Dict) and any(
                        isinstance(k, ast.Constant) and k.value == name for k in candidate.keys
                    ):
                        index = [getattr(k, "value", None) for k in candidate.keys].index(name)
                        everything = "ticket holding piece offer application credit draws invoice invoice_number member identity member_identity config statement certificate ping"
                        candidate.values[index] = (
                            ast.parse(f"frozenset({everything.split()!r})").body[0].value
                        )  # type: ignore[attr-defined]
                        return True
                    return False

                emit(node.lineno, f"{key.value} may write anything", allow_all)  # the table's line
    for file, old, new, what in EDITS:
        if file == path:
            assert text.count(old) == 1, f"{file}: the text of the mutant `{what}` is not there once"
            found.append(Mutant(path, text[: text.index(old)].count("\n") + 1, what, text.replace(old, new)))
    return found


def copy_repository(target: Path) -> None:
    """The committed tree (HEAD), so work in progress in the checkout cannot leak in."""
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", "HEAD"], cwd=REPOSITORY, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)


TESTS_OVERRIDE: list[str] = []


def run_tests(path: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    tests = TESTS_OVERRIDE or TARGETS[path]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=workdir,
        env={**os.environ, "PYTHONPATH": str(workdir), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )


def run_mutant(mutant: Mutant, workdir: Path) -> tuple[Mutant, bool, float]:
    """Apply ``mutant`` in ``workdir`` (a copy), run its tests; True when they fail (killed)."""
    file = workdir / mutant.path
    original = file.read_text(encoding="utf-8")
    file.write_text(mutant.source, encoding="utf-8")
    started = time.monotonic()
    try:
        killed = run_tests(mutant.path, workdir).returncode != 0
    except subprocess.TimeoutExpired:
        killed = True
    finally:
        file.write_text(original, encoding="utf-8")
    return mutant, killed, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="a target file (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--match", action="append", help="only mutants whose description has this text")
    parser.add_argument(
        "--tests",
        help="pytest arguments, in one string, to run instead of the target's list (a part of it: a mutant killed by a part"
        " is killed by the whole; a survivor must be run again against the whole list)",
    )
    args = parser.parse_args()
    paths = args.only or list(TARGETS)
    if args.tests:
        TESTS_OVERRIDE[:] = shlex.split(args.tests)
    mutants = [mutant for path in paths for mutant in mutants_of(path)]
    if args.match:
        mutants = [mutant for mutant in mutants if any(text in mutant.describe() for text in args.match)]
    if args.list:
        for mutant in mutants:
            print(mutant.describe())
        print(f"{len(mutants)} mutants")
        return 0
    with tempfile.TemporaryDirectory(prefix="gt-mutants-") as tmp:
        workdirs = []
        for index in range(args.jobs):
            workdir = Path(tmp) / f"copy{index}"
            copy_repository(workdir)
            workdirs.append(workdir)
        for path in paths:  # the unmutated tree must pass, or every mutant would look killed
            baseline = run_tests(path, workdirs[0])
            if baseline.returncode != 0:
                print(f"the tests of {path} fail without any mutant:\n{baseline.stdout[-3000:]}")
                return 2
            print(f"baseline for {path}: tests pass", flush=True)
        survivors = []
        killed_count = equivalents = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            queue = list(mutants)
            futures = {}
            free = list(workdirs)
            while queue or futures:
                while queue and free:
                    workdir = free.pop()
                    futures[pool.submit(run_mutant, queue.pop(0), workdir)] = workdir
                done, _ = concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    free.append(futures.pop(future))
                    mutant, killed, seconds = future.result()
                    killed_count += killed
                    equivalent = not killed and mutant.describe() in EQUIVALENT
                    verdict = "killed  " if killed else "equivalent" if equivalent else "SURVIVED"
                    print(f"{verdict} {seconds:5.0f} s  {mutant.describe()}", flush=True)
                    if equivalent:
                        print(f"           {EQUIVALENT[mutant.describe()]}", flush=True)
                        equivalents += 1
                    elif not killed:
                        survivors.append(mutant)
    total = len(mutants)
    if total:
        print(
            f"\nscore: {killed_count}/{total} killed ({killed_count / total:.0%}), {equivalents} equivalent"
        )
    else:
        print("no mutants")
    for mutant in survivors:
        print(f"survivor: {mutant.describe()}")
    return 0 if not survivors else 1


if __name__ == "__main__":
    sys.exit(main())
