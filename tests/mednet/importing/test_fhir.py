"""FHIR R4 Bundles: Quzhou out and back in, every resource validated by fhir.resources."""

import copy

import pytest

from mednet.errors import RegionDataError
from mednet.importing import region_from_bundle, region_to_bundle
from mednet.importing.fhir import validate_bundle
from mednet.regions import load_region
from mednet.validate import validate_membership


@pytest.fixture(scope="module")
def quzhou_bundle(quzhou):
    return region_to_bundle(quzhou)


def test_every_resource_validates_as_its_own_type(quzhou_bundle, quzhou):
    bundle = validate_bundle(quzhou_bundle)
    kinds = [type(e.resource).__name__ for e in bundle.entry]
    assert kinds.count("Organization") == len(quzhou.institutions) + len(quzhou.communities)
    assert kinds.count("Location") == len(quzhou.institutions)
    assert kinds.count("OrganizationAffiliation") == sum(len(c.members) for c in quzhou.communities)
    assert kinds.count("HealthcareService") == sum(len(i.capabilities) for i in quzhou.institutions)


def test_quzhou_round_trip(quzhou_bundle, quzhou):
    back = region_from_bundle(quzhou_bundle)
    assert back.institutions == quzhou.institutions
    assert back.communities == quzhou.communities
    assert all(back.sources[k] == quzhou.sources[k] for k in quzhou.sources)
    assert validate_membership(back).ok


def test_contact_details_and_sessions_travel(quzhou_bundle):
    minhang = load_region("minhang")
    bundle = region_to_bundle(minhang)
    centre = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "mh-hongqiao")
    assert centre["address"][0]["text"] == "万源路2439号"
    access = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "hs-mh-hongqiao-access")
    assert access["telecom"][0]["value"] == "闵行捷医小程序"
    tcm = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "hs-mh-hongqiao-tcm-paediatrics")
    assert tcm["availableTime"][0]["daysOfWeek"] == ["tue"]
    assert region_from_bundle(bundle).institutions == minhang.institutions


def test_a_broken_bundle_names_the_place(quzhou_bundle):
    broken = copy.deepcopy(quzhou_bundle)
    at = next(i for i, e in enumerate(broken["entry"]) if e["resource"]["resourceType"] == "Location")
    broken["entry"][at]["resource"]["position"]["latitude"] = "north"
    with pytest.raises(RegionDataError, match=rf"bundle.json: entry.{at}.resource.*position.latitude"):
        region_from_bundle(broken, file="bundle.json")
    with pytest.raises(RegionDataError, match="not a Bundle of mednet's shape"):
        region_from_bundle({"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Organization", "id": "x", "identifier": [
                {"system": "urn:mednet:institution", "value": "x"}], "name": "x"}}]})
