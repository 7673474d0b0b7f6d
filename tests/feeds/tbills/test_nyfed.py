"""NY Fed Treasury operation payloads: weekends, NA, strings vs numbers, bills vs coupons."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from feeds.model.core import BadMessage
from feeds.model.tbills import OperationKind, OperationStatus, TsyOperation
from feeds.tbills.nyfed import amount, parse_operation, parse_tsy_payload

DATA = Path(__file__).parent.parent.parent / "data" / "tbills"


def load(name: str) -> Any:
    return orjson.loads((DATA / name).read_bytes())


def ops(name: str) -> list[TsyOperation]:
    parsed = parse_tsy_payload(load(name), 1.0)
    assert not isinstance(parsed, BadMessage)
    assert all(isinstance(p, TsyOperation) for p in parsed), parsed
    return [p for p in parsed if isinstance(p, TsyOperation)]


def test_latest_empty_at_a_weekend_is_a_valid_empty_answer() -> None:
    assert ops("latest_empty.json") == []
    assert parse_tsy_payload({"treasury": {"auctions": None}}, 1.0) == []
    assert parse_tsy_payload({"treasury": {}}, 1.0) == []


def test_results_row_shape() -> None:
    first = ops("results_last.json")[0]
    assert first.operation_id == "OR 121225 01"
    assert first.status is OperationStatus.RESULTS
    assert first.kind is OperationKind.BILL and first.purchase
    assert first.accepted == Decimal("8200000000")
    assert first.submitted == Decimal("27060000000")
    assert first.operation_date == date(2025, 12, 12)
    assert first.maturity_end == date(2026, 4, 9)
    assert first.release_time == datetime(2025, 12, 12, 15, 10, tzinfo=UTC)
    assert first.close_time == datetime(2025, 12, 12, 15, 30, tzinfo=UTC)


def test_coupon_against_bill_purchases() -> None:
    kinds = [(o.operation_type, o.kind) for o in ops("results_last.json")]
    assert kinds == [
        ("Outright Bill Purchase", OperationKind.BILL),
        ("Outright Bill Purchase", OperationKind.BILL),
        ("Outright Coupon Purchase", OperationKind.COUPON),
    ]


def test_na_amounts_are_no_value() -> None:
    (op,) = ops("results_na.json")
    assert op.accepted is None and op.submitted is None
    assert op.status is OperationStatus.RESULTS
    assert op.note == "No propositions accepted"


def test_strings_against_numbers_agree() -> None:
    (as_numbers,) = ops("results_numbers.json")
    as_strings = ops("results_last.json")[0]
    assert as_numbers.accepted == as_strings.accepted == Decimal("8200000000")
    assert as_numbers.submitted == as_strings.submitted


def test_announcement_has_no_amounts_but_a_planned_size() -> None:
    (op,) = ops("latest_announcement.json")
    assert op.status is OperationStatus.ANNOUNCED
    assert op.accepted is None and op.submitted is None
    assert op.planned == Decimal("8200000000")


def test_details_per_cusip_with_na() -> None:
    (op,) = ops("results_details.json")
    assert [d.cusip for d in op.details] == ["912797PN1", "912797RC3", "912797SZ1"]
    assert op.details[0].price == Decimal("3.612")
    assert op.details[2].accepted is None and op.details[2].price is None


def test_amount_forms() -> None:
    assert amount("8200000000") == Decimal("8200000000")
    assert amount(8200000000) == Decimal("8200000000")
    assert amount("8,200,000,000") == Decimal("8200000000")
    assert amount(" NA ") is None
    assert amount("") is None
    assert amount(None) is None
    for bad in ("-5", "abc", "1e9", True, 1e400, "9" * 20, {"x": 1}):
        assert isinstance(amount(bad), BadMessage), bad


def test_bad_rows_are_bad_messages_not_exceptions() -> None:
    good = load("results_last.json")["treasury"]["auctions"][0]
    for key, value in [
        ("operationId", None),
        ("operationType", ""),
        ("operationDate", "not a date"),
        ("totalParAmtAccepted", "-1"),
        ("totalParAmtSubmitted", "lots"),
    ]:
        row = {**good, key: value}
        assert isinstance(parse_operation(row, 1.0), BadMessage), key
    assert isinstance(parse_tsy_payload([], 1.0), BadMessage)
    assert isinstance(parse_tsy_payload({"treasury": {"auctions": {}}}, 1.0), BadMessage)


def test_external_text_is_sanitised() -> None:
    good = load("results_last.json")["treasury"]["auctions"][0]
    op = parse_operation({**good, "note": "\x1b]0;PWNED\x07hi\x1b[31m"}, 1.0)
    assert isinstance(op, TsyOperation)
    assert op.note == "hi"


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "operationId",
                "operationType",
                "operationDate",
                "totalParAmtAccepted",
                "totalParAmtSubmitted",
                "releaseTime",
                "closeTime",
                "auctionStatus",
                "details",
                "note",
            ]
        ),
        _values,
    )
)
def test_parse_operation_never_raises(row: dict[str, object]) -> None:
    assert isinstance(parse_operation(row, 1.0), TsyOperation | BadMessage)
