"""The benchmark's synthetic registry workbook imports cleanly (checked here; timed only by `mednet bench`)."""

from mednet.bench.importing import import_workbook, measure, write_province_workbook
from mednet.importing import import_files
from mednet.validate import validate_membership


def test_a_small_province_workbook_imports_and_validates(tmp_path):
    path = write_province_workbook(tmp_path / "province.xlsx", n=300)
    region = import_files([path], file_name="bench-province.json")
    assert len(region.institutions) == 300 and validate_membership(region).ok
    converted = [i.location.converted_from for i in region.institutions]
    assert converted.count("GCJ-02") >= 80 and converted.count("BD-09") >= 80  # as map apps give them
    assert all(i.registry and i.registry.other_subjects for i in region.institutions if i.tier.is_hospital
               and i.name.endswith("县级医院（合成）"))
    assert import_workbook(path) == 300
    times = measure(path, rounds=1)
    assert {k: len(v) for k, v in times.items()} == {"ref_cpu": 1, "ref_wall": 1, "cpu": 1, "wall": 1}
