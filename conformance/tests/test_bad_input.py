"""Bad input raises a clear ValueError; divergence raises FloatingPointError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fromscratch.conformance import checks
from fromscratch.conformance.checks import BadInput, Measurement
from fromscratch.conformance.registry import Implementation

Record = Callable[[Measurement], Measurement]


@pytest.mark.parametrize("case", checks.bad_inputs(), ids=lambda c: c.name)
def test_bad_input_is_rejected_clearly(impl: Implementation, case: BadInput, record: Record):
    m = record(checks.bad_input(impl, case))
    assert m.passed, m.describe()


def test_divergence_stops_with_a_clear_error(impl: Implementation, record: Record):
    m = record(checks.divergence(impl))
    assert m.passed, m.describe()


def protocol_rows() -> list[str]:
    """The rows of the bad-input table in docs/protocol.md, as the checks define them."""

    def mention(m: checks.Mention) -> str:
        spellings = [f"`{s}`" for s in m.spellings]
        said = spellings[0] if len(spellings) == 1 else ", ".join(spellings[:-1])
        said += f" or {spellings[-1]}" if len(spellings) > 1 else ""
        return f"{m.what} ({said})"

    return [f"| {c.name} | {'; '.join(map(mention, c.needs))} |" for c in checks.bad_inputs()]


def test_the_protocol_page_lists_every_case_and_what_its_message_must_mention():
    page = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    rows = protocol_rows()
    stale = [row for row in rows if row not in page]
    assert not stale, "docs/protocol.md's bad-input table should read:\n" + "\n".join(rows)
