"""The guide "Your own county in five minutes" (docs/guides/own-county.md), end to end through the command line,
and the CLI's errors."""

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

from mednet.cli import main
from mednet.regions import load_region

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "longyou"


def readme_commands() -> list[list[str]]:
    """The commands of the guide's first shell block."""
    guide = (ROOT / "docs" / "guides" / "own-county.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", guide.split("# Your own county in five minutes", 1)[1], re.S).group(1)
    return [shlex.split(line.split("#")[0])[1:] for line in block.splitlines() if line.startswith("mednet ")]


def test_five_minutes_with_the_bundled_example(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    init, *rest = readme_commands()
    assert [c[0] for c in (init, *rest)] == ["init", "import", "validate", "coverage"]
    assert main(init) == 0
    started = {p.name for p in (tmp_path / "longyou").iterdir()}
    assert started == {p.name for p in EXAMPLE.iterdir() if p.suffix == ".csv"}  # registry/: docs/importing.md
    for sheet in ("members.csv", "capabilities.csv", "sources.csv"):  # the planner's edits, as bundled
        shutil.copy(EXAMPLE / sheet, tmp_path / "longyou" / sheet)
    for untouched in started - {"members.csv", "capabilities.csv", "sources.csv"}:  # the rest is init's own output
        assert (tmp_path / "longyou" / untouched).read_bytes() == (EXAMPLE / untouched).read_bytes(), untouched
    for command in rest:
        capsys.readouterr()
        assert main(command) == 0, command
    assert "儿科" in capsys.readouterr().out
    assert main(["coverage", "longyou.json", "-s", "儿科", "--max-km", "30", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)
    region = load_region(tmp_path / "longyou.json")
    com = region.communities[0]
    assert len(com.members) == 16 and com.lead == "c330825-hospital"
    assert {m.institution for m in com.members} == {i.id for i in region.institutions}  # short names resolved


def test_every_fact_of_the_example_no_source_gives_is_inferred(tmp_path):
    assert main(["import", str(EXAMPLE), "-o", str(tmp_path / "longyou.json")]) == 0
    region = load_region(tmp_path / "longyou.json")
    facts: list[Any] = [*region.institutions, *(i.location for i in region.institutions),
             *(c for i in region.institutions for c in i.capabilities), *(m for c in region.communities
                                                                         for m in c.members), *region.links]
    assert facts and all(f.inferred for f in facts)
    assert all("占位" in i.name or i.tier.is_primary_care for i in region.institutions)


def test_export_writes_tables_and_fhir(tmp_path, capsys):
    assert main(["export", "minhang", "-o", str(tmp_path / "m.xlsx")]) == 0
    assert main(["export", "minhang", "-o", str(tmp_path / "m.json"), "--format", "fhir"]) == 0
    (tmp_path / "fhir").mkdir()
    assert main(["import", str(tmp_path / "m.json"), "-o", str(tmp_path / "fhir" / "minhang.json")]) == 0
    assert load_region(tmp_path / "fhir" / "minhang.json").institutions == load_region("minhang").institutions
    assert main(["import", str(tmp_path / "m.xlsx"), "-o", str(tmp_path / "minhang.json")]) == 0
    assert load_region(tmp_path / "minhang.json") == load_region("minhang")
    capsys.readouterr()
    assert main(["import", str(tmp_path / "m.json"), "-o", str(tmp_path / "back.json")]) == 2  # not its id
    assert "must be named minhang.json" in capsys.readouterr().err


def test_cli_errors_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "龙游"]) == 2
    assert "unknown county '龙游'" in capsys.readouterr().err
    assert main(["init", "龙游县", "--id", "ly"]) == 0
    assert main(["init", "龙游县", "--id", "ly"]) == 2
    assert "already exists (add --force to overwrite)" in capsys.readouterr().err
    assert main(["import", "missing.xlsx", "-o", "x.json"]) == 2
    assert "missing.xlsx：文件或文件夹不存在" in capsys.readouterr().err


