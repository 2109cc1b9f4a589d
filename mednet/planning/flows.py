"""Observed against modelled referral flows: a Huff (production-constrained gravity) model fitted to what happened.

Observed flows are counts origin institution → destination institution,
from the referral ledger (:func:`ledger_flows`, one GROUP BY over the
referrals table) or from an imported table (:func:`table_flows`: a sheet
流向 with 起点, 终点, 人次, read with the registry import's rules). The
model sends each origin's referrals to the institutions offering the
specialty in proportion to ``A_j · f(c_ij)`` with ``f(c) = exp(-β c)``
(``decay="exponential"``) or ``c^-β`` (``"power"``), ``c`` the network's km
or the travel layer's minutes between the two; :func:`fit_flows` finds the
β of greatest likelihood and reports, per origin → destination, observed
and modelled counts and the capable institutions nearer to the origin the
patients went past (bypassed).

    >>> import numpy as np
    >>> cost = np.array([[5.0, 20.0], [30.0, 8.0]])
    >>> share = huff_shares(cost, np.ones(2), beta=0.1, decay="exponential")
    >>> share.round(3).tolist()
    [[0.818, 0.182], [0.1, 0.9]]
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np
from scipy.optimize import minimize_scalar
from scipy.sparse.csgraph import dijkstra

from mednet.errors import InvalidRequest, TableImportError
from mednet.importing.problems import Collector
from mednet.importing.sheets import Column, Sheet
from mednet.importing.tables import Table, read_files, table_rows
from mednet.network import CompiledNetwork, resolve_institution
from mednet.planning.gaps import as_network
from mednet.planning.passes import network_graph, whole_km
from mednet.planning.query import offered, resolve_specialties
from mednet.travel.layer import Cost, TravelLayer, check_cost, travel_layer_of

Decay = Literal["exponential", "power"]
#: The β searched (exponential per km or minute; power: the exponent).
BETA_RANGE: dict[str, tuple[float, float]] = {"exponential": (0.0, 2.0), "power": (0.0, 8.0)}

FLOW_SHEETS: dict[str, Sheet] = {s.key: s for s in (
    Sheet("flows", "流向", (
        Column("origin", "起点", ("转出机构", "出发机构", "origin"), required=True),
        Column("destination", "终点", ("转入机构", "接收机构", "destination"), required=True),
        Column("count", "人次", ("转诊人次", "数量", "count"), required=True),
        Column("specialty", "专科", ("科室",)),
    ), aliases=("转诊流向", "od")),
)}


@dataclass(frozen=True, slots=True)
class Flow:
    """Referrals from one institution to another (ids), of one specialty (None: all)."""

    origin: str
    destination: str
    count: float
    specialty: str | None = None


def ledger_flows(engine: Any, *, region: str, specialty: str | None = None, direction: str = "up",
                 since: Any = None, until: Any = None) -> list[Flow]:
    """Counts origin → destination of the ledger's referrals of ``region`` (``direction``, created in
    [since, until)), per specialty code."""
    import sqlalchemy as sa

    from mednet.ledger.store import referrals as r
    from mednet.specialties import resolve_specialty

    query = (sa.select(r.c.origin_id, r.c.destination_id, r.c.specialty, sa.func.count().label("n"))
             .where(r.c.region == region, r.c.direction == direction)
             .group_by(r.c.origin_id, r.c.destination_id, r.c.specialty))
    if since is not None:
        query = query.where(r.c.created_at >= since)
    if until is not None:
        query = query.where(r.c.created_at < until)
    wanted = None if specialty is None else resolve_specialty(specialty).code
    totals: dict[tuple[str, str, str], float] = {}
    with engine.connect() as conn:
        for origin, destination, stored, n in conn.execute(query):
            try:
                code = resolve_specialty(stored).code
            except KeyError:
                continue
            if wanted is None or code == wanted:
                key = (origin, destination, code)
                totals[key] = totals.get(key, 0.0) + float(n)
    return [Flow(o, d, n, s) for (o, d, s), n in sorted(totals.items())]


def table_flows(paths: Iterable[str | os.PathLike[str]] | Iterable[Table], G_or_net: nx.Graph | CompiledNetwork
                ) -> list[Flow]:
    """The 流向 sheet (起点, 终点, 人次, optional 专科) of workbooks or CSV files, institutions resolved by id, name
    or alias; :class:`~mednet.errors.TableImportError` with every problem when any is an error."""
    net = as_network(G_or_net)
    items = list(paths)
    tables = items if items and isinstance(items[0], Table) else read_files(items)  # type: ignore[arg-type]
    problems = Collector()
    rows = table_rows(tables, problems, sheets=FLOW_SHEETS).get("flows", [])  # type: ignore[arg-type]
    if not rows and not problems:
        problems.error("required-sheet", "no sheet 流向 (flows) with columns 起点, 终点, 人次",
                       "缺少“流向”表（应有 起点、终点、人次 列）", file="", sheet="")
    out: list[Flow] = []
    for row in rows:
        ends = [row.parse(key, lambda text: resolve_institution(net.G, text), "unknown-institution")
                if row.required(key) else None for key in ("origin", "destination")]
        count = row.number("count", minimum=0) if row.required("count") else None
        code = row.parse("specialty", lambda text: resolve_specialties(net, [text])[0], "unknown-specialty")
        if None not in ends and count is not None:
            out.append(Flow(str(ends[0]), str(ends[1]), count, code))
    if problems:
        raise TableImportError(problems.sorted())
    return out


def huff_shares(cost: np.ndarray, attraction: np.ndarray, *, beta: float, decay: Decay) -> np.ndarray:
    """(origins × destinations) share of each origin's flow: ``A_j f(c_ij) / Σ_k A_k f(c_ik)`` (inf cost: 0)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if decay == "exponential":
            log_f = -beta * cost
        else:
            log_f = -beta * np.log(np.maximum(cost, 1e-9))
        log_w = np.where(np.isfinite(cost), np.log(attraction)[None, :] + log_f, -np.inf)
        top = log_w.max(axis=1, keepdims=True)
        w = np.exp(log_w - np.where(np.isfinite(top), top, 0.0))
        total = w.sum(axis=1, keepdims=True)
        return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


