"""Import a 5,000-institution registry workbook (synthetic, 四川省 places), beside openpyxl reading its cells.

Run on purpose: ``.venv/bin/pytest tests/benchmarks/test_bench_importing.py --benchmark-only``; the project's
figure is ``mednet bench --area import`` (CPU seconds, both in one process, the load average beside).
Target: the import within 2× openpyxl's read-only pass over the same cells.
"""

import pytest

from mednet.bench.importing import import_workbook, openpyxl_read, write_province_workbook


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    import_workbook(write_province_workbook(folder / "warm.xlsx", n=200))  # modules and the places table loaded
    return write_province_workbook(folder / "province.xlsx", n=5000)


@pytest.mark.benchmark(group="importing")
def test_openpyxl_reads_the_cells(benchmark, workbook):
    assert benchmark.pedantic(openpyxl_read, args=(workbook,), rounds=3, warmup_rounds=1) > 5000 * 10


@pytest.mark.benchmark(group="importing")
def test_import_5000_institutions(benchmark, workbook):
    assert benchmark.pedantic(import_workbook, args=(workbook,), rounds=3, warmup_rounds=1) == 5000
