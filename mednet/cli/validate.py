"""``mednet validate REGION_OR_PATH [--lang zh|en] [--format text|json]``.

Chinese by default (``--lang en``: English): the communities by name (lead,
members, partners), then a summary (how many errors and warnings, by code),
then each error and warning. Exit 0 when the region has no errors (warnings
alone do not fail), 1 when it has errors, 2 when the input cannot be used at
all.
"""

from __future__ import annotations

import argparse
from collections import Counter

from mednet.cli.output import write_stdout
from mednet.regions import load_region, region_path
from mednet.validate import ValidationReport, validate_membership

#: What each validation code is, in Chinese (the summary by kind).
CODE_LABELS = {
    "file-name-id": "文件名与区域编号不符", "unknown-id": "未知编号", "duplicate-id": "编号重复",
    "duplicate-name": "名称重复",
    "lead-count": "牵头医院数量", "lead-tier": "牵头医院层级", "multiple-communities": "同属多个医共体",
    "partner-as-lead": "协作单位不能牵头", "member-outside-county": "成员不在医共体区县内",
    "orphan-primary-care": "基层机构未加入医共体", "unreachable-member": "成员与牵头医院不连通",
    "session-provider": "出诊派出机构", "point-outside-county": "坐标不在所属区县", "roster-missing": "名单中缺少成员",
    "roster-extra": "成员不在公布名单中", "roster-moved": "名单成员在其他医共体", "roster-alias": "名单名称不符",
    "roster-unnamed": "名单有未具名成员", "township-without-centre": "乡镇无卫生院",
    "township-not-official": "乡镇不在官方名单", "branch-nearer-other-lead": "分院离其他牵头医院更近",
    "session-never-in-window": "出诊不在预约期内", "inferred-data": "推断数据",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check communities against the rules and the published rosters",
                       description=__doc__)
    p.add_argument("region", metavar="REGION_OR_PATH", help="a region id (e.g. quzhou) or a region JSON file")
    p.add_argument("--lang", choices=("zh", "en"), default="zh",
                   help="language of the report: zh (Chinese, default) or en (English)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = region_path(args.region)
    region = load_region(path)
    report = validate_membership(region, file=path)
    title = f"{region.name}（{region.id}）" if args.lang == "zh" else f"{region.name} ({region.id})"
    write_stdout(report.to_json() if args.format == "json" else format_report(report, title=title, lang=args.lang))
    return 0 if report.ok else 1


def format_report(report: ValidationReport, *, title: str, lang: str = "zh") -> str:
    """The report as text for a terminal: communities, a summary by code, then errors, then warnings.

    >>> from mednet.regions import load_region
    >>> text = format_report(validate_membership(load_region("quzhou")), title="衢州", lang="zh")
    >>> text.splitlines()[0], "错误：无" in text
    ('衢州：6 个医共体', True)
    """
    zh = lang == "zh"
    count = len(report.communities)
    lines = [f"{title}：{count} 个医共体" if zh else f"{title}: {count} communities"]
    for c in report.communities:
        names = c.partner_names or c.partners
        if zh:
            partners = f"；协作单位与专科联盟：{'、'.join(names)}" if names else ""
            lines.append(f"  {c.name}：牵头医院 {c.lead_name or '—'}，{c.member_count} 家成员{partners}")
        else:
            partners = f"; partners: {', '.join(names)}" if names else ""
            lines.append(f"  {c.name}: lead {c.lead_name or '—'}, {c.member_count} members{partners}")
    counts = Counter((p.severity, p.code) for p in report.problems)
    if counts:
        n_err, n_warn = len(report.errors), len(report.warnings)
        lines.append(f"{n_err} 个错误、{n_warn} 个警告，按类别：" if zh else
                     f"{n_err} errors, {n_warn} warnings, by kind:")
        for (severity, code), n in sorted(counts.items(), key=lambda kv: (kv[0][0] != "error", -kv[1], kv[0][1])):
            kind = ("错误" if severity == "error" else "警告") if zh else severity
            label = f"{CODE_LABELS.get(code, code)}〔{code}〕" if zh else code
            lines.append(f"  {kind}  {label}  {n}")
    for label, label_zh, problems in (("errors", "错误", report.errors), ("warnings", "警告", report.warnings)):
        if zh:
            lines.append(f"{label_zh}：{len(problems) or '无'}")
        else:
            lines.append(f"{label}: {len(problems) or 'none'}")
        lines.extend(f"  [{p.code}] {p.text('zh' if zh else 'en')}" for p in problems)
    return "\n".join(lines)
