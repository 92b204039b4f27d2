"""Admin endpoints: keys (create, list, revoke) and models (versions, rollback, training with progress)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from limelight.errors import ConflictError, InputError, LimelightError
from limelight.service.config import PERSON_ID_PATTERN, ROLES
from limelight.service.deps import CurrentKey, StateDep, can_access, require_access
from limelight.service.errors import ERROR_RESPONSES, ErrorBody
from limelight.service.keys import (
    KEY_ID_PATTERN,
    MAX_KEY_DAYS,
    MAX_RATE_PER_S,
    MIN_RATE_PER_S,
    ApiKey,
    create_key,
    list_keys,
    revoke_key,
)
from limelight.service.state import ServiceState

__all__ = ["router"]

MODEL_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,40}$"

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

Role = Literal["service", "ingest", "analyst", "admin", "person"]
assert set(ROLES) == set(Role.__args__)  # type: ignore[attr-defined]


class KeyCreate(BaseModel):
    """What an admin may set on a new key — nothing else (no mass assignment)."""

    model_config = ConfigDict(extra="forbid")
    role: Role
    person_id: str | None = Field(default=None, pattern=PERSON_ID_PATTERN)
    label: str | None = Field(default=None, max_length=200)
    rate_per_s: float | None = Field(default=None, ge=MIN_RATE_PER_S, le=MAX_RATE_PER_S)
    expires_in_days: float | None = Field(default=None, gt=0, le=MAX_KEY_DAYS,
                                          description="refused from then on, as if revoked; default: never")


class KeyPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_id: str
    role: str
    person_id: str | None
    label: str | None
    rate_per_s: float | None
    created_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None = None
    last_used_at: datetime | None = Field(default=None, description="to the minute; None: never used")

    @classmethod
    def of(cls, key: ApiKey) -> KeyPublic:
        return cls(
            key_id=key.key_id,
            role=key.role,
            person_id=key.person_id,
            label=key.label,
            rate_per_s=key.rate_per_s,
            created_at=_utc(key.created_at),
            revoked_at=_utc(key.revoked_at),
            expires_at=_utc(key.expires_at),
            last_used_at=_utc(key.last_used_at),
        )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else (value if value.tzinfo else value.replace(tzinfo=UTC))


class KeyCreated(KeyPublic):
    key: str = Field(description="The full key. Shown once; only its hash is stored.")


class ModelVersionPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    model_name: str
    created_at: str = Field(description="When the version was published (ISO 8601, UTC).")
    current: bool
    data: dict[str, Any]
    metrics: dict[str, Any]
    params: dict[str, Any]
    notes: str


class ModelsPage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serving: int | None = Field(description="The version this process serves now.")
    current: int | None = Field(description="The registry's current version (served within seconds).")
    history: list[int]
    versions: list[ModelVersionPublic]
    engine_error: str | None
    registry_problems: list[str] = Field(default_factory=list, description="versions passed over at the last load, and why")


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(default="auto", pattern=MODEL_NAME_PATTERN)
    evaluate: bool = True
    activate: bool = Field(default=True, description="serve the new version when done; false: publish only "
                           "(POST /v1/models/activate with its number later)")
    only_if_not_worse: bool = Field(default=False, description="serve it only if its leave-last-out nDCG@10 "
                                    "reaches the serving version's lower 95% bound (needs evaluate)")
    params: dict[str, float | int | str | bool | None] = Field(
        default_factory=dict,
        max_length=20,
        description='The model\'s parameters, e.g. {"max_seconds": 300} to bound auto\'s search, '
        '{"regularization": 400} for ease.',
    )


class TrainingPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["idle", "running", "done", "failed"]
    step: str
    progress: float
    model: str | None
    version: int | None
    message: str
    # ISO 8601 like every other time in the API (they were epoch seconds here alone)
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: dict[str, Any]) -> TrainingPublic:
        def when(seconds: float | None) -> datetime | None:
            return None if seconds is None else datetime.fromtimestamp(seconds, UTC)

        return cls(**{**job, "started_at": when(job["started_at"]), "finished_at": when(job["finished_at"])})


_KEYS = Depends(require_access("keys.manage"))
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such key or version."}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Nothing to roll back to, or training already running."}
}


# -- keys --------------------------------------------------------------------------------------
@router.post("/keys", response_model=KeyCreated, status_code=201, tags=["keys"], dependencies=[_KEYS])
def keys_create(body: KeyCreate, state: StateDep) -> KeyCreated:
    with state.write_lock:
        secret, record = create_key(
            state.con, body.role, person_id=body.person_id, label=body.label, rate_per_s=body.rate_per_s,
            expires_in_days=body.expires_in_days,
        )
        state.keys.reload()
    return KeyCreated(**KeyPublic.of(record).model_dump(), key=secret)


@router.get("/keys", response_model=list[KeyPublic], tags=["keys"], dependencies=[_KEYS])
def keys_list(state: StateDep) -> list[KeyPublic]:
    with state.write_lock:
        state.keys.flush_last_used()
        return [KeyPublic.of(k) for k in list_keys(state.con)]


@router.delete(
    "/keys/{key_id}", response_model=KeyPublic, tags=["keys"], dependencies=[_KEYS],
    responses={**_NOT_FOUND, 409: {"model": ErrorBody, "description": "The last live admin key."}},
)
def keys_revoke(
    key_id: Annotated[str, Path(pattern=KEY_ID_PATTERN, description="The key's public id (12 hex digits).")],
    state: StateDep,
) -> KeyPublic:
    with state.write_lock:
        record = revoke_key(state.con, key_id, keep_an_admin=True)
        state.keys.reload()
    return KeyPublic.of(record)


# -- models ------------------------------------------------------------------------------------
def _models_page(state: ServiceState, key: ApiKey) -> ModelsPage:
    registry = state.registry
    current = registry.current()
    # Store paths, load errors and registry problems name the server's files: admins read them, analysts
    # learn that there is something to read.
    internals = can_access(key, "models.internals")
    versions = [
        ModelVersionPublic(
            version=v.version,
            model_name=v.model_name,
            created_at=v.created_at,
            current=current is not None and v.version == current.version,
            data=v.data if internals else {k: x for k, x in v.data.items() if k != "db"},
            metrics=v.metrics,
            params=v.params,
            notes=v.notes,
        )
        for v in registry.list()
    ]
    return ModelsPage(
        serving=state.slot.version.version if state.slot.version else None,
        current=current.version if current else None,
        history=registry.history(),
        versions=versions,
        engine_error=(state.slot.error if internals or state.slot.error is None
                      else "the model could not be loaded; an admin can see why here"),
        registry_problems=(list(state.registry_problems) if internals else
                           [f"{len(state.registry_problems)} problem(s) with the registry; an admin can see them here"]
                           if state.registry_problems else []),
    )


@router.get(
    "/models",
    response_model=ModelsPage,
    tags=["models"],
    dependencies=[Depends(require_access("models.read"))],
)
def models_list(state: StateDep, key: CurrentKey) -> ModelsPage:
    return _models_page(state, key)


@router.post(
    "/models/rollback",
    response_model=ModelsPage,
    tags=["models"],
    dependencies=[Depends(require_access("models.manage"))],
    responses=_CONFLICT,
)
async def models_rollback(state: StateDep, key: CurrentKey) -> ModelsPage:
    await run_in_threadpool(state.registry.rollback)
    await run_in_threadpool(state.reload_now)
    return _models_page(state, key)


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=1_000_000, description="A published version (GET /v1/models)")


@router.post(
    "/models/activate",
    response_model=ModelsPage,
    tags=["models"],
    summary="Serve a published version (one trained with activate=false, or the newer one after a rollback)",
    dependencies=[Depends(require_access("models.manage"))],
    responses={**_CONFLICT, 404: {"model": ErrorBody, "description": "No such version in the registry."}},
)
async def models_activate(body: ActivateRequest, state: StateDep, key: CurrentKey) -> ModelsPage:
    await run_in_threadpool(state.registry.activate, body.version)
    await run_in_threadpool(state.reload_now)
    return _models_page(state, key)


@router.get(
    "/models/training",
    response_model=TrainingPublic,
    tags=["models"],
    dependencies=[Depends(require_access("models.read"))],
)
async def training_status(state: StateDep) -> TrainingPublic:
    return TrainingPublic.of(state.training.to_dict())


@router.post(
    "/models/train",
    response_model=TrainingPublic,
    status_code=202,
    tags=["models"],
    dependencies=[Depends(require_access("models.manage"))],
    responses=_CONFLICT,
)
def models_train(body: TrainRequest, state: StateDep) -> TrainingPublic:
    """Train on the spine in the background; poll `GET /v1/models/training`. The new version is served when done,
    unless `activate` is false or `only_if_not_worse` finds it worse than the serving one (the job says which)."""
    from limelight.service.training import make_model

    make_model(body.model, body.params)  # an unknown model or parameter is refused now, not in the background
    if body.only_if_not_worse and not body.evaluate:  # the job would fail on this after its 202
        raise InputError("only_if_not_worse compares leave-last-out metrics, so it needs evaluate, got evaluate false")
    with state.write_lock:
        if state.training.state == "running":
            raise ConflictError("a training job is already running; wait for it to finish")
        job = state.training
        job.state, job.step, job.progress, job.model = "running", "starting", 0.0, body.model
        job.version, job.message, job.started_at, job.finished_at = None, "", time.time(), None
    threading.Thread(target=_train, args=(state, body), name="limelight-train", daemon=True).start()
    return TrainingPublic.of(state.training.to_dict())


def _train(state: ServiceState, body: TrainRequest) -> None:
    from limelight.service.training import train_and_publish

    job = state.training

    def progress(step: str, fraction: float) -> None:
        job.step, job.progress = step, fraction

    store = state.reader()
    try:
        version = train_and_publish(
            store, state.registry, body.model, evaluate=body.evaluate, progress=progress, params=body.params,
            activate=body.activate, only_if_not_worse=body.only_if_not_worse,
        )
        job.version, job.model = version.version, version.model_name
        if state.registry.is_current(version.version):
            job.step, job.progress = "loading the new version into the service", 0.95
            state.reload_now()
            job.step = f"serving version {version.version}"
        else:
            job.step = f"published version {version.version} (not served)" + (f": {version.notes}" if version.notes else "")
        job.state, job.progress = "done", 1.0
    except LimelightError as exc:
        job.state, job.message = "failed", exc.message
    except Exception as exc:  # pragma: no cover - reported on the page, logged here
        # the exception's text stays in the log: analysts read this job too
        job.state, job.message = "failed", f"training failed unexpectedly ({type(exc).__name__}); the error was logged"
        import logging

        logging.getLogger(__name__).exception("training failed")
    finally:
        job.finished_at = time.time()
        store.close()
