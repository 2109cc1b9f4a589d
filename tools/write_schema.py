"""Regenerate the JSON Schemas in data/regions/ from the models (run after changing mednet/models.py or
mednet/travel/model.py): region.schema.json and travel.schema.json."""

from pathlib import Path

from mednet.regions import SCHEMA_FILE, region_json_schema
from mednet.travel.layer import TRAVEL_SCHEMA_FILE, travel_json_schema

folder = Path(__file__).resolve().parents[1] / "data" / "regions"
for name, text in ((SCHEMA_FILE, region_json_schema()), (TRAVEL_SCHEMA_FILE, travel_json_schema())):
    (folder / name).write_text(text, encoding="utf-8")
    print(f"wrote {folder / name}")
