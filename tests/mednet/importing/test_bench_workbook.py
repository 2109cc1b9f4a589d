"""The benchmark's synthetic province workbook imports cleanly (checked here; timed only in tests/benchmarks)."""

from mednet.bench.importing import province_frames
from mednet.importing import import_tables
from mednet.validate import validate_membership


def test_a_small_province_workbook_imports_and_validates():
    frames = province_frames(n=300)
    region = import_tables(frames, file="province.xlsx")
    assert len(region.institutions) == 300
    # every other row with a point is given in GCJ-02
    assert sum(i.location.converted_from == "GCJ-02" for i in region.institutions) > 100
    assert validate_membership(region).ok
