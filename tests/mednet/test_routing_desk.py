"""What a referral desk reads: China time, sessions whose day is not published, what travels, the language."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mednet.cli import main
from mednet.errors import InvalidRequest, NoCapableInstitution
from mednet.models import Contact, Detail, Flag
from mednet.regions import load_region
from mednet.routing import Point, Router
from mednet.routing.request import check_when
from mednet.specialties import SPECIALTIES, resolve_specialty

MONDAY_9 = dt.datetime(2024, 10, 28, 9, 0)  # the seed article's Monday; 虹桥's booking window is 5 days
HONGQIAO = "虹桥社区卫生服务中心"
#: 闵行's visiting clinics whose weekday the article does not publish, and the hospital each comes from.
UNDATED = {"泌尿外科": "sh-huashan", "内分泌": "sh-sixth", "儿科": "mh-hospital"}


@pytest.fixture(scope="module")
def minhang():
    return Router.from_region(load_region("minhang"))


@pytest.fixture(scope="module")
def luqiao():
    return Router.from_region(load_region("luqiao"))


# --------------------------------------------------------------------------- time zones


def test_a_when_with_an_offset_becomes_china_standard_time():
    assert check_when(dt.datetime.fromisoformat("2024-10-29T10:00:00Z")) == dt.datetime.fromisoformat(
        "2024-10-29T18:00:00+08:00")
    assert check_when(dt.datetime.fromisoformat("2024-10-29T10:00:00-05:00")).hour == 23
    assert check_when(MONDAY_9) == MONDAY_9  # no offset: China's local time, as given


def test_tuesday_18h_in_china_is_after_the_tuesday_afternoon_session(minhang):
    utc = dt.datetime.fromisoformat("2024-10-29T10:00:00Z")  # Tuesday 18:00 in China; the session ended 17:30
    r = minhang.route(HONGQIAO, "中医儿科", when=utc)
    assert r.destination.id == "sh-xinhua" and r.session is None
    assert r.when.utcoffset() == dt.timedelta(hours=8) and r.when.hour == 18
    assert not any(a.session for a in r.alternatives)
    # 01:00Z is 09:00 in China: the afternoon session is still ahead.
    assert minhang.route(HONGQIAO, "中医儿科", when=utc.replace(hour=1)).destination.id == "mh-hongqiao"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(instant=st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2026, 12, 31)),
       offset_quarters=st.integers(-12 * 4, 14 * 4))
def test_any_offset_gives_the_answer_of_the_same_instant_in_china(minhang, instant, offset_quarters):
    zone = dt.timezone(dt.timedelta(minutes=15 * offset_quarters))
    aware = instant.replace(tzinfo=zone)
    china = aware.astimezone(dt.timezone(dt.timedelta(hours=8)))
    r = minhang.route(HONGQIAO, "中医儿科", when=aware)
    assert r.when == china and r.when.utcoffset() == dt.timedelta(hours=8)
    # By hand: the Tuesday 14:00-17:30 clinic is bookable when one of its sittings ends after the window
    # opens and starts before it closes (5 days, in China's wall-clock time).
    start, end = china.replace(tzinfo=None), china.replace(tzinfo=None) + dt.timedelta(days=5)
    days = (start.date() + dt.timedelta(days=n) for n in range(7))
    open_ = any(d.weekday() == 1 and dt.datetime.combine(d, dt.time(17, 30)) > start
                and dt.datetime.combine(d, dt.time(14)) < end for d in days)
    assert (r.destination.id == "mh-hongqiao") == open_
    naive = minhang.route(HONGQIAO, "中医儿科", when=start)
    assert naive.model_dump(exclude={"when"}) == r.model_dump(exclude={"when"})


# --------------------------------------------------------------------------- sessions whose day is not published


@pytest.mark.parametrize(("specialty", "provider"), UNDATED.items())
def test_a_session_whose_day_is_not_published_is_offered_marked_never_dropped(minhang, specialty, provider):
    r = minhang.route(HONGQIAO, specialty, when=MONDAY_9, alternatives=2)
    assert r.destination.id != "mh-hongqiao"  # not known to fall in the 5-day window
    marked = [a for a in r.alternatives if a.session is not None and a.session.day_unknown]
    assert [a.institution.id for a in marked] == ["mh-hongqiao"]
    slot = marked[0].session
    assert slot.provider.id == provider and slot.date is None and marked[0].distance_km == 0.0
    assert "日期未公布：请询问该中心或查看预约渠道" in slot.text
    assert len(r.alternatives) == 3  # the two asked for, and the marked one beside them
    en = minhang.route(HONGQIAO, specialty, when=MONDAY_9, lang="en")
    assert "day not published: ask the centre / see the booking channel" in en.alternatives[0].session.text


def test_a_point_is_offered_the_undated_session_at_its_home_centre_at_the_access_legs_km(minhang):
    # A point 0.3 km north of 虹桥: its home centre is 虹桥, whose urology day is not published; the marked
    # session is still offered, at the point's access leg to 虹桥 (distances start at the point).
    at = Point(lat=31.1823, lon=121.38)
    nodes, kms = minhang.access_legs(at)
    leg = kms[[minhang.net.ids[j] for j in nodes].index("mh-hongqiao")]
    r = minhang.route(at, "泌尿外科", when=MONDAY_9, alternatives=2)
    assert (r.origin.id, r.measured_from, r.path[0].kind) == ("mh-hongqiao", "origin_point", "access")
    marked = [a for a in r.alternatives if a.session is not None and a.session.day_unknown]
    assert [(a.institution.id, a.distance_km) for a in marked] == [("mh-hongqiao", leg)]
    assert r.destination.id != "mh-hongqiao" and len(r.alternatives) == 3


def test_a_session_whose_day_is_not_published_is_the_destination_when_a_week_is_in_the_window():
    week = Router.from_region(load_region("minhang").model_copy(update={"booking_days": 7}))
    r = week.route(HONGQIAO, "泌尿外科", when=MONDAY_9)
    assert (r.destination.id, r.session.day_unknown, r.session.provider.id) == ("mh-hongqiao", False, "sh-huashan")
    assert not any(a.session and a.session.day_unknown for a in r.alternatives)


def test_emergency_does_not_offer_sessions_at_all(minhang):
    r = minhang.route(HONGQIAO, "泌尿外科", direction="emergency", when=MONDAY_9)
    assert all(a.session is None for a in r.alternatives)


def test_when_only_an_undated_session_could_take_it_the_error_says_where_to_ask():
    region = load_region("minhang")
    only = region.model_copy(update={"institutions": tuple(
        i if i.id == "mh-hongqiao" else i.model_copy(update={"capabilities": tuple(
            c for c in i.capabilities if c.specialty != "urology")})
        for i in region.institutions)})
    with pytest.raises(NoCapableInstitution, match="闵行区虹桥社区卫生服务中心 holds it in sessions whose day is not "
                                                   "published"):
        Router.from_region(only).route(HONGQIAO, "泌尿外科", when=MONDAY_9, lang="en")
    with pytest.raises(NoCapableInstitution, match="闵行区虹桥社区卫生服务中心以门诊提供，但出诊日期未公布"):
        Router.from_region(only).route(HONGQIAO, "泌尿外科", when=MONDAY_9)


# --------------------------------------------------------------------------- what travels


def test_every_specialty_says_what_travels_and_why_when_not_the_patient():
    for sp in SPECIALTIES:
        assert sp.travels in ("patient", "specimen", "trace", "nothing")
        if sp.travels != "patient":
            assert "患者可以少跑甚至不用跑" in sp.travels_note and "Inferred" in sp.travels_note
    assert {s.code: s.travels for s in SPECIALTIES if s.travels != "patient"} == {
        "laboratory": "specimen", "pathology": "specimen", "ecg": "trace", "sterile_supply": "nothing"}


@pytest.mark.parametrize(("specialty", "centre", "travels", "words"), [
    ("检验", "lq-shared-lab", "specimen", "送检标本，患者无需前往"),
    ("病理", "lq-shared-pathology", "specimen", "送检标本，患者无需前往"),
    ("心电", "lq-shared-ecg", "trace", "传送心电图，患者无需前往"),
])
def test_luqiaos_shared_centres_receive_specimens_and_traces(luqiao, specialty, centre, travels, words):
    r = luqiao.route("金清", specialty, alternatives=5)
    assert r.specialty.travels == travels and r.explanation.endswith(words)
    assert centre in [r.destination.id, *(a.institution.id for a in r.alternatives)]
    assert luqiao.route("金清", specialty, lang="en").explanation.endswith(f"the {travels} travels, not the patient")
    assert luqiao.route("金清", "普外科").specialty.travels == "patient"


@pytest.mark.parametrize("direction", ["emergency", "up"])
def test_sterile_supply_is_no_referral(luqiao, direction):
    with pytest.raises(InvalidRequest, match="消毒供应 \\(sterile_supply\\) is a service between institutions, "
                                             "not a referral service") as caught:
        luqiao.route("金清", "消毒供应", direction=direction, lang="en")
    assert caught.value.field == "specialty"


def test_the_cli_refuses_sterile_supply_with_exit_2(capsys):
    assert main(["route", "luqiao", "--from", "金清", "--specialty", "消毒供应", "--direction", "emergency"]) == 2
    assert "消毒供应是机构之间的服务，不接受转诊" in capsys.readouterr().err
    assert main(["route", "luqiao", "--from", "金清", "--specialty", "消毒供应", "--direction", "emergency",
                 "--lang", "en"]) == 2
    assert "not a referral service" in capsys.readouterr().err


def test_a_referral_service_check_resolves_names_once():
    assert resolve_specialty("心电图").travels == "trace"


# --------------------------------------------------------------------------- the answer a clerk reads

LATIN = re.compile(r"[A-Za-z]")


@pytest.mark.parametrize("region_id", ["quzhou", "huzhou", "luqiao", "minhang"])
def test_explanations_are_entirely_chinese_by_default_and_english_on_request(region_id):
    region = load_region(region_id)
    router = Router.from_region(region)
    asked = 0
    for inst in region.institutions:
        for care in ("儿科", "普外科", "急诊", "中医儿科", "皮肤科", "检验"):
            for direction in ("up", "emergency"):
                try:
                    r = router.route(inst.id, care, direction=direction, when=MONDAY_9)
                except NoCapableInstitution:
                    continue
                asked += 1
                texts = [r.explanation] + [a.session.text for a in r.alternatives if a.session]
                assert not any(LATIN.search(t) for t in texts), texts
                en = router.route(inst.id, care, direction=direction, when=MONDAY_9, lang="en")
                assert re.match(r"(up|emergency|upper-lower linkage)\b", en.explanation), en.explanation
                assert en.lang == "en" and r.lang == "zh"
    assert asked > 10


def test_a_session_at_the_patients_own_centre_reads_as_such(minhang, capsys):
    r = minhang.route(HONGQIAO, "中医儿科", when=MONDAY_9)
    assert r.destination.id == r.origin.id == "mh-hongqiao"
    assert r.explanation.startswith("上下联动，在本中心就诊：新华医院的专家")
    assert main(["route", "minhang", "--from", HONGQIAO, "--specialty", "中医儿科", "--when", "2024-10-28T09:00"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("本中心就诊 闵行区虹桥社区卫生服务中心") and "→ 闵行区虹桥社区卫生服务中心" not in out
    assert main(["route", "minhang", "--from", HONGQIAO, "--specialty", "中医儿科", "--when", "2024-10-28T09:00",
                 "--lang", "en"]) == 0
    assert capsys.readouterr().out.startswith("at the own centre 闵行区虹桥社区卫生服务中心")


def test_lang_is_checked():
    with pytest.raises(InvalidRequest, match="参数 `lang` 必须是 zh（中文）或 en（英文）"):
        Router.from_region(load_region("minhang")).route(HONGQIAO, "儿科", lang="fr")


def _with_contacts(region):
    """minhang with contact details: 虹桥's booking channel as the seed names it (闵行捷医), and 闵行医院's
    24-hour emergency, a made-up flag marked inferred (test data only)."""
    contacts = {
        "mh-hongqiao": Contact(booking=Detail(value="闵行捷医", source="seed001")),
        "mh-hospital": Contact(emergency_24h=Flag(value=True, source="mednet-rule", inferred=True,
                                                  note="test data")),
    }
    return region.model_copy(update={"institutions": tuple(
        i.model_copy(update={"contact": contacts.get(i.id)}) for i in region.institutions)})


def test_answers_carry_the_institutions_contact_details_when_present():
    router = Router.from_region(_with_contacts(load_region("minhang")))
    r = router.route(HONGQIAO, "泌尿外科", when=MONDAY_9)
    assert r.destination.id == "mh-hospital" and r.contact.emergency_24h.value is True
    marked = r.alternatives[0]
    assert (marked.institution.id, marked.contact.booking.value) == ("mh-hongqiao", "闵行捷医")
    assert marked.session.text.endswith("日期未公布：请询问该中心或查看预约渠道（闵行捷医）")
    assert all(a.contact is None for a in r.alternatives[1:])  # none in the data
    assert router.route_json(HONGQIAO, "泌尿外科", when=MONDAY_9) == r.model_dump_json().encode()
    assert Router.from_region(load_region("minhang")).route(HONGQIAO, "泌尿外科", when=MONDAY_9).contact is None


def test_the_bundled_minhang_centre_gives_its_booking_channel_with_the_undated_clinics(minhang):
    # seed001: the 虹桥 centre's expert clinics are published in the 闵行捷医 mini-programme.
    marked = minhang.route(HONGQIAO, "泌尿外科", when=MONDAY_9).alternatives[0]
    assert marked.session.day_unknown and marked.contact.booking.source == "seed001"
    assert marked.session.text.endswith(f"日期未公布：请询问该中心或查看预约渠道（{marked.contact.booking.value}）")
    assert "闵行捷医" in marked.contact.booking.value


def test_the_text_answer_shows_the_contact_details():
    from mednet.cli.route import format_referral

    router = Router.from_region(_with_contacts(load_region("minhang")))
    r = router.route(HONGQIAO, "泌尿外科", when=MONDAY_9)
    assert "  联系: 24小时急诊 有" in format_referral(r).splitlines()
    en = router.route(HONGQIAO, "泌尿外科", when=MONDAY_9, lang="en")
    assert "  contact: 24-hour emergency yes" in format_referral(en).splitlines()


# --------------------------------------------------------------------------- planning measures as routing does


@pytest.mark.parametrize("region_id", ["quzhou", "luqiao"])
def test_coverage_distances_are_the_routing_distances(region_id):
    """Institutions at one shared proxy point are 0 km apart for planning too (not the nominal 1 km): every
    coverage distance to a permanent capability elsewhere is routing's emergency distance to the same place."""
    from mednet.planning import find_coverage_gaps

    router = Router.from_region(load_region(region_id))
    frame = find_coverage_gaps(router.G).to_frame()
    rows = frame[(frame.distance_km > 0) & frame.nearest_id.notna()]
    assert len(rows) > 100
    nodes = router.G.nodes
    for row in rows.itertuples():
        if nodes[row.nearest_id]["capabilities"][row.specialty].sessions or \
                not resolve_specialty(row.specialty).is_referral_service:
            continue  # held in sessions (not an emergency destination), or nothing is referred to it
        r = router.route(row.institution_id, row.specialty, direction="emergency")
        assert r.distance_km == row.distance_km, (row.name, row.specialty)  # the same float
    same_point = frame[(frame.distance_km == 0) & (frame.nearest_id != frame.institution_id)]
    # 华埠 shares one proxy point with 开化县第二人民医院: 0 km, as routing counts it (not the nominal 1 km).
    assert (len(same_point) > 0) == (region_id == "quzhou")
