"""Titles: the title card (with credits) and similar titles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from limelight.service.deps import EngineDep, TitleId, require_access
from limelight.service.errors import ERROR_RESPONSES, ErrorBody

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/titles",
    tags=["titles"],
    dependencies=[Depends(require_access("title.read"))],
    responses={
        **ERROR_RESPONSES,
        404: {"model": ErrorBody, "description": "No title with this id."},
        503: {"model": ErrorBody, "description": "The personalization engine is still loading."},
    },
)


@router.get("/{title_id}")
async def title_card(title_id: TitleId, engine: EngineDep) -> Any:
    return engine.title(title_id)


@router.get("/{title_id}/similar")
async def similar_titles(
    title_id: TitleId, engine: EngineDep, k: Annotated[int, Query(ge=1, le=100)] = 10
) -> Any:
    return engine.similar(title_id, k)
