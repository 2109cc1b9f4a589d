"""Regenerate data/regions/region.schema.json from the models (run after changing mednet/models.py)."""

from pathlib import Path

from mednet.regions import SCHEMA_FILE, region_json_schema

path = Path(__file__).resolve().parents[1] / "data" / "regions" / SCHEMA_FILE
path.write_text(region_json_schema(), encoding="utf-8")
print(f"wrote {path}")
