"""Hospital grades (医院等级) as the 医院分级管理 grades them: 一级 to 三级, each 甲等/乙等/丙等 (三级 also 特等),
or 未定级.

A table may write the full grade (``二级甲等``), its short form (``二甲``),
the level alone (``三级``: graded but not yet classed) or 未定级; :func:`parse_grade`
gives the full form. A typo is refused with the grade it most likely
meant, read as a Chinese input method would have typed it (``二家`` → 二甲:
家 and 甲 are both *jia*).

    >>> parse_grade("三甲"), parse_grade("二级乙等"), parse_grade("3级")
    ('三级甲等', '二级乙等', '三级')
    >>> parse_grade("二家")
    Traceback (most recent call last):
    ...
    mednet.importing.problems.CellError: not a hospital grade (...); did you mean 二级甲等 (二甲)?
"""

from __future__ import annotations

from mednet.importing.problems import CellError

LEVELS = {"一": "一", "二": "二", "三": "三", "1": "一", "2": "二", "3": "三", "Ⅰ": "一", "Ⅱ": "二", "Ⅲ": "三",
          "I": "一", "II": "二", "III": "三"}
CLASSES = ("甲", "乙", "丙")
#: Every grade a hospital can hold, full form.
GRADES: tuple[str, ...] = ("三级特等", *(f"{level}级{cls}等" for level in "三二一" for cls in CLASSES),
                           "三级", "二级", "一级", "未定级")
UNGRADED = {"未定级", "未评级", "未定等级", "未分级", "无等级", "未评审"}
#: Characters typed by mistake for a level or class, as a pinyin input method offers them (same syllable).
HOMOPHONES = {"甲": "家加佳嘉假价架夹驾贾", "乙": "以已亿忆艺议亦异义意", "丙": "饼病并兵冰秉柄炳",
              "一": "衣医依壹伊", "二": "儿而尔耳贰", "三": "散伞叁", "特": "特"}
_SOUND = {ch: real for real, chars in HOMOPHONES.items() for ch in chars}


def parse_grade(text: str) -> str:
    """The grade's full form (see the module); :class:`CellError` with a suggestion when it is none."""
    value = "".join(str(text).split()).upper()
    if value in UNGRADED:
        return "未定级"
    found = _read(value)
    if found is not None:
        return found
    guess = _read("".join(_SOUND.get(ch, ch) for ch in value))
    if guess is None:  # a wrong character at the class's place: the likeliest class is 甲, then 乙
        guess = _nearest(value)
    hint_en = f"; did you mean {guess} ({_short(guess)})?" if guess else ""
    hint_zh = f"；是否为“{_short(guess)}”（{guess}）？" if guess else ""
    raise CellError("not a hospital grade (三级甲等/三甲 … 一级丙等, 三级/二级/一级, 未定级)" + hint_en,
                    "不是医院等级（应为三级甲等/三甲 … 一级丙等、三级/二级/一级或未定级）" + hint_zh)


def _read(value: str) -> str | None:
    for prefix, level in sorted(LEVELS.items(), key=lambda kv: -len(kv[0])):
        if not value.startswith(prefix):
            continue
        rest = value[len(prefix):].removeprefix("级")
        if rest in ("", "未定等", "未定"):
            return f"{level}级"
        cls = rest.removesuffix("等")
        if cls in CLASSES or (cls == "特" and level == "三"):
            return f"{level}级{cls}等"
    return None


def _nearest(value: str) -> str | None:
    level = next((LEVELS[p] for p in sorted(LEVELS, key=len, reverse=True) if value.startswith(p)), None)
    return f"{level}级甲等" if level else None


def _short(grade: str | None) -> str:
    """三级甲等 → 三甲; 三级 and 未定级 as they are."""
    if grade and len(grade) == 4 and grade.endswith("等"):
        return grade[0] + grade[2]
    return grade or ""


__all__ = ["GRADES", "parse_grade"]
