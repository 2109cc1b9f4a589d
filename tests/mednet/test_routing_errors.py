"""Routing errors a clerk reads: Chinese by default, English with ``lang``; code and field stay machine-readable."""

from __future__ import annotations

import pytest

from mednet.cli import main
from mednet.errors import InvalidCoordinates, InvalidRequest, NoCapableInstitution, UnknownInstitution
from mednet.regions import load_region
from mednet.routing import Point, Router


@pytest.fixture(scope="module")
def quzhou():
    return Router.from_region(load_region("quzhou"))


def test_no_capable_institution_is_chinese_by_default_and_english_with_lang(quzhou):
    with pytest.raises(NoCapableInstitution) as zh:
        quzhou.route("杨林", "骨科", max_km=0.5)
    assert str(zh.value) == ("没有比杨林卫生院级别更高的机构提供骨科（限 0.5 公里内，max_km）；"
                             "最近的是开化县第二人民医院，27.7 公里；地区 quzhou")
    assert (zh.value.specialty, zh.value.nearest, zh.value.field) == ("orthopaedics", "开化县第二人民医院", None)
    assert zh.value.nearest_km == pytest.approx(27.7, abs=0.05)
    with pytest.raises(NoCapableInstitution, match=r"no institution of a higher tier than 杨林卫生院 offers 骨科 "
                                                   r"\(orthopaedics\) within max_km=0\.5 km") as en:
        quzhou.route("杨林", "骨科", max_km=0.5, lang="en")
    assert en.value.specialty == zh.value.specialty and en.value.nearest_km == zh.value.nearest_km


@pytest.mark.parametrize(("options", "reason", "limits"), [
    ({"max_km": 0.5}, "higher_tier", ("max_km",)),
    ({"cost": "minutes", "max_minutes": 1}, "higher_tier", ("max_minutes",)),
    ({"cost": "minutes", "max_km": 0.5, "max_minutes": 1}, "higher_tier", ("max_km", "max_minutes")),
    ({"direction": "emergency", "max_km": 0.5}, "elsewhere", ("max_km",)),
])
def test_no_capable_institution_says_why_in_fields(quzhou, options, reason, limits):
    """Who was looked for and which limits left no one, machine-readable beside the wording."""
    with pytest.raises(NoCapableInstitution) as err:
        quzhou.route("杨林", "骨科", **options)
    assert (err.value.reason, err.value.limits) == (reason, limits)


def test_no_capable_institution_going_down_names_the_home_community(quzhou):
    with pytest.raises(NoCapableInstitution) as err:
        quzhou.route("衢州市人民医院", "神经外科", direction="down", home="华埠")
    assert (err.value.reason, err.value.limits) == ("home_community", ())


def test_route_json_speaks_the_same_language(quzhou):
    with pytest.raises(NoCapableInstitution, match=r"^没有比杨林卫生院"):
        quzhou.route_json("杨林", "骨科", max_km=0.5)
    with pytest.raises(NoCapableInstitution, match=r"^no institution of a higher tier"):
        quzhou.route_json("杨林", "骨科", max_km=0.5, lang="en")


@pytest.mark.parametrize(("options", "field", "zh", "en"), [
    ({"max_km": -5}, "max_km", "参数 `max_km` 必须是大于 0 的数，收到 -5", "`max_km` must be a number > 0, got -5"),
    ({"direction": "sideways"}, "direction", "必须是 up（上转）、down（下转）或 emergency（急诊）之一",
     "must be one of 'up', 'down', 'emergency'"),
    ({"alternatives": 0}, "alternatives", "必须是不小于 1 的整数", "must be a whole number >= 1"),
    ({"explain": "all"}, "explain", "必须是 short（简要）或 full（完整）", "must be one of 'short', 'full'"),
    ({"home": "华埠"}, "home", "仅用于下转", "is only used with direction='down'"),
])
def test_invalid_values_are_worded_in_both_languages(quzhou, options, field, zh, en):
    with pytest.raises(InvalidRequest) as caught:
        quzhou.route("华埠", "骨科", **options)
    assert zh in str(caught.value) and caught.value.field == field
    with pytest.raises(InvalidRequest) as caught:
        quzhou.route("华埠", "骨科", lang="en", **options)
    assert en in str(caught.value) and caught.value.field == field


def test_sterile_supply_and_unknown_names_are_worded_in_both_languages(quzhou):
    with pytest.raises(InvalidRequest, match="消毒供应是机构之间的服务，不接受转诊"):
        quzhou.route("华埠", "消毒供应")
    with pytest.raises(UnknownInstitution) as caught:
        quzhou.route("华铺", "骨科")
    assert str(caught.value).startswith("未知的机构“华铺”；是否要找“") and caught.value.field == "origin"
    with pytest.raises(UnknownInstitution, match=r"^unknown institution '华铺'"):
        quzhou.route("华铺", "骨科", lang="en")


def test_a_point_too_far_from_primary_care_is_worded_in_both_languages():
    router = Router.from_region(load_region("quzhou"))
    with pytest.raises(InvalidCoordinates, match="必须在地区 quzhou 某基层医疗机构 50 公里内") as caught:
        router.route(Point(lat=40.0, lon=116.4), "骨科")
    assert caught.value.field == "origin"
    with pytest.raises(InvalidCoordinates, match="must lie within 50 km of a primary-care institution"):
        router.route(Point(lat=40.0, lon=116.4), "骨科", lang="en")


def test_errors_outside_routing_keep_their_english(quzhou):
    err = UnknownInstitution("华铺", known=["华埠镇卫生院"])
    assert str(err) == "unknown institution '华铺'; did you mean '华埠镇卫生院'?"
    assert str(err.in_lang("zh")) == "未知的机构“华铺”；是否要找“华埠镇卫生院”？"


@pytest.mark.parametrize(("lang", "words"), [("zh", "没有比杨林卫生院级别更高的机构提供骨科"),
                                             ("en", "no institution of a higher tier than 杨林卫生院")])
def test_the_cli_prints_the_error_in_the_answers_language(capsys, lang, words):
    code = main(["route", "quzhou", "--from", "杨林", "--specialty", "骨科", "--max-km", "0.5", "--lang", lang])
    assert code != 0 and words in capsys.readouterr().err


@pytest.mark.parametrize(("lang", "words"), [("zh", "必须给出（仅下转时可省略）"), ("en", "is required")])
def test_the_cli_checks_before_loading_in_the_answers_language(capsys, lang, words):
    assert main(["route", "quzhou", "--from", "华埠", "--lang", lang]) == 2
    assert words in capsys.readouterr().err
