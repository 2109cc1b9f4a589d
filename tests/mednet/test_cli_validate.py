import json

import pytest

from mednet.cli import main
from mednet.regions import regions_dir

COMMUNITIES = [("衢州市第二人民医院医共体", 16), ("衢江区中医院医共体", 7), ("江山市人民医院医共体", 13),
               ("江山市中医院医共体", 9), ("开化县人民医院医共体", 10), ("开化县中医院医共体", 7)]


def test_validate_quzhou_prints_each_community_in_chinese_by_default(capsys):
    assert main(["validate", "quzhou"]) == 0
    out = capsys.readouterr().out
    for name, count in COMMUNITIES:
        assert f"  {name}：" in out and f"{count} 家成员" in out
    assert "错误：无" in out and "按类别：" in out


def test_validate_in_english_names_partners_not_ids(capsys):
    assert main(["validate", "quzhou", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    for name, count in COMMUNITIES:
        assert f"  {name}: " in out and f"{count} members" in out
    assert "errors: none" in out
    partners = next(line for line in out.splitlines() if "partners:" in line)
    assert "医院" in partners and "qj-" not in partners and "i-" not in partners


def test_json_lists_problems_as_objects(capsys):
    assert main(["validate", "quzhou", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["region"] == "quzhou" and len(doc["communities"]) == 6
    assert all({"code", "severity", "message"} <= set(p) for p in doc["problems"])


def test_errors_exit_1(tmp_path, capsys):
    doc = json.loads((regions_dir() / "quzhou.json").read_text(encoding="utf-8"))
    doc["communities"][0]["members"].append({"institution": "nowhere", "role": "branch", "source": "seed004"})
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    assert "[unknown-id]" in capsys.readouterr().out


def _write(tmp_path, mutate):
    doc = json.loads((regions_dir() / "quzhou.json").read_text(encoding="utf-8"))
    mutate(doc)
    path = tmp_path / "region.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _set(key, value):
    def mutate(doc):
        doc["institutions"][1][key] = value
    return mutate


def _swap(doc):
    inst = doc["institutions"][1]
    inst["lat"], inst["lon"] = inst["lon"], inst["lat"]


def _bad_specialty(doc):
    inst = next(i for i in doc["institutions"] if i.get("capabilities"))
    inst["capabilities"][0]["specialty"] = "pediatrcs"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: str(tmp / "absent.json"), "文件不存在"),
        (lambda tmp: (tmp / "bad.json").write_text("{oops", encoding="utf-8") and str(tmp / "bad.json"),
         "不是有效的 JSON"),
        (lambda tmp: _write(tmp, _set("lat", 200)), "须不大于 90"),
        (lambda tmp: _write(tmp, _swap), "纬度和经度似乎填反了"),
        (lambda tmp: _write(tmp, _bad_specialty), "是否要找“儿科”"),
        (lambda tmp: "quzou", "是否要找“quzhou”"),
    ],
    ids=["missing-file", "invalid-json", "latitude-200", "swapped-lat-lon", "unknown-specialty", "unknown-region"],
)
def test_unusable_input_is_one_line_and_exit_2(tmp_path, capsys, make, message):
    assert main(["validate", make(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
