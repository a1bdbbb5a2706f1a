"""explorer.core.links: a page's settings from its URL, every value checked; the current settings back
as a link."""

from __future__ import annotations

import pytest

from explorer.core import links
from explorer.core.i18n import LANGUAGES, catalog, placeholders

FIELDS = [links.Field("preset", "kl.preset", links.one_of(["sobel_x", "box3"])),
          links.Field("stride", "kl.stride", links.whole(1, 8)),
          links.Field("lr", "tr.lr", links.number(1e-6, 1.0)),
          links.Field("augment", "tr.augment", links.flag())]


def test_good_values_are_typed_and_keyed_by_session_key():
    values, problems = links.parse(FIELDS, {"preset": "sobel_x", "stride": "2", "lr": "0.01", "augment": "1"})
    assert values == {"kl.preset": "sobel_x", "kl.stride": 2, "tr.lr": 0.01, "tr.augment": True} and not problems


@pytest.mark.parametrize(("params", "key"), [
    ({"stride": "0"}, "common.link.range"),
    ({"stride": "2.5"}, "common.link.not_whole"),
    ({"stride": "9" * 40}, "common.link.not_whole"),
    ({"lr": "nan"}, "common.link.not_number"),
    ({"lr": "1e400"}, "common.link.range"),  # inf
    ({"lr": "5"}, "common.link.range"),
    ({"preset": "Sobel x (vertical edges)"}, "common.link.choice"),  # a translated label is not an id
    ({"preset": "<script>alert(1)</script>"}, "common.link.choice"),
    ({"augment": "yes"}, "common.link.flag"),
    ({"stride": "1" * 100}, "common.link.too_long"),
    ({"__proto__": "1"}, "common.link.unknown"),
])
def test_bad_and_hostile_values_are_refused_with_a_translated_reason(params, key):
    values, problems = links.parse(FIELDS, params)
    assert values == {} and [err.key for _, err in problems] == [key]
    name, err = problems[0]
    assert len(name) <= links.MAX_VALUE_CHARS
    for lang in LANGUAGES:
        text = catalog(lang)[err.key]
        assert placeholders(text) <= set(err.params) and text.format(**err.params)


def test_a_bad_value_does_not_stop_the_good_ones():
    values, problems = links.parse(FIELDS, {"preset": "box3", "stride": "-1"})
    assert values == {"kl.preset": "box3"} and [n for n, _ in problems] == ["stride"]


def test_the_current_settings_make_a_link_that_parses_back():
    state = {"kl.preset": "box3", "kl.stride": 3, "tr.lr": 0.001, "tr.augment": False, "other": 1}
    query = links.query(FIELDS, state)
    assert query == "preset=box3&stride=3&lr=0.001&augment=0"
    from urllib.parse import parse_qsl

    values, problems = links.parse(FIELDS, dict(parse_qsl(query)))
    assert not problems and values == {k: v for k, v in state.items() if k != "other"}
