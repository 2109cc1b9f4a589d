"""The specialty vocabulary."""

from __future__ import annotations

from fastapi import APIRouter

from mednet.specialties import SPECIALTIES, Specialty

router = APIRouter(prefix="/specialties", tags=["specialties"])


@router.get("", response_model=list[Specialty])
async def list_specialties() -> tuple[Specialty, ...]:
    """Every specialty: its code, Chinese and English labels, kind and aliases.

    Any code, label or alias is accepted wherever a request names a specialty.
    """
    return SPECIALTIES
