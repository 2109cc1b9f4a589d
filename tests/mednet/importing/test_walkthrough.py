"""docs/importing.md's 龙游县 walkthrough, run as written: its commands succeed (or, for the workbook with
mistakes, refuse) and print what the page shows."""

import re
import shlex
import shutil
from pathlib import Path

from mednet.cli import main
from mednet.importing import export_tables, import_files, import_tables, region_from_bundle, region_to_bundle
from mednet.regions import dump_region

ROOT = Path(__file__).resolve().parents[3]
SECTION = (ROOT / "docs" / "importing.md").read_text(encoding="utf-8").split("## 龙游县 from its registry export", 1)[
    1].split("\n## ", 1)[0]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", SECTION, re.S)


def test_the_walkthrough_runs_as_the_page_shows(tmp_path, capsys, monkeypatch):
    shutil.copytree(ROOT / "examples" / "longyou" / "registry", tmp_path / "examples" / "longyou" / "registry")
    monkeypatch.chdir(tmp_path)
    (commands, refused), (said, listed) = blocks("sh"), blocks("text")
    outputs = []
    for line in commands.splitlines():
        assert main(shlex.split(line)[1:]) == 0, line
        outputs.append(capsys.readouterr().out)
    imported, validated, routed, planned = outputs
    assert all(line in imported for line in said.splitlines()), imported
    assert "错误：无" in validated and "上转 湖镇镇卫生院（示例） → 龙游县示例人民医院（虚构）" in routed
    assert "15.9 公里" in routed and re.search(r"龙游县示例医共体乙（虚构） +6 +67 % +2 ", planned)
    assert main(shlex.split(refused)[1:]) == 1
    out = capsys.readouterr().out
    assert all(line in out for line in listed.splitlines()), out
    assert (tmp_path / "问题.csv").exists() and (tmp_path / "批注.xlsx").exists()
    assert main(["import", "examples/longyou/registry/龙游县医疗机构名录-补充.xlsx", "-o", "longyou.json"]) == 0


def test_registry_facts_round_trip_through_tables_and_fhir():
    region = import_files([ROOT / "examples" / "longyou" / "registry" / "龙游县医疗机构名录-补充.xlsx"],
                          file_name="longyou.json")
    assert any(i.registry and i.registry.other_subjects for i in region.institutions)
    assert dump_region(import_tables(export_tables(region), file="longyou.xlsx")) == dump_region(region)
    back = region_from_bundle(region_to_bundle(region))
    assert back.institutions == region.institutions
