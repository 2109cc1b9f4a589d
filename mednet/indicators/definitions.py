"""Every indicator, defined once: what it counts, over what, with which filters, in which unit, on whose word.

A definition is a value (:class:`Indicator`); the SQL in :mod:`mednet.indicators.ledger_sql` and
:mod:`mednet.indicators.aggregates_sql` produces the *facts* it names (``numerator`` and ``denominator`` are
fact names), and :mod:`mednet.indicators.compute` divides them. No national text defining these indicators
is bundled with mednet, so every definition here is **mednet's own** (``source``) and cites nothing; where a
national goal is widely stated (90 % of visits within the county) the target is given and its ``target_note``
says the definition is mednet's.

Indicators sit in *dimensions* (one table each on the page). A referral counts in the period in which it was
created (China Standard Time); institution dimensions (county, community, institution) are those of the
referral's origin.

    >>> INDICATORS["down_share"].unit, INDICATORS["down_share"].numerator, INDICATORS["down_share"].denominator
    ('share', 'down', 'up_down')
    >>> [d.key for d in DIMENSIONS][:3]
    ['volume', 'outcome', 'timeliness']
    >>> indicator("nope")
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `indicator` must be one of the defined indicators (e.g. down_share), got 'nope'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mednet.errors import InvalidRequest

Unit = Literal["count", "share", "minutes", "km"]
#: The source of every definition below: no national indicator text is bundled, so none is cited.
OWN = "mednet's own definition"
#: What a value shows when its denominator was not collected (no referrals, no imported aggregate).
NOT_COLLECTED = "未采集"


@dataclass(frozen=True)
class Dimension:
    """A group of indicators shown as one table."""

    key: str
    label_zh: str


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("volume", "转诊量"),
    Dimension("outcome", "转诊结局"),
    Dimension("timeliness", "时效"),
    Dimension("flow", "流向"),
    Dimension("quota", "号源下沉"),
    Dimension("match", "推荐与绕转"),
    Dimension("county", "县域（月度汇总数据）"),
)


@dataclass(frozen=True)
class Indicator:
    """One indicator: ``numerator`` / ``denominator`` are fact names (a count indicator has no denominator;
    a time indicator's numerator is the fact holding the statistic and its denominator the number measured).
    ``filters`` says in words which referrals or rows the facts take; ``target`` is a share or count to
    reach, where one is stated."""

    key: str
    label_zh: str
    dimension: str
    unit: Unit
    numerator: str
    denominator: str | None
    filters: str
    source: str = OWN
    target: float | None = None
    target_note: str | None = None
    #: A time statistic: ``median`` or ``p90`` of the numerator's values in whole minutes (each moment cut to its
    #: second, the difference rounded down to the minute), nearest rank (the value at rank ⌈q·n⌉).
    statistic: Literal["median", "p90"] | None = None
    #: Higher is better (True), lower is better (False) or neither (None): used for the page's arrows only.
    higher_is_better: bool | None = None


def _i(key: str, zh: str, dim: str, unit: Unit, num: str, den: str | None, filters: str, **more: object) -> Indicator:
    return Indicator(key, zh, dim, unit, num, den, filters, **more)  # type: ignore[arg-type]


_LIST: tuple[Indicator, ...] = (
    _i("referrals", "转诊总数", "volume", "count", "created", None, "all referrals created in the period"),
    _i("up", "上转人次", "volume", "count", "up", None, "direction = up"),
    _i("down", "下转人次", "volume", "count", "down", None, "direction = down (including 康复回社区 send-homes)",
       higher_is_better=True),
    _i("emergency", "急诊转诊人次", "volume", "count", "emergency", None, "direction = emergency"),
    _i("lateral", "平转人次", "volume", "count", "lateral", None,
       "origin and destination of the same level (both primary care, or both hospitals), any direction"),
    _i("down_share", "下转占比", "volume", "share", "down", "up_down", "down ÷ (up + down)", higher_is_better=True),
    _i("returned_home_share", "上转后下转回社区比例", "volume", "share", "up_returned", "up",
       "up-referrals that have a down-referral child (send home) ÷ up-referrals", higher_is_better=True),
    _i("acceptance_rate", "接收率", "outcome", "share", "accepted", "created",
       "referrals with an accept event ÷ referrals", higher_is_better=True),
    _i("rejection_rate", "拒收率", "outcome", "share", "rejected", "created", "state = rejected ÷ referrals",
       higher_is_better=False),
    _i("cancellation_rate", "取消率", "outcome", "share", "cancelled", "created", "state = cancelled ÷ referrals",
       higher_is_better=False),
    _i("expiry_rate", "过期率", "outcome", "share", "expired", "created", "state = expired ÷ referrals",
       higher_is_better=False),
    _i("no_show_rate", "爽约率", "outcome", "share", "no_show", "booked",
       "booked referrals that ended expired without arrival ÷ booked referrals", higher_is_better=False),
    _i("closure_rate", "闭环率", "outcome", "share", "closed", "created",
       "state in completed, rejected, cancelled, expired ÷ referrals", higher_is_better=True),
    _i("response_median", "响应时长中位数（分钟）", "timeliness", "minutes", "response_median", "responded",
       "created → first accept or reject event, referrals answered", statistic="median", higher_is_better=False),
    _i("response_p90", "响应时长P90（分钟）", "timeliness", "minutes", "response_p90", "responded",
       "created → first accept or reject event, referrals answered", statistic="p90", higher_is_better=False),
    _i("booking_median", "预约用时中位数（分钟）", "timeliness", "minutes", "booking_median", "booked",
       "created → first book event, referrals booked", statistic="median", higher_is_better=False),
    _i("booking_p90", "预约用时P90（分钟）", "timeliness", "minutes", "booking_p90", "booked",
       "created → first book event, referrals booked", statistic="p90", higher_is_better=False),
    _i("overdue", "超时未处理数", "timeliness", "count", "overdue", None,
       "open referrals past their service-level due time at the period's end (only where service levels exist)",
       higher_is_better=False),
    _i("left_county_share", "转出县域比例", "flow", "share", "left_county", "located",
       "destination's county ≠ origin's county ÷ referrals whose two counties are known", higher_is_better=False),
    _i("within_community_share", "医共体内转诊比例", "flow", "share", "within_community", "located",
       "destination in the origin's community (lead or branch) ÷ referrals whose two institutions are known",
       higher_is_better=True),
    _i("quota_offered", "下沉号源数", "quota", "count", "quota_offered", None,
       "per_day × days in the period of the quotas in force now (quotas keep no history)"),
    _i("quota_booked", "号源预约数", "quota", "count", "quota_booked", None,
       "referrals booked on a quota unit (slot quota/…)"),
    _i("quota_used", "号源使用数", "quota", "count", "quota_used", None,
       "referrals booked on a quota unit that arrived"),
    _i("quota_use_share", "号源使用率", "quota", "share", "quota_booked", "quota_offered",
       "quota units booked ÷ units offered", higher_is_better=True),
    _i("match_share", "推荐一致率", "match", "share", "matched", "routed",
       "destination = the router's proposal ÷ referrals that were routed", higher_is_better=True),
    _i("bypass", "绕转人次", "match", "count", "bypassed", None,
       "routed referrals whose destination differs from the proposal (see the bypass table)",
       higher_is_better=False),
    _i("county_inpatient_share", "县域内住院人次占比", "county", "share", "inpatient_in_county", "inpatient_all",
       "inpatients at institutions of the county ÷ (those + inpatients of the county's people treated outside, "
       "from the monthly aggregates)", higher_is_better=True),
    _i("primary_visit_share", "基层诊疗人次占比", "county", "share", "visits_primary", "visits_all",
       "outpatient and emergency visits at township and community centres ÷ all visits (monthly aggregates)",
       higher_is_better=True),
    _i("county_visit_share", "县域就诊率", "county", "share", "visits_in_county", "visits_with_outside",
       "visits at institutions of the county ÷ (those + visits of the county's people outside the county)",
       target=0.90, target_note="90 % is the widely stated national goal; the definition here is mednet's own",
       higher_is_better=True),
    _i("ordered_referral_share", "有序转诊率", "county", "share", "up_left_county", "inpatient_outside",
       "up-referrals leaving the county (ledger) ÷ inpatient stays of the county's people outside the county "
       "(monthly aggregates)", higher_is_better=True),
    _i("insurance_in_county_share", "医保基金县域内支出占比", "county", "share", "insurance_in_county",
       "insurance_all", "insurance fund paid to institutions of the county ÷ (that + paid outside the county)",
       higher_is_better=True),
)

INDICATORS: dict[str, Indicator] = {i.key: i for i in _LIST}


def indicator(key: str) -> Indicator:
    """The indicator named ``key``; :class:`InvalidRequest` naming the defined ones otherwise.

    >>> indicator("match_share").label_zh
    '推荐一致率'
    """
    found = INDICATORS.get(key)
    if found is None:
        raise InvalidRequest("indicator", key, "must be one of the defined indicators (e.g. down_share)")
    return found


def definitions_table() -> list[dict[str, object]]:
    """Every definition as rows (the table in the docs and the ``definitions`` of the HTTP answer).

    >>> row = definitions_table()[0]
    >>> row["key"], row["source"]
    ('referrals', "mednet's own definition")
    """
    return [dict(key=i.key, label_zh=i.label_zh, dimension=i.dimension, unit=i.unit, numerator=i.numerator,
                 denominator=i.denominator, filters=i.filters, source=i.source, target=i.target,
                 target_note=i.target_note) for i in _LIST]
