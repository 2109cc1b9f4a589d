"""Import and validate a 5,000-institution province workbook (synthetic, 四川省 places).

Run on purpose: ``.venv/bin/pytest tests/benchmarks/test_bench_importing.py --benchmark-only``.
Target: ≤ 5 s for reading the XLSX, importing (which validates) and the validation report.
"""

import pytest

from mednet.bench.importing import write_province_workbook
from mednet.importing import import_files
from mednet.places import all_places
from mednet.validate import validate_membership


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    all_places()  # the places table is read once per process, before any import
    return write_province_workbook(tmp_path_factory.mktemp("bench") / "province.xlsx", n=5000)


def import_and_validate(path):
    region = import_files([path])
    return region, validate_membership(region)


@pytest.mark.benchmark(group="importing")
def test_import_and_validate_5000_institutions(benchmark, workbook):
    region, report = benchmark.pedantic(import_and_validate, args=(workbook,), rounds=5, warmup_rounds=1)
    assert len(region.institutions) == 5000 and report.ok