def test_docs_list_every_sheet_and_column():
    from mednet.importing.sheets import SHEETS

    docs = (ROOT / "docs" / "importing.md").read_text(encoding="utf-8")
    for sheet in SHEETS.values():
        assert f"### {sheet.zh} `{sheet.key}`" in docs
        assert all(f"| `{c.key}` | {c.zh} |" in docs for c in sheet.columns), sheet.key


def test_import_problems_as_json(tmp_path, capsys):
    assert main(["import", str(ROOT / "tests" / "fixtures" / "importing" / "planted.xlsx"), "-o",
                 str(tmp_path / "golden.json"), "--format", "json"]) == 1
    problems = json.loads(capsys.readouterr().out)
    assert {"file", "sheet", "row", "column", "cell", "value", "rule", "severity", "message", "message_zh"} <= set(
        problems[0])
    assert len([p for p in problems if p["severity"] == "error"]) == 14


def test_an_unusable_institution_row_is_reported_once_not_at_every_reference(tmp_path, capsys):
    """A tier typo in 小南海镇卫生院's row: its links and its membership (by the short name 小南海) are not
    reported as unknown institutions as well; the one real mistake is the whole report."""
    folder = tmp_path / "longyou"
    shutil.copytree(EXAMPLE, folder)
    sheet = folder / "institutions.csv"
    text = sheet.read_text(encoding="utf-8-sig")
    row = next(line for line in text.splitlines() if line.startswith("t330825102000,"))
    sheet.write_text(text.replace(row, row.replace(",township_centre,", ",township,")), encoding="utf-8-sig")
    assert main(["import", str(folder), "-o", str(tmp_path / "longyou.json"), "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("1 problem in 1 row: 1 error") and out.rstrip().endswith("nothing was written")
    assert "层级 tier (D6) = 'township'" in out and "unknown-institution" not in out
    assert not (tmp_path / "longyou.json").exists()


def test_import_refuses_a_file_name_that_is_not_the_region_id_before_writing(tmp_path, capsys):
    """`mednet validate` (and route, coverage, serve) would refuse longyou's region in other.json: the import
    refuses to write it, at the 区域 sheet's id cell."""
    assert main(["import", str(EXAMPLE), "-o", str(tmp_path / "other.json"), "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "region.csv [region] row 2, 编号 id (A2) = 'longyou': file-name-id" in out
    assert not (tmp_path / "other.json").exists()


def test_report_options_are_refused_before_anything_is_read(tmp_path, capsys):
    registry = ROOT / "examples" / "longyou" / "registry" / "龙游县医疗机构名录.xlsx"
    out = str(tmp_path / "longyou.json")
    for extra, said in ((["--problems", str(tmp_path / "p.txt")], "must end in .csv or .json"),
                        (["--annotate", str(tmp_path / "a.csv")], "must end in .xlsx"),
                        (["--annotate", str(registry)], "must not be one of the files read or written"),
                        (["--problems", str(tmp_path / "no" / "p.csv")], "must be in an existing folder")):
        assert main(["import", str(registry), "-o", out, "--lang", "en", *extra]) == 2
        assert said in capsys.readouterr().err
    (tmp_path / "folder.json").mkdir()
    assert main(["import", str(registry), "-o", str(tmp_path / "folder.json")]) == 2
    assert not (tmp_path / "longyou.json").exists()


def test_a_clean_import_writes_its_notes_beside_the_region(tmp_path, capsys):
    registry = ROOT / "examples" / "longyou" / "registry" / "龙游县医疗机构名录.xlsx"
    assert main(["import", str(registry), "-o", str(tmp_path / "longyou.json"), "--problems",
                 str(tmp_path / "notes.json"), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((tmp_path / "notes.json").read_text(encoding="utf-8"))
    assert printed == written and {p["severity"] for p in written} == {"note"}
    assert load_region(tmp_path / "longyou.json").id == "longyou"
