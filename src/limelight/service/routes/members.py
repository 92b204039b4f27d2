"""Members: home rows, recommendations, and (admins only) viewing history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from limelight.errors import NotFoundError
from limelight.service.deps import EngineDep, MemberHistoryAccess, MemberId, StateDep, require_access
from limelight.service.errors import ERROR_RESPONSES, ErrorBody

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/members",
    tags=["members"],
    responses={
        **ERROR_RESPONSES,
        404: {"model": ErrorBody, "description": "No member with this id."},
        503: {"model": ErrorBody, "description": "The personalization engine is still loading."},
    },
)


@router.get("/{member_id}/home", dependencies=[Depends(require_access("member.read"))])
async def member_home(member_id: MemberId, engine: EngineDep) -> Any:
    return engine.home(member_id)


@router.get("/{member_id}/recommendations", dependencies=[Depends(require_access("member.read"))])
async def member_recommendations(
    member_id: MemberId, engine: EngineDep, state: StateDep, k: Annotated[int, Query(ge=1, le=100)] = 10
) -> Any:
    return engine.recommend(member_id, k)


@router.get("/{member_id}/history")
async def member_history(
    member_id: MemberHistoryAccess, state: StateDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> Any:
    def _read() -> list[dict[str, Any]]:
        store = state.reader()
        try:
            if not store.scalar("SELECT count(*) FROM members WHERE member_id = ?", [member_id]):
                raise NotFoundError(f"member '{member_id}' does not exist")
            frame = store.query(
                "SELECT v.event_id, v.title_id, t.name, v.started_at, v.seconds_viewed, v.device, v.country "
                "FROM viewing_events v LEFT JOIN titles t USING (title_id) WHERE v.member_id = ? "
                "ORDER BY v.started_at DESC, v.event_id LIMIT ?",
                [member_id, limit],
            )
        finally:
            store.close()
        return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]

    return await run_in_threadpool(_read)
