from __future__ import annotations

import random

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound_desk.contacts import PhoneNormaliser, classify
from outbound_desk.contacts.phones import fast_path

WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]


@pytest.mark.parametrize(
    ("value", "e164", "reason"),
    [
        ("(212) 555-0123", "+12125550123", ""),
        ("+44 20 7946 0958", "+442079460958", ""),
        ("12", "", "phone_too_short"),
        ("hello", "", "not_a_number"),
        ("2115550123", "", "invalid_for_region"),
        ("+1 212 555 0123 4567 8901 2345", "", "phone_too_long"),
        ("+999 1234 5678", "", "invalid_phone"),
    ],
)
def test_classify_gives_phonenumbers_reasons(value: str, e164: str, reason: str) -> None:
    assert classify(value, "US") == (e164, reason)


def test_normalise_keeps_empty_and_reports_reasons() -> None:
    values = pd.Series(["", "(212) 555-0123", "hello", "+44 20 7946 0958", "hello"])
    with PhoneNormaliser("US", workers=1) as n:
        e164, reason = n.normalise(values)
    assert e164.tolist() == ["", "+12125550123", "", "+442079460958", ""]
    assert reason.tolist() == ["", "", "not_a_number", "", "not_a_number"]


def _shapes(rnd: random.Random, nsn: str) -> list[str]:
    a, b, c = nsn[:3], nsn[3:6], nsn[6:]
    return [
        nsn,
        f"({a}) {b}-{c}",
        f"{a}-{b}-{c}",
        f"{a}.{b}.{c}",
        f"1{nsn}",
        f"+1 {a} {b} {c}",
        f"+1{nsn}",
        f"1-{a}-{b}-{c}",
        f"+1 ({a}) {b}.{c}",
    ]


@pytest.mark.parametrize("region", ["US", "CA"])
def test_fast_path_equals_phonenumbers_on_every_area_code(region: str) -> None:
    """Every NPA 200-999, random exchanges and lines, every shape: the fast path answers
    only valid numbers and always with phonenumbers' own E.164."""
    rnd = random.Random(7)
    values = []
    for npa in range(200, 1000):
        for _ in range(3):
            nsn = f"{npa}{rnd.randrange(10**7):07d}"
            values.append(rnd.choice(_shapes(rnd, nsn)))
    idx, e164 = fast_path(pa.array(values))
    answered = dict(zip(idx.tolist(), e164.tolist(), strict=True))
    assert len(answered) > 600  # the fast path does real work
    for i, v in enumerate(values):
        expected = classify(v, region)
        if i in answered:
            assert expected == (answered[i], ""), v
        else:
            # Not answered fast: must be a number phonenumbers rejects, or another shape.
            assert expected[1] != "" or not v.replace("+", "").replace(" ", "").isdigit(), v
    with PhoneNormaliser(region, workers=1) as n:
        got_e164, got_reason = n.normalise(pd.Series(values))
    assert list(zip(got_e164, got_reason, strict=True)) == [classify(v, region) for v in values]


_PUNCT = st.sampled_from([" ", "-", ".", "(", ")", "", "", ""])


