"""Which of a desk's destinations publish bookable care (a quota, dated sessions), which only take walk-ins,
which neither — and that the ledger finds them for a desk from its communities and its own referrals."""

from __future__ import annotations

import pytest

from mednet.errors import Forbidden
from mednet.ledger import NewReferral, QuotaIn
from mednet.ledger.bookable import destination_care
from mednet.regions import load_region


def test_each_way_in_is_told_apart():
    minhang = load_region("minhang")
    found = {(c.institution, c.specialty): c for c in destination_care(
        minhang, "sh-xinhua", [("mh-hongqiao", "urology"), ("mh-hongqiao", "tcm_paediatrics")],
        {("mh-hongqiao", "paediatrics"): {"per_day": 0, "release_days": 5}})}
    urology = found[("mh-hongqiao", "urology")]  # sessions whose day is still to be arranged: nothing to book
    assert (urology.how, urology.referred) == ("none", True)
    assert found[("mh-hongqiao", "tcm_paediatrics")].how == "sessions"
    assert ("mh-hongqiao", "paediatrics") not in found  # a lower tier, never referred to: not a destination
    quzhou = load_region("quzhou")
    care = destination_care(quzhou, "kh-huabu", [], {("kh-people", "general_surgery"): {
        "per_day": 3, "release_days": 5}, ("kh-people", "orthopaedics"): {"per_day": 0, "release_days": 5}})
    by_key = {(c.institution, c.specialty): c for c in care}
    assert by_key[("kh-people", "general_surgery")].how == "quota"
    assert by_key[("kh-people", "orthopaedics")].how == "walk_in"  # a paused quota: the standing clinic is left
    assert ("kh-people", "laboratory") not in by_key  # diagnostics are no destination of a patient
    assert [c.how for c in care] == sorted((c.how for c in care), key=lambda h: {"none": 0, "walk_in": 1}.get(h, 2))


def test_the_ledger_reads_a_desk_s_destinations(desks):
    desks.ledger.set_quota(desks.admin, "minhang", QuotaIn(institution="sh-xinhua", specialty="儿科", per_day=2))
    desks.ledger.create(desks.centre, NewReferral(specialty="泌尿外科", reason="血尿", patient={"ref": "BK-1"},
                                                  destination="sh-huashan", route=False))
    care = {(c.institution, c.specialty): c for c in desks.ledger.destination_care(desks.centre)}
    assert care[("sh-xinhua", "paediatrics")].how == "quota"
    assert care[("sh-huashan", "urology")].referred
    with pytest.raises(Forbidden):
        desks.ledger.destination_care(desks.planner)
