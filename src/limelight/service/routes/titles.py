"""Titles: the title card (with credits) and similar titles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import TypeAdapter

from limelight.personalize.catalog import TitleCard
from limelight.personalize.rows import RecommendedTitle
from limelight.service.config import ID_PATTERN
from limelight.service.deps import (
    CurrentKey,
    EngineDep,
    StateDep,
    TitleId,
    ensure_access,
    require_access,
)
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

_RECS = TypeAdapter(list[RecommendedTitle])
JSON = "application/json"


@router.get("/{title_id}", response_model=TitleCard, summary="A title's card: metadata and credits")
async def title_card(title_id: TitleId, engine: EngineDep, state: StateDep) -> Any:
    body = state.cache.fetch("title", title_id, None, lambda: engine.title(title_id).model_dump_json().encode())
    return Response(body, media_type=JSON)


@router.get("/{title_id}/similar", response_model=list[RecommendedTitle], summary="Titles most like this one")
async def similar_titles(
    title_id: TitleId,
    engine: EngineDep,
    state: StateDep,
    key: CurrentKey,
    k: Annotated[int, Query(ge=1, le=100, description="How many titles (page size limit 100).")] = 10,
    member_id: Annotated[
        str | None,
        Query(pattern=ID_PATTERN, description="The profile asking (\"More like this\"): only titles it may play "
              "— its country and maturity limit — and none it has finished. Needs role service or admin."),
    ] = None,
) -> Any:
    """Titles out now that are most like this one; with `member_id`, only what that profile may play."""
    if member_id is None:
        body = state.cache.fetch("similar", title_id, k, lambda: _RECS.dump_json(engine.similar(title_id, k)))
    else:
        ensure_access(key, "member.read")
        body = state.cache.fetch(  # kept under the member, so their next event drops it
            "similar_for", member_id, (title_id, k),
            lambda: _RECS.dump_json(engine.similar(title_id, k, member_id=member_id)),
        )
    return Response(body, media_type=JSON)