@dataclass(frozen=True, slots=True)
class FlowRow:
    """One origin → destination: observed and modelled counts, cost, and the nearer capable institutions passed."""

    origin: str
    destination: str
    observed: float
    modelled: float
    cost: float
    bypassed: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class FlowFit:
    """The fitted decay (``beta``, ``decay``, by ``cost``), its log-likelihood, and every origin → destination."""

    specialty: str
    cost: Cost
    decay: Decay
    beta: float
    log_likelihood: float
    rows: tuple[FlowRow, ...]
    names: Mapping[str, str]

    def frame(self) -> Any:
        """One row per origin → destination (pandas), bypassed institutions by name."""
        import pandas as pd

        return pd.DataFrame([{"origin": r.origin, "origin_name": self.names[r.origin], "destination": r.destination,
                              "destination_name": self.names[r.destination], "observed": r.observed,
                              "modelled": r.modelled, self.cost: r.cost,
                              "bypassed": "、".join(self.names[b] for b in r.bypassed)} for r in self.rows])

    @property
    def bypass_share(self) -> float:
        """Share of observed referrals that went past a nearer capable institution."""
        total = sum(r.observed for r in self.rows)
        return sum(r.observed for r in self.rows if r.bypassed) / total if total else math.nan


def fit_flows(G_or_net: nx.Graph | CompiledNetwork, flows: Iterable[Flow], specialty: str, *, cost: Cost = "km",
              decay: Decay = "exponential", travel: TravelLayer | None = None,
              attraction: Mapping[str, float] | None = None) -> FlowFit:
    """Fit β of the Huff model to the observed flows of ``specialty`` and report observed against modelled.

    Destinations: the institutions offering the specialty (permanently or in
    sessions) and any the flows reach; attraction 1 each unless given
    (e.g. beds). Observed flows to a destination out of reach are refused.
    """
    net = as_network(G_or_net)
    cost = check_cost(cost)
    if decay not in BETA_RANGE:
        raise InvalidRequest("decay", decay, "must be exponential or power")
    (code,) = resolve_specialties(net, [specialty])
    chosen = [f for f in flows if f.specialty in (None, code) and f.count > 0]
    if not chosen:
        raise InvalidRequest("flows", 0, f"must hold referrals of {code} (none found)",
                             rule_zh=f"没有{code}的转诊记录")
    origins = sorted({net.index[resolve_institution(net.G, f.origin)] for f in chosen})
    capable = set(np.flatnonzero(offered(net, [code])[:, 0]).tolist())
    reached = {net.index[resolve_institution(net.G, f.destination)] for f in chosen}
    dests = sorted(capable | reached)
    o_at, d_at = {r: i for i, r in enumerate(origins)}, {r: j for j, r in enumerate(dests)}
    observed = np.zeros((len(origins), len(dests)))
    for f in chosen:
        observed[o_at[net.index[resolve_institution(net.G, f.origin)]],
                 d_at[net.index[resolve_institution(net.G, f.destination)]]] += f.count
    c = _costs(net, np.array(origins), np.array(dests), cost, travel)
    if (observed > 0)[~np.isfinite(c)].any():
        raise InvalidRequest("flows", "a destination out of reach", "must go to institutions the network reaches")
    a = np.ones(len(dests)) if attraction is None else np.array(
        [float(attraction.get(net.ids[r], attraction.get(net.G.nodes[net.ids[r]]["name"], 0.0))) for r in dests])
    if not (np.isfinite(a).all() and (a >= 0).all() and (a[observed.sum(axis=0) > 0] > 0).all()):
        raise InvalidRequest("attraction", "a missing or negative figure",
                             "must be a number > 0 for every destination the flows reach")
    a = np.where(a > 0, a, 1e-300)

    def loss(beta: float) -> float:
        share = huff_shares(c, a, beta=beta, decay=decay)
        with np.errstate(divide="ignore"):
            return -float(np.sum(observed[observed > 0] * np.log(share[observed > 0])))

    low, high = BETA_RANGE[decay]
    found = minimize_scalar(loss, bounds=(low, high), method="bounded", options={"xatol": 1e-10})
    beta = float(found.x)
    modelled = observed.sum(axis=1, keepdims=True) * huff_shares(c, a, beta=beta, decay=decay)
    capable_cols = np.array([r in capable for r in dests])
    rows = []
    for i, j in zip(*np.nonzero((observed > 0) | (modelled >= 0.5)), strict=True):
        nearer = capable_cols & (c[i] < c[i, j])
        bypassed = tuple(net.ids[dests[k]] for k in np.flatnonzero(nearer)[np.argsort(c[i, nearer])])
        rows.append(FlowRow(net.ids[origins[i]], net.ids[dests[j]], float(observed[i, j]), float(modelled[i, j]),
                            float(c[i, j]), bypassed if observed[i, j] > 0 else ()))
    names = {net.ids[r]: net.G.nodes[net.ids[r]].get("name", net.ids[r]) for r in (*origins, *dests)}
    return FlowFit(specialty=code, cost=cost, decay=decay, beta=beta, log_likelihood=-float(found.fun),
                   rows=tuple(rows), names=names)


def _costs(net: CompiledNetwork, origins: np.ndarray, dests: np.ndarray, cost: Cost,
           travel: TravelLayer | None) -> np.ndarray:
    if cost == "km" and travel is None:
        return whole_km(dijkstra(network_graph(net), directed=True, indices=origins)[:, dests])  # graph in metres
    layer = travel_layer_of(net, travel)
    rows = layer.rows_of(net.ids)
    pair = layer.costs(rows[origins][:, None], rows[dests][None, :])
    value = np.array(getattr(pair, cost), dtype=float)
    return np.where(pair.unreachable, np.inf, value)


__all__ = ["BETA_RANGE", "FLOW_SHEETS", "Decay", "Flow", "FlowFit", "FlowRow", "fit_flows", "huff_shares",
           "ledger_flows", "table_flows"]
