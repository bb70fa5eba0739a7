from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound_desk.contacts import ListSchema, PhoneNormaliser
from outbound_desk.contacts.rules import WHITESPACE, check_rows, looks_like_email
from outbound_desk.contacts.schema import Field


def test_whitespace_list_is_exactly_str_isspace() -> None:
    assert set(WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


_email_chars = st.text(st.sampled_from("ab.@ \u00a0\u2028\x1cé-_"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(_email_chars, min_size=1, max_size=20))
def test_vectorised_email_rule_equals_python_rule(values: list[str]) -> None:
    schema = ListSchema("L", (Field("e", format="email"),))
    frame = pd.DataFrame({"e": values})
    with PhoneNormaliser("US", workers=1) as n:
        _out, problems = check_rows(frame, schema, n)
    bad = set(problems.bad().nonzero()[0].tolist())
    assert bad == {i for i, v in enumerate(values) if v and not looks_like_email(v)}


def test_email_examples() -> None:
    assert looks_like_email("ann.lee@example.co.uk")
    assert not looks_like_email("ann@localhost")
    assert not looks_like_email("ann lee@example.com")
    assert not looks_like_email("a@@b.com")


def test_scientific_notation_phone_gets_an_excel_hint() -> None:
    schema = ListSchema("L", (Field("tel", format="E.164"),))
    with PhoneNormaliser("US", workers=1) as n:
        _out, problems = check_rows(pd.DataFrame({"tel": ["1.61756E+10", "abc"]}), schema, n)
    messages = {pos: msgs for pos, msgs in problems.by_row().items()}
    assert "scientific notation" in messages[0][0][2]
    assert "scientific notation" not in messages[1][0][2]
