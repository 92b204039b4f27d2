"""Members: home rows, recommendations and explanations; viewing history for admins only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from starlette.concurrency import run_in_threadpool

from limelight.errors import NotFoundError
from limelight.personalize.catalog import maturity_scale
from limelight.personalize.explain import TitleExplanation
from limelight.personalize.rows import HomePage, RecommendedTitle
from limelight.service.config import ID_PATTERN
from limelight.service.deps import EngineDep, MemberHistoryAccess, MemberId, StateDep, TitleId, require_access
from limelight.service.errors import ERROR_RESPONSES, ErrorBody

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/members",
    tags=["members"],
    responses={
        **ERROR_RESPONSES,
        404: {"model": ErrorBody, "description": "No member (or title) with this id."},
        503: {"model": ErrorBody, "description": "The personalization engine is still loading."},
    },
)

_READ = [Depends(require_access("member.read"))]
_WRITE = [Depends(require_access("member.write"))]
_RECS = TypeAdapter(list[RecommendedTitle])
JSON = "application/json"


class ViewingEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: str
    title_id: str
    name: str | None
    started_at: datetime
    seconds_viewed: int
    device: str | None
    country: str | None


class MemberHistory(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str
    events: list[ViewingEvent]


class MemberIn(BaseModel):
    """A member who just signed up. Their first page is what is popular in their country (within their
    maturity limit) until their first viewing events are posted."""

    model_config = ConfigDict(extra="forbid")
    member_id: str = Field(pattern=ID_PATTERN, description="The service's id for the member.")
    country: str | None = Field(None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2, e.g. US.")
    plan: str | None = Field(None, min_length=1, max_length=64)
    signup_date: date | None = None
    maturity_limit: str | None = Field(
        None, min_length=1, max_length=16, description="Highest maturity rating the profile may see, e.g. TV-14."
    )

    @field_validator("maturity_limit")
    @classmethod
    def _known_rating(cls, value: str | None) -> str | None:
        if value is not None and value.strip().upper() not in maturity_scale().levels:
            known = ", ".join(sorted(maturity_scale().levels))
            raise ValueError(f"must be one of {known}, got '{value}'")
        return value


class MemberCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str
    created: bool = Field(description="False when the member was already stored with these values.")


class MemberPage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_ids: list[str]
    offset: int
    limit: int


@router.post(
    "",
    response_model=MemberCreated,
    status_code=201,
    dependencies=_WRITE,
    summary="Add a member who just signed up (idempotent); their home page works at once",
    responses={
        200: {"model": MemberCreated, "description": "Already stored with these values: nothing changed."},
        409: {"model": ErrorBody, "description": "The member is stored with other values."},
    },
)
async def member_create(body: MemberIn, state: StateDep, response: Response) -> MemberCreated:
    fields = body.model_dump()
    if fields["country"]:
        fields["country"] = fields["country"].upper()
    created, stored = await run_in_threadpool(state.store_member, fields)
    if created:
        state.stored("members", 1)
    else:
        response.status_code = 200
    # The member as stored: a repeat with only the id once made a kids' profile unlimited in the live engine.
    await run_in_threadpool(state.add_member, body.member_id, stored["country"], stored["maturity_limit"])
    return MemberCreated(member_id=body.member_id, created=created)


@router.get(
    "",
    response_model=MemberPage,
    dependencies=[Depends(require_access("member.list"))],
    summary="Member ids, a page at a time (ids only; admin)",
)
async def member_ids(
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size (limit 100).")] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> MemberPage:
    def _read() -> list[str]:
        store = state.reader()
        try:
            rows = store.con.execute(
                "SELECT member_id FROM members ORDER BY member_id LIMIT ? OFFSET ?", [limit, offset]
            ).fetchall()
        finally:
            store.close()
        return [str(r[0]) for r in rows]

    return MemberPage(member_ids=await run_in_threadpool(_read), offset=offset, limit=limit)


@router.get(
    "/{member_id}/home",
    response_model=HomePage,
    dependencies=_READ,
    summary="The member's home page: rows of titles, each with the reason it is there",
)
async def member_home(member_id: MemberId, engine: EngineDep, state: StateDep) -> Any:
    body = state.cache.fetch("home", member_id, None, lambda: engine.home(member_id).model_dump_json().encode())
    return Response(body, media_type=JSON)


@router.get(
    "/{member_id}/recommendations",
    response_model=list[RecommendedTitle],
    dependencies=_READ,
    summary="The member's top-k titles (not yet watched, allowed in their country and maturity), with reasons",
)
async def member_recommendations(
    member_id: MemberId,
    engine: EngineDep,
    state: StateDep,
    k: Annotated[int, Query(ge=1, le=100, description="How many titles (page size limit 100).")] = 10,
) -> Any:
    body = state.cache.fetch("recs", member_id, k, lambda: _RECS.dump_json(engine.recommend(member_id, k)))
    return Response(body, media_type=JSON)


@router.get(
    "/{member_id}/explanations/{title_id}",
    response_model=TitleExplanation,
    dependencies=_READ,
    summary="Why a title is recommended to this member: the titles and attributes that earned it",
)
async def member_explanation(member_id: MemberId, title_id: TitleId, engine: EngineDep) -> Any:
    return Response(engine.explain(member_id, title_id).model_dump_json(), media_type=JSON)


@router.get(
    "/{member_id}/history",
    response_model=MemberHistory,
    summary="The member's viewing history, newest first (personal data: admins only)",
)
async def member_history(
    member_id: MemberHistoryAccess,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Most events returned (page size limit 500).")] = 50,
) -> MemberHistory:
    def _read() -> MemberHistory:
        store = state.reader()
        try:
            if not store.scalar("SELECT count(*) FROM members WHERE member_id = ?", [member_id]):
                raise NotFoundError(f"member '{member_id}' does not exist")
            rows = store.con.execute(
                "SELECT v.event_id, v.title_id, t.name, v.started_at, v.seconds_viewed, v.device, v.country "
                "FROM viewing_events v LEFT JOIN titles t USING (title_id) WHERE v.member_id = ? "
                "ORDER BY v.started_at DESC, v.event_id LIMIT ?",
                [member_id, limit],
            ).fetchall()
        finally:
            store.close()
        fields = ("event_id", "title_id", "name", "started_at", "seconds_viewed", "device", "country")
        events = [ViewingEvent(**dict(zip(fields, r))) for r in rows]
        for e in events:  # stored as naive UTC; say so on the wire
            e.started_at = e.started_at.replace(tzinfo=UTC)
        return MemberHistory(member_id=member_id, events=events)

    return await run_in_threadpool(_read)