@st.composite
def nanp_like(draw: st.DrawFn) -> str:
    digits = draw(st.text("0123456789", min_size=9, max_size=12))
    prefix = draw(st.sampled_from(["", "+", "+1", "1", "(", " "]))
    out = prefix
    for d in digits:
        out += draw(_PUNCT) + d
    return out + draw(st.sampled_from(["", ")", ".", " ", "-", " x1", "#"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(nanp_like(), min_size=1, max_size=30))
def test_normaliser_equals_phonenumbers_on_generated_shapes(values: list[str]) -> None:
    for region in ("US", "CA"):
        with PhoneNormaliser(region, workers=1) as n:
            e164, reason = n.normalise(pd.Series(values))
        assert list(zip(e164, reason, strict=True)) == [
            ("", "") if v == "" else classify(v, region) for v in values
        ]


def test_other_regions_use_phonenumbers_only() -> None:
    values = pd.Series(["020 7946 0958", "(212) 555-0123", "07700 900123"])
    with PhoneNormaliser("GB", workers=1) as n:
        e164, reason = n.normalise(values)
        assert n.stats["fast"] == 0
    assert list(zip(e164, reason, strict=True)) == [classify(v, "GB") for v in values]


def test_worker_pool_gives_the_same_answers() -> None:
    rnd = random.Random(3)
    # "(0)": a national prefix inside an international number, which no fast path answers.
    values = pd.Series([f"+44 (0)20 {rnd.randrange(10**8):08d}" for _ in range(400)])
    with PhoneNormaliser("US", workers=2, pool_threshold=100) as n:
        e164, reason = n.normalise(values)
        assert n._pool is not None
    assert list(zip(e164, reason, strict=True)) == [classify(v, "US") for v in values]


def test_unknown_region_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown region"):
        PhoneNormaliser("XX")


def test_arrow_strip_equals_python_strip_for_every_whitespace() -> None:
    values = [f"{w}a{w}b{w}" for w in WHITESPACE] + ["\u200b x \u200b", "\ufeffx"]
    arrow = pd.Series(values).astype("str").str.strip().tolist()
    assert arrow == [v.strip() for v in values]


def _examples() -> list[str]:
    """phonenumbers' own example numbers of every region and type, written internationally,
    plus random digits after every country code."""
    import phonenumbers

    rnd = random.Random(11)
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for t in (
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.TOLL_FREE,
        ):
            ex = phonenumbers.example_number_for_type(region, t)
            if ex is not None:
                out.append(
                    phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
                )
                out.append(phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.E164))
    for cc in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for n in (6, 8, 9, 10, 11):
            out.append(f"+{cc} {rnd.randrange(10 ** (n - 1), 10**n)}")
    return out


@pytest.mark.parametrize("region", ["US", "GB", "DE", "IN"])
def test_international_fast_path_equals_phonenumbers_for_every_country(region: str) -> None:
    values = _examples()
    with PhoneNormaliser(region, workers=1) as n:
        e164, reason = n.normalise(pd.Series(values))
        assert n.stats["fast"] > len(values) // 3  # the fast path does real work
    assert list(zip(e164, reason, strict=True)) == [classify(v, region) for v in values]


@pytest.mark.parametrize("small", [0, 10**9])
def test_both_regex_engines_give_the_same_answers(
    small: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Metadata patterns run in RE2 for big batches and in re for small ones: force each."""
    from outbound_desk.contacts import phones

    monkeypatch.setattr(phones, "_SMALL", small)
    rnd = random.Random(5)
    values = _examples() + [
        rnd.choice(_shapes(rnd, f"{npa}{rnd.randrange(10**7):07d}")) for npa in range(200, 1000)
    ]
    with PhoneNormaliser("US", workers=1) as n:
        e164, reason = n.normalise(pd.Series(values))
    assert list(zip(e164, reason, strict=True)) == [classify(v, "US") for v in values]


@st.composite
def intl_like(draw: st.DrawFn) -> str:
    import phonenumbers

    cc = draw(st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)))
    digits = draw(st.text("0123456789", min_size=3, max_size=14))
    out = "+" + str(cc) + draw(st.sampled_from(["", " ", " (0)", "-", "("]))
    for d in digits:
        out += draw(_PUNCT) + d
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(intl_like(), min_size=1, max_size=30))
def test_normaliser_equals_phonenumbers_on_international_shapes(values: list[str]) -> None:
    with PhoneNormaliser("US", workers=1) as n:
        e164, reason = n.normalise(pd.Series(values))
    assert list(zip(e164, reason, strict=True)) == [classify(v, "US") for v in values]


def test_fast_paths_answer_invalid_numbers_with_phonenumbers_reasons() -> None:
    """Invalid numbers of both fast shapes are answered without phonenumbers, with its own
    reasons (too short, too long, invalid for the region)."""
    rnd = random.Random(17)
    values = [f"+44 20 {rnd.randrange(10**k):0{k}d}" for k in (2, 4, 6, 7, 9, 12)]
    values += ["+33 1 2", "+1 211 555 0123", "(211) 555-0123", "1-211-555-0123", "+81 3-1620-651"]
    values += [
        rnd.choice(_shapes(rnd, f"{npa}{rnd.randrange(10**7):07d}")) for npa in range(200, 1000)
    ]
    with PhoneNormaliser("US", workers=1) as n:
        e164, reason = n.normalise(pd.Series(values))
        assert n.stats["slow"] == 0
    expected = [classify(v, "US") for v in values]
    assert list(zip(e164, reason, strict=True)) == expected
    assert {r for _e, r in expected} >= {"", "invalid_for_region", "phone_too_short"}


def test_nanp_prefix_table_equals_the_regex_walk_on_every_prefix() -> None:
    """The six-digit prefix table gives the regex walk's answer on a number of every prefix
    (a random last four digits each), and leaves undecided only prefixes it cannot know."""
    import numpy as np

    from outbound_desk.contacts import nanp_table
    from outbound_desk.contacts.phones import _nanp

    rules = _nanp()
    built = nanp_table.walk_table(rules.regions)
    assert built is not None
    answers, undecided = built
    rng = np.random.default_rng(23)
    prefixes = np.arange(2 * 10**5, 10**6)
    numbers = prefixes * 10**4 + rng.integers(0, 10**4, len(prefixes))
    walked = rules.walk(pa.array([f"{x:010d}" for x in numbers.tolist()], type=pa.large_string()))
    decided = ~undecided[prefixes]
    assert (answers[prefixes][decided] == walked[decided]).all()
    assert 0 < int(undecided.sum()) < 100
    assert 300_000 < int(answers.sum()) < 800_000  # real answers, not all-or-nothing


def test_big_batches_through_the_table_equal_phonenumbers() -> None:
    """Enough NANP numbers for the table, undecided prefixes included, against classify."""
    from outbound_desk.contacts.phones import _nanp

    assert _nanp().prefix_table(wait=True) is not None  # built, so the table answers
    rnd = random.Random(29)
    values = [
        rnd.choice(_shapes(rnd, f"{rnd.randrange(200, 1000)}{rnd.randrange(10**7):07d}"))
        for _ in range(3_000)
    ]
    values += [f"246{rnd.choice(['521', '522'])}{rnd.randrange(10**4):04d}" for _ in range(100)]
    values += [f"+1 876 606 {rnd.randrange(10**4):04d}" for _ in range(100)]
    with PhoneNormaliser("US", workers=1) as n:
        e164, reason = n.normalise(pd.Series(values))
    assert list(zip(e164, reason, strict=True)) == [classify(v, "US") for v in values]


def test_country_rules_equal_is_valid_number_for_every_country_and_length() -> None:
    """The international fast path's validity (one combined pattern per region and length,
    the region walk of countries that share a code) against is_valid_number itself: example
    numbers of every type of every region, and random numbers of every length."""
    import phonenumbers

    from outbound_desk.contacts.phones import _country

    rnd = random.Random(11)
    cases: list[tuple[int, str]] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for t in phonenumbers.PhoneNumberType.values():
            ex = phonenumbers.example_number_for_type(region, t)
            if ex is None:
                continue
            cases.append((ex.country_code, str(ex.national_number)))
            # Near misses: the example's first digits, random ones after, one digit more or
            # less: the numbers on which leading digits, lengths and types decide.
            digits = str(ex.national_number)
            for _ in range(10):
                cut = rnd.randrange(1, len(digits) + 1)
                size = max(cut, len(digits) + rnd.choice((-1, 0, 0, 1)))
                tail = "".join(rnd.choice("0123456789") for _ in range(size - cut))
                cases.append((ex.country_code, digits[:cut] + tail))
    for cc in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for n in range(2, 14):
            cases += [(cc, str(rnd.randrange(10 ** (n - 1), 10**n))) for _ in range(3)]
    checked = multi = 0
    by_country: dict[int, list[tuple[str, bool]]] = {}
    for cc, nsn in cases:
        rules = _country(cc)
        if not rules.usable or not rules.unstripped(nsn):
            continue
        number = phonenumbers.PhoneNumber(country_code=cc, national_number=int(nsn))
        truth = phonenumbers.is_valid_number(number)
        assert rules.valid(nsn) == truth, (cc, nsn)
        by_country.setdefault(cc, []).append((nsn, truth))
        checked += 1
        multi += not rules.single
    for cc, numbers in by_country.items():  # the walk over whole batches, region by region
        got = _country(cc).valid_many([nsn for nsn, _ in numbers]).tolist()
        assert got == [truth for _, truth in numbers], cc
    assert checked > 10_000
    assert multi > 1_000  # the walk over several regions (+1, +7, +44, +61...) is exercised


def test_type_match_applies_every_descriptions_possible_lengths() -> None:
    """One pattern does _number_type_helper's two steps, each description's possible lengths
    included (phonenumbers' own metadata rarely tells them apart, so synthetic ones do)."""
    from outbound_desk.contacts.phones import _type_match

    rx = _type_match(
        (r"\d{4,6}", (4, 5)),
        [(r"1\d{3,5}", (4,)), (r"2\d{3,5}", ()), (r"3\d{3}", (-1,))],
    )
    assert rx is not None
    answers = {v: rx.match(v) is not None for v in ("1234", "12345", "23456", "234567", "3456")}
    assert answers == {
        "1234": True,  # type 1, a length it allows
        "12345": False,  # type 1 allows 4 digits only
        "23456": True,  # type 2 allows any length the general description does
        "234567": False,  # the general description allows 4 or 5 digits
        "3456": False,  # type 3's lengths (-1: none) allow nothing
    }
    assert _type_match(None, [(r"\d+", ())]) is None
    assert _type_match((r"\d+", ()), [(r"\d+", (-1,))]) is None


def test_prefix_table_cache_builds_once_then_loads(tmp_path, monkeypatch) -> None:
    import numpy as np

    from outbound_desk.contacts import nanp_table
    from outbound_desk.contacts.phones import _nanp

    regions = _nanp().regions
    built = nanp_table.walk_table(regions)
    assert built is not None
    monkeypatch.setattr(nanp_table, "_cache_dir", None)
    nanp_table.use_cache_dir(tmp_path / "cache")
    first = nanp_table.cached_walk_table(regions)  # builds, and leaves the file
    files = list((tmp_path / "cache").glob("nanp-table-*.npz"))
    assert len(files) == 1
    assert not list((tmp_path / "cache").glob(".nanp-*"))  # no temporary file left behind

    def no_build(_regions):
        raise AssertionError("built again instead of loading the cache")

    monkeypatch.setattr(nanp_table, "walk_table", no_build)
    loaded = nanp_table.cached_walk_table(regions)
    assert first is not None
    assert loaded is not None
    for got in (first, loaded):
        assert np.array_equal(got[0], built[0])
        assert np.array_equal(got[1], built[1])
    # Other patterns are another table: never the cached one.
    with pytest.raises(AssertionError, match="built again"):
        nanp_table.cached_walk_table(regions[:-1])


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong_arrays"])
def test_a_damaged_prefix_table_cache_is_built_again(tmp_path, monkeypatch, damage) -> None:
    import numpy as np

    from outbound_desk.contacts import nanp_table
    from outbound_desk.contacts.phones import _nanp

    regions = _nanp().regions
    monkeypatch.setattr(nanp_table, "_cache_dir", None)
    nanp_table.use_cache_dir(tmp_path)
    good = nanp_table.cached_walk_table(regions)
    (path,) = tmp_path.glob("nanp-table-*.npz")
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00not a table" * 100)
    else:
        with path.open("wb") as fh:
            np.savez(fh, other=np.zeros(3))
    again = nanp_table.cached_walk_table(regions)
    assert good is not None
    assert again is not None
    assert np.array_equal(again[0], good[0])
    assert np.array_equal(again[1], good[1])
    with np.load(path) as stored:  # and the file is whole again
        assert set(stored.files) == {"valid", "undecided"}


def test_prefix_table_without_a_writable_cache_is_still_built(tmp_path, monkeypatch) -> None:
    from outbound_desk.contacts import nanp_table
    from outbound_desk.contacts.phones import _nanp

    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory would be")
    monkeypatch.setattr(nanp_table, "_cache_dir", None)
    nanp_table.use_cache_dir(blocker / "cache")
    assert nanp_table.cached_walk_table(_nanp().regions) is not None


# ------------------------------------------------------------ the start-up check (issue 13)
def test_the_fast_paths_agree_with_this_phonenumbers_on_its_own_examples() -> None:
    """The check run before a fast path answers finds nothing to distrust in the pinned
    release (every country code is checked here, not only those a file brings)."""
    import phonenumbers

    from outbound_desk.contacts import phones

    phones._nanp()
    for cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        phones._country(cc)
    assert phones.DISTRUSTED == {}
    assert phones._nanp().usable
    assert phones._country(44).usable


def test_a_country_whose_fast_path_disagrees_falls_back_to_phonenumbers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A new phonenumbers release that reads its metadata otherwise than our fast path: the
    check sees it on the example numbers, and that code's numbers go to phonenumbers."""
    import numpy as np

    from outbound_desk.contacts import phones

    # Simulate the disagreement: the fast path calls every +44 number valid.
    real = phones._CountryRules.valid_many

    def everything_valid(self: phones._CountryRules, nsns: list[str]) -> object:
        if self is phones._COUNTRIES.get(44):
            return np.ones(len(nsns), dtype=bool)
        return real(self, nsns)

    monkeypatch.setattr(phones._CountryRules, "valid_many", everything_valid)
    # No verdicts kept from an earlier process (a changed fast path has another cache key).
    monkeypatch.setattr(phones.nanp_table, "_cache_dir", None)
    monkeypatch.setattr(phones, "_COUNTRIES", {})
    monkeypatch.setattr(phones, "DISTRUSTED", {})

    bad_gb = "+44 20 7946 095"  # one digit short: phonenumbers says invalid
    values = pd.Series([bad_gb, "+44 20 7946 0958", "+49 30 901820", "(212) 555-0123"])
    with caplog.at_level("WARNING"), PhoneNormaliser("US", workers=1) as n:
        e164, reason = n.normalise(values)
    assert 44 in phones.DISTRUSTED
    assert not phones._country(44).usable
    assert phones._country(49).usable  # only the code that disagreed
    assert any("+44" in r.getMessage() for r in caplog.records)
    want = [classify(v, "US") for v in values]
    assert list(zip(e164.tolist(), reason.tolist(), strict=True)) == want
    assert e164.tolist()[0] == ""  # the broken fast path would have called it valid


def test_the_nanp_fast_path_is_switched_off_when_it_disagrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import numpy as np

    from outbound_desk.contacts import phones

    monkeypatch.setattr(
        phones._NanpRules, "valid", lambda self, digits: np.zeros(len(digits), dtype=bool)
    )
    monkeypatch.setattr(phones.nanp_table, "_cache_dir", None)
    monkeypatch.setattr(phones, "_NANP", None)
    monkeypatch.setattr(phones, "DISTRUSTED", {})
    assert not phones._nanp().usable
    assert 1 in phones.DISTRUSTED
    with PhoneNormaliser("US", workers=1) as n:
        e164, _ = n.normalise(pd.Series(["(212) 555-0123"]))
    assert e164.tolist() == ["+12125550123"]  # phonenumbers' answer, not the broken path's


def test_the_checks_verdicts_are_kept_in_the_cache_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """The command line and the app check once per phonenumbers release, not per process."""
    from pathlib import Path

    from outbound_desk.contacts import nanp_table, phones

    monkeypatch.setattr(nanp_table, "_cache_dir", Path(str(tmp_path)))
    monkeypatch.setattr(phones, "_COUNTRIES", {})
    assert phones._country(44).usable
    (kept,) = Path(str(tmp_path)).glob("phones-check-*.json")
    assert '"44": []' in kept.read_text(encoding="utf-8")

    def no_second_check(*args: object) -> list[str]:
        raise AssertionError("checked again")

    monkeypatch.setattr(phones, "_disagreements", no_second_check)
    monkeypatch.setattr(phones, "_COUNTRIES", {})  # another process, as it were
    assert phones._country(44).usable
