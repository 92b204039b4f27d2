"""`Annotated` shortcuts every router uses: who is calling, what they may see, the store, the settings.

How a router uses them (see docs/service.md, "How to add a router"):

    from limelight.service.deps import CurrentKey, StoreDep, require_roles, OwnPerson

    router = APIRouter(prefix="/v1/payments", tags=["payments"],
                       dependencies=[Depends(require_roles("analyst", "admin"))],
                       responses=ERROR_RESPONSES)

    @router.get("/recovery")
    def recovery(store: StoreDep) -> RecoveryCurves: ...

    @router.get("/v1/talent/people/{person_id}/statement")
    def statement(person_id: OwnPerson, store: StoreDep) -> Statement: ...   # admins and that person only

Object-level authorization lives in ONE place, `can_access`: routes never compare ids themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from limelight.errors import ForbiddenError
from limelight.service.config import ID_PATTERN, PERSON_ID_PATTERN, ROLES, ServiceConfig
from limelight.service.errors import RateLimitedError, ServiceUnavailableError
from limelight.service.keys import ApiKey
from limelight.service.state import ServiceState
from limelight.spine.store import Store

__all__ = [
    "ACCESS",
    "ApiKey",
    "CurrentKey",
    "EngineDep",
    "MemberHistoryAccess",
    "MemberId",
    "OwnPerson",
    "SettingsDep",
    "StateDep",
    "StoreDep",
    "TitleId",
    "can_access",
    "ensure_access",
    "require_access",
]

# Which roles may do what. `person` keys additionally see their OWN person's objects (see can_access).
ACCESS: dict[str, frozenset[str]] = {
    "member.read": frozenset({"service", "admin"}),  # home rows, recommendations
    "member.history": frozenset({"admin"}),  # personal data: a member's viewing history
    # The list of every member id: a front end knows its own member, and with the list a `service`
    # key could walk the whole member base's home pages, which show what each member watched.
    "member.list": frozenset({"admin"}),
    "title.read": frozenset({"service", "analyst", "admin"}),  # title cards, similar titles
    "events.write": frozenset({"ingest", "admin"}),
    "member.write": frozenset({"ingest", "admin"}),  # a member who just signed up
    "forecasts": frozenset({"analyst", "admin"}),
    "payments": frozenset({"analyst", "admin"}),  # recovery curves, members at risk
    "payments.decide": frozenset({"service", "analyst", "admin"}),  # the next step for one failed charge
    "talent.aggregate": frozenset({"analyst", "admin"}),
    "talent.bonus": frozenset({"analyst", "admin", "person"}),  # the calculator: public rules, caller's figures
    "talent.rules": frozenset(ROLES),  # rule packs and the health-plan threshold: public, cited
    "person.statement": frozenset({"admin"}),  # + the person's own `person` key
    "metrics.read": frozenset({"service", "analyst", "admin"}),  # /metrics, when the server asks for a key
    "models.read": frozenset({"analyst", "admin"}),
    "models.manage": frozenset({"admin"}),
    "models.internals": frozenset({"admin"}),  # load errors and registry paths: the server's files
    "keys.manage": frozenset({"admin"}),
}

_bearer = HTTPBearer(
    auto_error=False, description="An API key from `limelight keys create`: `Bearer ll_...`."
)


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.limelight
    return state


async def get_state(request: Request) -> ServiceState:
    return _state(request)


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_config(request: Request) -> ServiceConfig:
    return _state(request).config


SettingsDep = Annotated[ServiceConfig, Depends(get_config)]


async def current_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> ApiKey:
    """The caller's key (401 when missing/invalid/revoked), after charging its rate limit (429)."""
    state = _state(request)
    # the raw header, as the hot read path sees it, so both refuse and accept exactly the same ones
    # (`credentials` is here for the OpenAPI security scheme)
    key = state.keys.authenticate(request.headers.get("authorization"))
    rate = key.rate_per_s or state.config.default_rate_per_s
    burst = max(state.config.default_burst * rate / state.config.default_rate_per_s, 1.0)
    wait = state.limiter.take(key.key_id, rate, burst)
    if wait > 0:
        state.metrics.rate_limited.labels(key.key_id).inc()
        raise RateLimitedError(
            f"the rate limit of key '{key.key_id}' ({rate:g} requests/s) is used up; retry in {wait:.2f} s",
            wait,
        )
    request.state.api_key = key
    return key


