"""Each structural rule, broken on purpose in a copy of the Quzhou region.

Every mutation is the smallest change that breaks its rule; the validator
must report exactly the expected error codes (the original has none).
"""

import copy
import json

import pytest

from mednet.regions import load_region, parse_region, region_path
from mednet.validate import validate_membership


@pytest.fixture(scope="module")
def raw():
    return json.loads(region_path("quzhou").read_text(encoding="utf-8"))


def community(doc, name_part):
    return next(c for c in doc["communities"] if name_part in c["name"])


def roster(doc, com):
    return next(r for r in doc["rosters"] if r["community"] == com["id"])


def member(com, role, index=0):
    return [m for m in com["members"] if m["role"] == role][index]


def institution(doc, node):
    return next(i for i in doc["institutions"] if i["id"] == node)


def add_to_roster(doc, com, node):
    roster(doc, com)["entries"].append({"text": institution(doc, node)["name"], "institution": node})


def branch_in_two_communities(doc):
    a, b = community(doc, "江山市人民医院"), community(doc, "江山市中医院")
    node = member(a, "branch")["institution"]
    b["members"].append({"institution": node, "role": "branch", "source": "seed004"})
    add_to_roster(doc, b, node)


def no_lead(doc):
    member(community(doc, "江山市人民医院"), "lead")["role"] = "branch"


def two_leads(doc):
    com = community(doc, "开化县人民医院")
    collaborator = member(com, "collaborator")
    collaborator["role"] = "lead"
    add_to_roster(doc, com, collaborator["institution"])


def township_lead(doc):
    com = community(doc, "开化县中医院")
    lead, branch = member(com, "lead"), member(com, "branch")
    lead["role"], branch["role"] = "branch", "lead"


def member_from_another_county(doc):
    node = member(community(doc, "开化县人民医院"), "branch")["institution"]
    institution(doc, node)["county"] = "常山县"


def collaborator_as_lead(doc):
    # 开化县妇幼保健院 serves both Kaihua communities as a specialty alliance (seed 004);
    # make it lead one of them while it stays the alliance of the other.
    com = community(doc, "开化县人民医院")
    member(com, "lead")["role"] = "branch"
    alliance = member(com, "alliance")
    alliance["role"] = "lead"
    add_to_roster(doc, com, alliance["institution"])


def missing_roster_member(doc):
    com = community(doc, "开化县人民医院")
    add_to_roster(doc, com, member(com, "collaborator")["institution"])


def orphan_township_centre(doc):
    com = community(doc, "开化县中医院")
    node = member(com, "branch")["institution"]
    com["members"] = [m for m in com["members"] if m["institution"] != node]
    entries = roster(doc, com)["entries"]
    roster(doc, com)["entries"] = [e for e in entries if e["institution"] != node]


def unknown_id(doc):
    community(doc, "江山市中医院")["members"].append(
        {"institution": "js-nowhere", "role": "branch", "source": "seed004"})


def duplicate_name(doc):
    a, b = doc["institutions"][-1], doc["institutions"][-2]
    a["aliases"] = [*a.get("aliases", []), b["name"]]


def unreachable_member(doc):
    node = member(community(doc, "衢江区中医院"), "branch")["institution"]
    doc["links"] = [link for link in doc["links"] if node not in (link["a"], link["b"])]


def moved_member(doc):
    a, b = community(doc, "江山市人民医院"), community(doc, "江山市中医院")
    node = member(a, "branch")["institution"]
    a["members"] = [m for m in a["members"] if m["institution"] != node]
    b["members"].append({"institution": node, "role": "branch", "source": "seed004"})


def point_outside_county(doc):
    node = member(community(doc, "江山市人民医院"), "branch")["institution"]
    institution(doc, node).update(lat=39.9, lon=116.4)  # Beijing


def session_from_a_lower_tier(doc):
    # 上下联动: visiting sessions come from a higher tier; a township cannot "visit" its county hospital.
    com = community(doc, "开化县人民医院")
    lead, branch = member(com, "lead")["institution"], member(com, "branch")["institution"]
    institution(doc, lead)["capabilities"].append(
        {"specialty": "dermatology", "sessions": [{"weekday": "tue", "part": "afternoon", "provider": branch}],
         "source": "seed004"})
    institution(doc, lead)["capabilities"] = [
        c for c in institution(doc, lead)["capabilities"] if c["specialty"] != "dermatology" or c.get("sessions")]


MUTATIONS = [
    (session_from_a_lower_tier, {"session-provider"}),
    (branch_in_two_communities, {"multiple-communities"}),
    (no_lead, {"lead-count"}),
    (two_leads, {"lead-count"}),
    (township_lead, {"lead-tier"}),
    (member_from_another_county, {"member-outside-county"}),
    (collaborator_as_lead, {"partner-as-lead"}),
    (missing_roster_member, {"roster-missing"}),
    (orphan_township_centre, {"orphan-primary-care"}),
    (unknown_id, {"unknown-id"}),
    (duplicate_name, {"duplicate-name"}),
    (unreachable_member, {"unreachable-member"}),
    (moved_member, {"roster-moved", "roster-extra"}),
    (point_outside_county, {"point-outside-county"}),
]


def test_published_quzhou_has_no_errors(raw):
    report = validate_membership(parse_region(raw))
    assert report.ok, [p.message for p in report.errors]
    assert [(c.name, c.member_count) for c in report.communities] == [
        ("衢州市第二人民医院医共体", 16), ("衢江区中医院医共体", 7), ("江山市人民医院医共体", 13),
        ("江山市中医院医共体", 9), ("开化县人民医院医共体", 10), ("开化县中医院医共体", 7),
    ]


@pytest.mark.parametrize("mutate, codes", MUTATIONS, ids=[m.__name__ for m, _ in MUTATIONS])
def test_each_rule_is_reported_by_code(raw, mutate, codes):
    doc = copy.deepcopy(raw)
    mutate(doc)
    report = validate_membership(parse_region(doc))
    assert report.codes("error") == codes, [p.message for p in report.errors]
    assert not report.ok
    for problem in report.errors:  # messages name an institution or a community
        assert problem.institution or problem.community


def test_messages_name_the_institution_by_name_in_both_languages(raw):
    doc = copy.deepcopy(raw)
    township_lead(doc)
    [problem] = validate_membership(parse_region(doc)).errors
    lead = problem.institution
    name = institution(doc, lead)["name"]
    assert lead is not None and name in problem.message and name in problem.text("zh")
    assert lead not in problem.message and lead not in problem.text("zh")  # never a bare id
    assert "牵头单位须为医院" in problem.text("zh")


def test_report_is_immutable_and_serialises(raw):
    report = validate_membership(parse_region(raw))
    with pytest.raises(Exception, match="frozen"):
        report.region = "x"  # type: ignore[misc]
    assert json.loads(report.to_json())["region"] == "quzhou"


def test_sessions_that_can_never_fall_in_the_window_are_warned_about():
    minhang = load_region("minhang")
    warned = [p for p in validate_membership(minhang).warnings if p.code == "session-never-in-window"]
    # 闵行's visiting clinics of 华山医院 泌尿外科, 第六人民医院 内分泌 and 闵行医院 儿科: weekly, day not published,
    # in a 5-day window; the 中医儿科 clinic is on Tuesday afternoons and is not warned about.
    assert sorted(p.message.split()[1] for p in warned) == ["endocrinology", "paediatrics", "urology"]
    assert {p.institution for p in warned} == {"mh-hongqiao"}
    week = minhang.model_copy(update={"booking_days": 7})
    assert "session-never-in-window" not in validate_membership(week).codes()
