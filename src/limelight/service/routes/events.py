"""`POST /v1/events`: batches of viewing events, idempotent and durable before the reply."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from limelight.service.deps import StateDep, require_access
from limelight.service.errors import ERROR_RESPONSES, ErrorBody, PayloadTooLargeError
from limelight.service.events import EventBatch, EventsAccepted, store_events

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/events",
    tags=["events"],
    dependencies=[Depends(require_access("events.write"))],
    responses=ERROR_RESPONSES,
)


@router.post(
    "",
    response_model=EventsAccepted,
    summary="Store a batch of viewing events (idempotent by event_id) and fold them into recommendations",
    responses={
        409: {"model": ErrorBody, "description": "An event id is reused for an event with other values."},
        413: {"model": ErrorBody, "description": "The batch has more events than the service accepts."},
    },
)
async def post_events(batch: EventBatch, state: StateDep) -> EventsAccepted:
    limit = state.config.max_events_per_batch
    if len(batch.events) > limit:
        raise PayloadTooLargeError(
            f"events must hold at most {limit} events per batch, got {len(batch.events)}"
        )
    # The commit (and its WAL sync) runs on a worker thread; only after it returns do we reply.
    ticket = state.committing()  # the write lock; and the batch's place in commit order, once committed
    fresh, duplicates = await run_in_threadpool(store_events, state.con, batch.events, ticket)
    state.stored("viewing_events", len(fresh))
    state.metrics.events.inc(len(fresh))
    state.metrics.duplicates.inc(duplicates)
    # Folding a batch in re-scores its members (milliseconds each): off the event loop, so other
    # requests are not held up behind it.
    folded = await run_in_threadpool(state.observe, fresh, ticket.seq)
    return EventsAccepted(
        received=len(batch.events), stored=len(fresh), duplicates=duplicates, folded_in=folded
    )
