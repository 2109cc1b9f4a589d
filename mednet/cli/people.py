"""The people a planning command counts: ``--population`` (a 人口 sheet) or ``--raster`` (a GeoTIFF), else the
population the region gives its health centres; shared by ``mednet plan`` and ``mednet indicators --access``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_people_options(p: argparse.ArgumentParser) -> None:
    """``--population FILE`` or ``--raster FILE.tif`` (one of them)."""
    people = p.add_mutually_exclusive_group()
    people.add_argument("--population", metavar="FILE", help="a 人口 sheet (workbook or CSV)")
    people.add_argument("--raster", metavar="FILE.tif", help="a population GeoTIFF (WGS84, people per cell)")


def people_given(args: argparse.Namespace, net: Any) -> Any:
    """The :class:`~mednet.planning.population.Population` the options name, or None when they name none."""
    from mednet.planning.population import raster_population, townships_population

    if args.population:
        from mednet.importing.population import read_population

        return townships_population(read_population([args.population]), net=net, source=Path(args.population).name)
    if args.raster:
        return raster_population(args.raster)
    return None
