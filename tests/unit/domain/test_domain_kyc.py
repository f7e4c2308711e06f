"""#21 KYC at onboarding: the 统一社会信用代码's check character (GB 32100-2015, through
python-stdnum), the settlement account in the member's own name, a canonical hash."""

from __future__ import annotations

import pytest

from goldticket.domain import InvalidInputError, RuleViolationError, check_kyc, check_uscc

VALID = ["91110000600037341L", "91110108551385082Q", "91 110000 600037341L"]
# one character changed each: the check character, a digit, a letter the code never uses (I, O)
INVALID = [
    "91110000600037341X",
    "91110000600037342L",
    "9111000060003734IL",
    "O1110000600037341L",
    "9111000060003734",
    "",
]
RECORD = {
    "uscc": "91110000600037341L",
    "legal_representative": "张三",
    "registered_address": "北京市东城区",
    "account_name": "北方钢铁有限公司",
    "account_number": "6222 0200 1234 5678",
    "bank_name": "中国工商银行北京分行",
    "cnaps_code": "102100099996",
}


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_pass_in_compact_form(code: str) -> None:
    assert check_uscc(code) == code.replace(" ", "")


@pytest.mark.parametrize("code", INVALID)
def test_invalid_codes_are_refused(code: str) -> None:
    with pytest.raises(RuleViolationError, match="unified social credit code"):
        check_uscc(code)


def test_the_settlement_account_is_in_the_members_own_name_and_the_hash_is_canonical() -> None:
    kyc = check_kyc(RECORD, "北方钢铁有限公司")
    assert kyc.account_number == "6222020012345678"
    assert (
        check_kyc({**RECORD, "account_number": "6222020012345678"}, " 北方钢铁有限公司 ").sha256 == kyc.sha256
    )
    assert check_kyc({**RECORD, "bank_name": "中国银行"}, "北方钢铁有限公司").sha256 != kyc.sha256
    with pytest.raises(RuleViolationError, match="must be the member's name"):
        check_kyc({**RECORD, "account_name": "另一家公司"}, "北方钢铁有限公司")
    for field, bad in [
        ("cnaps_code", "10210009999"),
        ("account_number", "12345"),
        ("legal_representative", " "),
    ]:
        with pytest.raises(InvalidInputError):
            check_kyc({**RECORD, field: bad}, "北方钢铁有限公司")
    with pytest.raises(InvalidInputError, match="unknown fields"):
        check_kyc({**RECORD, "password": "x"}, "北方钢铁有限公司")
