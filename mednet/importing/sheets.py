"""The tables of a region: sheet and column names, in Chinese and English.

Each sheet has an English key (also its CSV file name) and a Chinese name;
each column an English key and a Chinese header. A table may use either,
or one of the listed aliases; case, spaces and brackets do not matter.
Export writes the Chinese header followed by the key: ``名称 name``.

    >>> SHEETS["institutions"].column("纬度").key
    'lat'
    >>> sheet_for("机构").key, sheet_for("Institutions.csv").key
    ('institutions', 'institutions')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    zh: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    @property
    def header(self) -> str:
        """The header export writes: Chinese, then the key."""
        return f"{self.zh} {self.key}"


@dataclass(frozen=True, slots=True)
class Sheet:
    key: str
    zh: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.zh} {self.key}"

    def column(self, header: object) -> Column | None:
        """The column a header names (key, Chinese header, export header or alias), or None."""
        return _column_index(self).get(normalise(header))

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


@lru_cache(maxsize=256)
def _column_index(sheet: Sheet) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for col in sheet.columns:
        for name in (col.key, col.zh, col.header, *col.aliases):
            index.setdefault(normalise(name), col)
    return index


def normalise(text: object) -> str:
    """A header or sheet name without case, spaces, brackets, underscores or a file suffix.

    >>> normalise(" Lat (WGS84) "), normalise("机构.csv"), normalise("*机构名称（必填）")
    ('latwgs84', '机构', '机构名称')
    """
    text = unicodedata.normalize("NFKC", str(text)).strip()
    text = re.sub(r"\.(csv|xlsx|xlsm|xls|ods)$", "", text, flags=re.IGNORECASE)
    text = _MARKS.sub("", text)
    return re.sub(r"[\s_()\[\]【】〔〕*:：-]+", "", text).casefold()


#: What templates add to a header: ``(必填)``, ``（选填）``, a star.
_MARKS = re.compile(r"[(\[【〔](?:必填|选填|非必填|必填项|选填项)[)\]】〕]")


_SOURCE = Column("source", "来源", ("出处", "数据来源"))
_INFERRED = Column("inferred", "推断", ("是否推断",))
_NOTE = Column("note", "说明", ("备注", "notes"))
_PROVENANCE = (_SOURCE, _INFERRED, _NOTE)
_INSTITUTION = Column("institution", "机构", ("机构名称", "医疗机构", "单位"), required=True)

SHEETS: dict[str, Sheet] = {s.key: s for s in (
    Sheet("region", "区域", (
        Column("id", "编号", ("region id", "区域编号"), required=True), Column("name", "名称", ("区域名称",)),
        Column("description", "简介", ("描述",)), Column("road_factor", "道路系数"),
        Column("speed_kmh", "车速", ("速度", "km/h")), Column("booking_days", "预约天数"),
    )),
    Sheet("sources", "来源", (
        Column("key", "代号", ("来源代号", "source"), required=True), Column("title", "标题", ("名称",), required=True),
        Column("publisher", "发布者", ("发布单位",)), Column("date", "日期", ("发布日期",)),
        Column("url", "网址", ("链接",)), Column("licence", "许可", ("license", "许可证")), _NOTE,
    )),
    Sheet("counties", "覆盖区县", (
        Column("name", "区县", ("county", "县区", "名称"), required=True),
        Column("code", "代码", ("区划代码", "行政区划代码")), _SOURCE,
    ), aliases=("区县",)),
    Sheet("institutions", "机构", (
        Column("id", "编号", ("机构编号", "机构代码")),
        Column("name", "名称", ("机构名称", "医疗机构名称", "单位名称", "机构全称"), required=True),
        Column("aliases", "简称", ("别名", "曾用名", "简称别名")), Column("tier", "层级", ("机构层级",)),
        Column("category", "类别", ("机构类别", "类别代码", "机构分类代码", "WS218", "卫生机构类别", "卫生机构类别代码",
                                    "机构类别代码", "机构分类")),
        Column("grade", "等级", ("医院等级", "机构等级")),
        Column("county", "区县", ("所在区县", "县区", "所属区县", "县(市、区)", "县市区"), required=True),
        Column("township", "乡镇街道", ("乡镇", "街道", "所在乡镇", "所属乡镇", "乡镇(街道)")),
        Column("lat", "纬度", ("latitude", "y")), Column("lon", "经度", ("longitude", "lng", "x")),
        Column("datum", "坐标系", ("crs", "坐标系统")),
        Column("location_kind", "位置类型"), Column("location_source", "位置来源"),
        Column("location_inferred", "位置推断"), Column("location_note", "位置说明"),
        Column("converted_from", "原坐标系"),
        Column("credit_code", "统一社会信用代码", ("信用代码", "社会信用代码", "uscc")),
        Column("licence_number", "登记号", ("执业许可证登记号", "许可证登记号", "license number")),
        Column("beds", "床位", ("床位数", "编制床位", "核定床位", "编制床位数", "核定床位数")),
        Column("registry_source", "登记来源"),
        Column("registry_inferred", "登记推断"), Column("registry_note", "登记说明"),
        Column("phone", "电话", ("联系电话", "telephone", "电话号码", "办公电话")),
        Column("address", "地址", ("详细地址", "机构地址", "地址(详细)")),
        Column("booking", "预约渠道", ("预约", "挂号渠道")), Column("hours", "开放时间", ("门诊时间", "服务时间")),
        Column("emergency_24h", "24小时急诊", ("急诊24小时",)),
        Column("departments", "科室", ("诊疗科目", "专科", "specialties", "核准诊疗科目", "诊疗科目名称")),
        Column("other_subjects", "其他诊疗科目", ("未路由诊疗科目",)),
        Column("community", "所属医共体", ("医共体", "医共体名称", "所属医联体", "所在医共体")),
        Column("community_role", "医共体角色", ("医共体内角色", "成员角色", "角色")),
        Column("population", "服务人口", ("人口",)), *_PROVENANCE,
    ), aliases=("医疗机构", "institution")),
    Sheet("capabilities", "专科", (
        _INSTITUTION, Column("specialty", "专科", ("科室", "诊疗科目"), required=True), *_PROVENANCE,
        Column("beds", "床位"), Column("weekly_slots", "每周号源"), Column("weekly_sessions", "每周次数"),
    ), aliases=("科室", "capability")),
    Sheet("sessions", "出诊", (
        Column("institution", "机构", ("出诊地点", "host"), required=True),
        Column("specialty", "专科", ("科室",), required=True), Column("weekday", "星期", ("周几",)),
        Column("part", "时段", ("上下午",)), Column("provider", "派出机构", ("专家来源", "来自")),
        Column("every_weeks", "每隔几周", ("间隔周数",)), Column("valid_from", "起始日期"),
        Column("valid_until", "截止日期"), _SOURCE, _NOTE,
    ), aliases=("坐诊", "专家门诊")),
    Sheet("contacts", "联系方式", (
        _INSTITUTION, Column("kind", "类别", ("类型",), required=True), Column("value", "内容", ("值",), required=True),
        *_PROVENANCE,
    ), aliases=("联系",)),
    Sheet("communities", "医共体", (
        Column("id", "编号"), Column("name", "名称", ("医共体名称",), required=True), Column("kind", "类型"),
        Column("counties", "区县", ("覆盖区县",)), Column("published", "公布日期", ("发布日期",)), _SOURCE, _NOTE,
    ), aliases=("医联体",)),
    Sheet("members", "成员", (
        Column("community", "医共体", ("医联体", "所属医共体"), required=True), _INSTITUTION,
        Column("role", "角色", ("成员角色",), required=True), *_PROVENANCE,
    ), aliases=("成员单位",)),
    Sheet("links", "连接", (
        Column("a", "机构甲", ("起点",), required=True), Column("b", "机构乙", ("终点",), required=True),
        Column("kind", "类型", required=True), Column("distance_km", "距离公里", ("公里", "距离"), required=True),
        Column("distance_basis", "距离依据"), Column("minutes", "分钟", ("时间",)), *_PROVENANCE,
    )),
    Sheet("travel", "路程", (
        Column("origin", "起点", ("出发机构",), required=True),
        Column("destination", "终点", ("到达机构",), required=True),
        Column("distance_km", "距离公里", ("公里", "道路距离")), Column("minutes", "分钟", ("行车时间", "时间")),
        _SOURCE, _NOTE,
    ), aliases=("路网距离", "od")),
    Sheet("rosters", "名单", (
        Column("community", "医共体", required=True), Column("published", "公布日期", required=True), _SOURCE,
        Column("text", "原文名称", ("名单名称",)), Column("institution", "机构"),
        Column("unnamed", "未具名数"), Column("unnamed_tier", "未具名层级"), _NOTE,
    ), aliases=("公布名单",)),
    Sheet("population", "人口", (
        Column("county", "区县"), Column("township", "乡镇街道", ("乡镇",)), Column("institution", "机构"),
        Column("population", "人口", ("服务人口", "常住人口"), required=True),
    ), aliases=("服务人口",)),
)}


def sheet_for(name: str, sheets: Mapping[str, Sheet] | None = None) -> Sheet | None:
    """The sheet of ``sheets`` (default: the region's, :data:`SHEETS`) a sheet or file name denotes (key, Chinese
    name, title or alias), or None."""
    wanted = normalise(name)
    for sheet in (SHEETS if sheets is None else sheets).values():
        if wanted in {normalise(n) for n in (sheet.key, sheet.zh, sheet.title, *sheet.aliases)}:
            return sheet
    return None


__all__ = ["SHEETS", "Column", "Sheet", "normalise", "sheet_for"]