CurrentKey = Annotated[ApiKey, Depends(current_key)]


def can_access(key: ApiKey, action: str, *, person_id: str | None = None) -> bool:
    """THE object-level rule: role grants, plus a `person` key's own statement."""
    roles = ACCESS.get(action)
    if roles is None:
        raise KeyError(f"unknown action '{action}'")
    if key.role in roles:
        return True
    return (
        action == "person.statement"
        and key.role == "person"
        and person_id is not None
        and key.person_id == person_id
    )


def ensure_access(key: ApiKey, action: str) -> None:
    """403 in one sentence unless the key's role may perform `action` (for a part of a request that
    needs more than the route does, such as a member's view of a title page)."""
    if not can_access(key, action):
        raise ForbiddenError(
            f"a key with role '{key.role}' may not use {action.replace('.', ' ')}; "
            f"it needs role {' or '.join(sorted(ACCESS[action]))}"
        )


def require_access(action: str) -> Callable[..., Awaitable[ApiKey]]:
    """Dependency: the caller's key, if its role may perform `action` (403 otherwise)."""

    async def _dep(key: CurrentKey) -> ApiKey:
        ensure_access(key, action)
        return key

    _dep.__name__ = f"require_{action.replace('.', '_')}"
    return _dep


MemberId = Annotated[str, Path(pattern=ID_PATTERN, description="A member's id in the spine.")]
TitleId = Annotated[str, Path(pattern=ID_PATTERN, description="A title's id in the spine.")]
PersonId = Annotated[str, Path(pattern=PERSON_ID_PATTERN, description="A person's id in the spine (may be a name).")]


async def _own_person(person_id: PersonId, key: CurrentKey) -> str:
    if not can_access(key, "person.statement", person_id=person_id):
        raise ForbiddenError(
            "a pay statement is visible only to that person's key and to admins"
            if key.role == "person"
            else f"a key with role '{key.role}' may not see a person's pay statement"
        )
    return person_id


OwnPerson = Annotated[str, Depends(_own_person)]
"""A `{person_id}` path parameter the caller may see: an admin, or that person's own key."""


async def _member_history(member_id: MemberId, key: CurrentKey) -> str:
    if not can_access(key, "member.history"):
        raise ForbiddenError(
            f"a member's viewing history is personal data: admins only, got role '{key.role}'"
        )
    return member_id


MemberHistoryAccess = Annotated[str, Depends(_member_history)]


def get_store(request: Request) -> Iterator[Store]:
    """A Store on its own DuckDB cursor for this request (reads only; the server owns writes)."""
    store = _state(request).reader()
    try:
        yield store
    finally:
        store.close()


StoreDep = Annotated[Store, Depends(get_store)]


async def get_engine(request: Request) -> Any:
    """The live `PersonalizationEngine` (503 while none is loaded)."""
    state = _state(request)
    engine = state.slot.engine
    if engine is None:
        if state.slot.error and not state.data_counts.get("titles"):  # the usual first-run cause, named
            raise ServiceUnavailableError(
                "the personalization engine has nothing to serve: the store has no titles yet "
                "(ingest a catalog, then restart the server)"
            )
        raise ServiceUnavailableError(
            # the reason names files on the server: an admin reads it in GET /v1/models, a client does not
            "the personalization engine could not load its model; an admin can see why in GET /v1/models"
            if state.slot.error
            else "the personalization engine is still loading; retry shortly"
        )
    return engine


EngineDep = Annotated[Any, Depends(get_engine)]
