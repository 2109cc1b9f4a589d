"""The desk page words a routing error by its code, not by the English of its message."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from mednet.errors import InvalidRequest
from mednet.regions import load_region
from mednet.routing import Point, Router
from service.pages.wording import INVALID_ZH, explain_error


@pytest.fixture(scope="module")
def quzhou():
    return Router.from_region(load_region("quzhou"))


@pytest.mark.parametrize(("call", "code", "words"), [
    (lambda r: r.route("华埠", "儿科", max_km=-1), "not_positive", "距离上限须为大于 0"),
    (lambda r: r.route("华埠", "儿科", home="华埠"), "only_down", "只在下转时使用"),
    (lambda r: r.route("华埠", None), "required", "请填写所需专科"),
    (lambda r: r.route("华埠", "消毒供应"), "not_referral_service", "机构之间的服务"),
    (lambda r: r.route("华埠", "儿科", direction="down"), "home_required", "下转需要填写患者的居住地"),
    (lambda r: r.route("华埠", "儿科", when=dt.datetime(1990, 1, 1)), "year_range", "2000 至 2100"),
    (lambda r: r.route(Point(lat=48.85, lon=2.35), "儿科"), "outside_china", "不在中国大陆"),
    (lambda r: r.route(Point(lat=39.9, lon=116.4), "儿科"), "too_far", "太远"),
    (lambda r: Point(lat=118.35, lon=29.01), "swapped", "似乎填反了"),
    (lambda r: Point(lat=29.0, lon=190.0), "out_of_range", "须为有效数字"),
])
def test_each_routing_rule_has_its_code_and_the_page_its_sentence(quzhou, call, code, words):
    with pytest.raises((InvalidRequest, ValueError)) as caught:
        call(quzhou)
    err = caught.value
    if isinstance(err, ValidationError):  # pydantic wraps a model validator's error
        err = err.errors()[0]["ctx"]["error"]
    assert isinstance(err, InvalidRequest)
    assert err.code == code
    assert words in explain_error(err).message


def test_the_sentence_does_not_depend_on_the_english_rule():
    err = InvalidRequest("home", "x", "some other English words", code="only_down")
    assert explain_error(err).message == INVALID_ZH[("home", "only_down")]
