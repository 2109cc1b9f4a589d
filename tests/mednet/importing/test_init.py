"""mednet init: a starting region for every county of the official list."""

import pytest

from mednet.errors import InvalidRequest, UnknownCounty
from mednet.importing import init_county
from mednet.models import Tier
from mednet.network import build_network, resolve_institution
from mednet.places import county_townships, official_counties
from mednet.validate import validate_membership


def test_every_county_of_the_official_list_starts():
    seats = official_counties()
    assert len(seats) > 2800
    for seat in seats:  # one process, all counties: a failure names the county
        region = init_county(seat.county_code)
        towns = county_townships(seat.name, code=seat.county_code)
        assert len(region.institutions) == 1 + len(towns), seat
        assert all(i.inferred and i.location.inferred for i in region.institutions), seat
        assert region.covered_counties[0].code == seat.county_code


def test_longyou_in_detail():
    region = init_county("龙游县", region_id="longyou")
    hospital, *centres = region.institutions
    assert hospital.tier is Tier.COUNTY_HOSPITAL and "占位" in hospital.name
    assert [c.name for c in centres][:3] == ["龙洲街道社区卫生服务中心", "东华街道社区卫生服务中心", "湖镇镇卫生院"]
    assert centres[0].tier is Tier.COMMUNITY_CENTRE and centres[2].tier is Tier.TOWNSHIP_CENTRE
    assert region.communities == () and region.links and all(link.inferred for link in region.links)
    G = build_network(region)
    assert resolve_institution(G, "湖镇") == resolve_institution(G, "湖镇镇卫生院") == centres[2].id
    report = validate_membership(region)
    assert report.codes("error") == {"orphan-primary-care"}  # no communities yet: the planner adds them


@pytest.mark.parametrize(("county", "error", "message"), [
    ("龙游", UnknownCounty, "did you mean '龙游县'"),
    ("鼓楼区", InvalidRequest, "is ambiguous"),
])
def test_unknown_or_ambiguous_county(county, error, message):
    with pytest.raises(error, match=message):
        init_county(county)


def test_prefecture_and_code_pick_one_county():
    assert init_county("福州市鼓楼区").covered_counties[0].code == "350102"
    assert init_county("330825").institutions[0].county == "龙游县"
