"""Health, Prometheus metrics, and who-am-I (the dashboard asks it what to show)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from limelight.service.deps import ACCESS, CurrentKey, StateDep, can_access, ensure_access
from limelight.service.errors import ERROR_RESPONSES
from limelight.service.metrics import CONTENT_TYPE_LATEST
from limelight.service.state import ServiceState

__all__ = ["router"]

router = APIRouter(tags=["meta"])


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["ok", "degraded"] = Field(
        description="degraded: no engine could be loaded, or the registry's current model could not be used "
        "and an earlier version (or the default model) is served; `problems` says which"
    )
    problems: list[str] = []
    engine: Literal["ready", "loading", "unavailable"]
    model_version: int | None
    synthetic: bool
    routers: list[str]
    precomputed_members: int
    precompute_done: bool


class Me(BaseModel):
    """The calling key, what it may do, and what the service offers."""

    model_config = ConfigDict(extra="forbid")
    key_id: str
    role: str
    person_id: str | None
    allowed: list[str]
    routers: list[str]
    synthetic: bool
    model_version: int | None
    data: dict[str, int]
    forecast_history: Literal["store", "public"] | None = None


@router.get("/health", response_model=Health, summary="Liveness and readiness (no key needed)")
async def health(state: StateDep) -> Health:
    slot = state.slot
    engine: Literal["ready", "loading", "unavailable"] = (
        "ready" if slot.engine is not None else ("loading" if slot.building else "unavailable")
    )
    # In general words: /health answers without a key, and the reasons name files on the server
    # (an admin reads them in GET /v1/models).
    problems = []
    if state.registry_problems:
        problems.append(f"the model registry reports {len(state.registry_problems)} problem(s) with the served "
                        "model; an admin reads them in GET /v1/models")
    if slot.error:
        problems.append("the last model load failed")
    return Health(
        status="degraded" if problems or engine == "unavailable" else "ok",
        problems=problems,
        engine=engine,
        model_version=slot.version.version if slot.version else None,
        synthetic=state.synthetic,
        routers=list(state.routers),
        precomputed_members=state.precomputed,
        precompute_done=state.precompute_done,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}, "description": "Metrics."},
        401: ERROR_RESPONSES[401],  # with `serve --metrics-need-key`
        403: ERROR_RESPONSES[403],
    },
)
async def metrics(request: Request, state: StateDep) -> Response:
    if state.config.metrics_need_key:  # `limelight serve --metrics-need-key`
        ensure_access(state.keys.authenticate(request.headers.get("authorization")), "metrics.read")
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/v1/me", response_model=Me, summary="The calling key and what it may do", responses=ERROR_RESPONSES
)
async def me(key: CurrentKey, state: StateDep) -> Me:
    allowed = sorted(action for action in ACCESS if can_access(key, action, person_id=key.person_id))
    return Me(
        key_id=key.key_id,
        role=key.role,
        person_id=key.person_id,
        allowed=allowed,
        routers=list(state.routers),
        synthetic=state.synthetic,
        model_version=state.slot.version.version if state.slot.version else None,
        data=_data_for(key.role, state.data_counts),
        forecast_history=_forecast_history(state),
    )


def _data_for(role: str, counts: dict[str, int]) -> dict[str, int]:
    """Row counts for analysts and admins; for other roles only whether each table has rows (1 or 0):
    the dashboard needs no more, and live counts told any key — a performer's, a sign-up form's — the
    size of the member base and its viewing and payments as they happened."""
    if role in ("analyst", "admin"):
        return dict(counts)
    return {name: int(n > 0) for name, n in counts.items()}


def _forecast_history(state: ServiceState) -> Literal["store", "public"] | None:
    """What `POST /v1/forecasts` would learn from (None: nothing, or no valuation router)."""
    if "forecasts" not in state.routers:
        return None
    from limelight.service.routes.forecasts import history_source

    return history_source(state)
