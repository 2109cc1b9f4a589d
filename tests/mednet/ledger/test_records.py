"""Creating referrals: routing proposals, chosen destinations, patients without national ID numbers,
idempotency keys; the FHIR export; the schema's migrations."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError

import mednet
from mednet.errors import IdempotencyConflict, InvalidRequest, UnknownInstitution
from mednet.ledger import NewReferral, upgrade
from mednet.ledger.fhir import to_fhir
from mednet.ledger.records import ActionIn
from mednet.ledger.store import metadata


def routed(desks, **fields):
    router = mednet.Router.from_region(desks.ledger.regions["minhang"].region)
    answer = router.route("mh-hongqiao", "儿科", when=desks.clock())
    body = NewReferral(specialty="儿科", reason="发热", patient={"ref": "R1"}, **fields)
    return answer, desks.ledger.create(desks.centre, body, routing=answer.model_dump(mode="json")).record


def test_a_routed_referral_stores_the_answer_as_given(desks):
    answer, record = routed(desks)
    assert record.destination.id == record.proposed_destination.id == answer.destination.id
    assert record.routing == answer.model_dump(mode="json")
    assert record.origin.id == "mh-hongqiao" and record.origin_desk == desks.centre.id


def test_another_destination_than_the_proposal_needs_a_why(desks):
    with pytest.raises(InvalidRequest, match="`destination_why` is required"):
        routed(desks, destination="sh-huashan")
    _, record = routed(desks, destination="华山医院", destination_why="患者要求")
    assert record.destination.id == "sh-huashan" and record.destination_why == "患者要求"
    with pytest.raises(UnknownInstitution, match="did you mean"):
        routed(desks, destination="华山医", destination_why="x")
    with pytest.raises(InvalidRequest, match="must differ from the referring institution"):
        desks.new(destination="mh-hongqiao")
    with pytest.raises(InvalidRequest, match="`destination` is required"):
        desks.new(destination=None)


@pytest.mark.parametrize("field", ["ref", "reason"])
def test_a_national_id_number_is_refused_wherever_it_is_put(field):
    body: dict[str, Any] = {"specialty": "儿科", "reason": "发热", "patient": {"ref": "R1"}, "destination": "x",
                            "route": False}
    if field == "ref":
        body["patient"]["ref"] = "11010519491231002X"
    else:
        body["reason"] = "身份证 11010519491231002X 发热"
    with pytest.raises(ValidationError, match="national ID number"):
        NewReferral(**body)
    with pytest.raises(ValidationError, match="extra"):
        NewReferral(**body | {"patient": {"ref": "R1", "national_id": "11010519491231002X"}})


def test_the_same_idempotency_key_gives_the_first_answer_and_changes_nothing(desks):
    body = NewReferral(specialty="儿科", reason="发热", patient={"ref": "I1"}, destination="sh-xinhua", route=False)
    first = desks.ledger.create(desks.centre, body, idempotency_key="k-create-1")
    again = desks.ledger.create(desks.centre, body, idempotency_key="k-create-1")
    assert again.replayed and again.record == first.record
    assert desks.ledger.list(desks.planner, limit=200).items.count(first.record) == 1
    with pytest.raises(IdempotencyConflict):
        desks.ledger.create(desks.centre, body.model_copy(update={"reason": "别的"}), idempotency_key="k-create-1")
    number = first.record.number
    accepted = desks.ledger.act(desks.xinhua, number, "accept", idempotency_key="k-accept-1")
    replay = desks.ledger.act(desks.xinhua, number, "accept", idempotency_key="k-accept-1")
    assert replay.replayed and replay.record.version == accepted.record.version == 2
    assert len(desks.ledger.history(desks.admin, number)) == 2
    # keys belong to the key holder: another desk's same key is its own
    other = desks.ledger.create(desks.xinhua, body.model_copy(update={"destination": "sh-huashan"}),
                                idempotency_key="k-create-1")
    assert not other.replayed and other.record.number != number


def test_fhir_export_is_valid_r4_and_follows_the_state(desks):
    number = desks.drive("booked")
    bundle = to_fhir(desks.ledger.get(desks.admin, number))
    request, task = (e["resource"] for e in bundle["entry"])
    assert request["resourceType"] == "ServiceRequest" and request["status"] == "active"
    assert request["performer"][0]["identifier"]["value"] == "sh-xinhua"
    assert request["code"]["coding"][0]["code"] == "paediatrics"
    assert task["status"] == "in-progress" and task["businessStatus"]["text"] == "booked"
    assert resolve_every_reference(bundle)["Task.focus"] == ("ServiceRequest", number)
    desks.ledger.act(desks.xinhua, number, "arrive", ActionIn(reason="提前到诊"))  # booked for tomorrow
    desks.ledger.act(desks.xinhua, number, "complete")
    child = desks.ledger.act(desks.xinhua, number, "send_home", ActionIn(reason="康复")).record
    bundle = to_fhir(child)
    request = bundle["entry"][0]["resource"]
    resolve_every_reference(bundle)  # the parent, not in the Bundle, is named by its identifier
    assert request["basedOn"] == [{"type": "ServiceRequest",
                                   "identifier": {"system": "urn:mednet:referral", "value": number}}]
    assert request["category"][1]["coding"][0]["code"] == "down"


def resolve_every_reference(bundle: dict) -> dict[str, tuple[str, str]]:
    """Every literal ``reference`` in the Bundle resolved to the (type, id) of an entry whose ``fullUrl`` it is;
    fails on one that resolves to nothing in the Bundle, and on a ``fullUrl`` used twice."""
    by_url = {e["fullUrl"]: (e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]}
    assert len(by_url) == len(bundle["entry"])
    found: dict[str, tuple[str, str]] = {}

    def walk(value, where: str) -> None:
        if isinstance(value, dict):
            if "reference" in value:
                assert value["reference"] in by_url, f"{where}: {value['reference']} is not in the Bundle"
                resolved = by_url[value["reference"]]
                assert value.get("type", resolved[0]) == resolved[0]
                found[where] = resolved
            for k, v in value.items():
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for v in value:
                walk(v, where)

    for entry in bundle["entry"]:
        walk(entry["resource"], entry["resource"]["resourceType"])
    return found


def test_the_migrations_build_exactly_the_tables_the_code_uses(db_url):
    from alembic.script import ScriptDirectory

    from mednet.ledger.store import alembic_config, create_ledger_engine, database_url

    url = database_url(db_url, data_dir=".")
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    assert upgrade(url) == upgrade(url) == head  # a second run finds the schema current
    engine = create_ledger_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []
