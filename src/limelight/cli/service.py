"""`limelight serve`, `limelight keys ...`, `limelight train`, `limelight models ...`.

DuckDB allows one writing process per file. `keys` and `train` open the spine themselves, so run
them while the server is down — or, with the server up, use the admin API (`POST /v1/keys`,
`POST /v1/models/train`) or the dashboard. `models list|rollback` only touch the registry folder
and work while the server runs: the server notices the new current version within a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from limelight.cli._common import (
    DEFAULT_DB,
    DbOption,
    JsonOption,
    ParamsOption,
    console,
    model_params,
    print_json,
    progress,
)
from limelight.errors import InputError, NotFoundError
from limelight.service.keys import MAX_RATE_PER_S, MIN_RATE_PER_S

__all__ = ["register"]

keys_app = typer.Typer(help="API keys: create (printed once), list, revoke.", no_args_is_help=True)
models_app = typer.Typer(help="The model registry: versions, rollback.", no_args_is_help=True)


def _open_for_write(db: Path):  # type: ignore[no-untyped-def]
    """The store's write connection, or one sentence: missing, not a DuckDB file, or held by the server."""
    from limelight.spine.store import connect

    if not db.exists():
        raise NotFoundError(
            f"the store {db} does not exist; run 'limelight ingest' or 'limelight demo' first"
        )
    return connect(
        db,
        when_locked="stop it (a running 'limelight serve'?), or use the admin API while it runs "
        "(POST /v1/keys, POST /v1/models/train)",
    )


def _registry(db: Path, models_dir: Path | None, *, existing: bool = False):  # type: ignore[no-untyped-def]
    """The registry of `db` (or `--models-dir`). `existing`: for commands that read or move a registry,
    which refuse one that is not there rather than show an empty list (or leave a lock file behind)."""
    from limelight.registry import ModelRegistry
    from limelight.settings import get_settings

    if models_dir is not None and models_dir.exists() and not models_dir.is_dir():
        raise InputError(f"--models-dir {models_dir} is a file, not a folder")
    if models_dir is None and not db.exists():
        raise NotFoundError(f"the store {db} does not exist; run 'limelight ingest' or 'limelight demo' first")
    registry = ModelRegistry(models_dir or get_settings().registry_dir(db))
    if existing and not registry.root.is_dir():
        raise NotFoundError(f"the model registry {registry.root} does not exist; publish a model with 'limelight train'")
    return registry


ModelsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--models-dir", envvar="LIMELIGHT_MODELS_DIR", help="Registry folder (default <db>.models)."
    ),
]


def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (DuckDB: one writer per file, so 1).")
    ] = 1,
    max_batch: Annotated[
        int, typer.Option("--max-batch", min=1, max=100_000, help="Most events per POST /v1/events.")
    ] = 1000,
    rate: Annotated[
        float,
        typer.Option("--rate", min=MIN_RATE_PER_S, max=MAX_RATE_PER_S, help="Default requests/s per key (token bucket)."),
    ] = 2000.0,
    precompute: Annotated[
        bool,
        typer.Option("--precompute/--no-precompute", help="Render every member's home and top-10 after each load."),
    ] = True,
    metrics_need_key: Annotated[
        bool,
        typer.Option("--metrics-need-key", help="GET /metrics only with a service, analyst or admin key."),
    ] = False,
) -> None:
    """Serve the REST API and the dashboard (http://HOST:PORT/)."""
    from limelight.service import run
    from limelight.spine.store import connect

    if not db.exists():
        raise NotFoundError(
            f"the store {db} does not exist; run 'limelight demo' or 'limelight ingest' first"
        )
    # Open it once before the server starts, as the server will (for writing), so a folder, a file that is
    # not DuckDB's, a read-only disk or a store another process holds — even only for reading — is one
    # sentence here, before "serving at …", rather than a traceback from inside the server.
    connect(db, when_locked="stop the process holding it (another 'limelight serve', or a command still "
            "running) first, or serve another store").close()
    check_listen(host, port)
    console.print(f"limelight serving [bold]{escape(str(db))}[/] at http://{host}:{port}/  (API docs at /docs)")
    run(
        db,
        host=host,
        port=port,
        workers=workers,
        max_events_per_batch=max_batch,
        default_rate_per_s=rate,
        default_burst=2 * rate,
        precompute=precompute,
        metrics_need_key=metrics_need_key,
    )


def check_listen(host: str, port: int) -> None:
    """Bind `host:port` once and let go, before the server opens the store: an address that does not
    resolve, is not this machine's, or a port in use is one sentence naming the option (uvicorn exits 3
    with the socket's errno text, after the service has already written to the store)."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"--host {host!r} is not an address or name this machine can resolve ({exc})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            what = f"--port {port} is in use" if exc.errno == errno.EADDRINUSE else f"--host {host} cannot be listened on"
            raise InputError(f"{what} ({exc.strerror or exc})") from None


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="service, ingest, analyst, admin or person.")],
    db: DbOption = DEFAULT_DB,
    person_id: Annotated[
        str | None, typer.Option("--person-id", help="For role person: whose statements.")
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="A note: who holds this key.")] = None,
    rate: Annotated[
        float | None,
        typer.Option("--rate", min=MIN_RATE_PER_S, max=MAX_RATE_PER_S, help="Requests/s for this key (default: server's)."),
    ] = None,
    expires_in_days: Annotated[
        float | None,
        typer.Option("--expires-in-days", min=0.001, max=3650, help="Refused from then on, as if revoked (default: never)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it ONCE (only its hash is stored). Run while the server is down."""
    from limelight.service.keys import create_key

    con = _open_for_write(db)
    try:
        secret, record = create_key(
            con, role, person_id=person_id, label=label, rate_per_s=rate, expires_in_days=expires_in_days
        )
    finally:
        con.close()
    if as_json:
        print_json(
            {"key": secret, "key_id": record.key_id, "role": record.role, "person_id": record.person_id,
             "expires_at": record.expires_at}
        )
        return
    console.print(
        f"created key [bold]{record.key_id}[/] with role [bold]{record.role}[/]"
        + (f" for person {escape(record.person_id)}" if record.person_id else "")
    )
    console.print("store it now; it is not shown again:")
    typer.echo(secret)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from keys list).")], db: DbOption = DEFAULT_DB
) -> None:
    """Revoke a key: every later request with it gets 401."""
    from limelight.service.keys import revoke_key

    con = _open_for_write(db)
    try:
        record = revoke_key(con, key_id)
    finally:
        con.close()
    console.print(f"revoked key [bold]{record.key_id}[/] ({record.role}) at {record.revoked_at}")


@keys_app.command("list")
def keys_list(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """List keys (ids, roles, state; never the keys themselves)."""
    from limelight.service.keys import list_keys

    con = _open_for_write(db)
    try:
        keys = list_keys(con)
    finally:
        con.close()
    if as_json:
        print_json([vars(k) for k in keys])
        return
    table = Table("key id", "role", "person", "label", "rate/s", "created", "revoked", "expires", "last used")
    table.columns[0].no_wrap = True
    table.columns[0].min_width = max((len(k.key_id) for k in keys), default=6)  # `keys revoke` needs it whole
    for k in keys:
        table.add_row(
            k.key_id,
            k.role,
            escape(k.person_id or ""),
            escape(k.label or ""),
            f"{k.rate_per_s:g}" if k.rate_per_s else "",
            str(k.created_at)[:19],
            str(k.revoked_at)[:19] if k.revoked_at else "",
            str(k.expires_at)[:19] if k.expires_at else "",
            str(k.last_used_at)[:16] if k.last_used_at else "never",
        )
    console.print(table)


def train(
    db: DbOption = DEFAULT_DB,
    model: Annotated[str, typer.Option("--model", help="A model name, or auto.")] = "auto",
    evaluate: Annotated[
        bool, typer.Option("--evaluate/--no-evaluate", help="Leave-last-out metrics first.")
    ] = True,
    models_dir: ModelsDirOption = None,
    params: ParamsOption = None,
    activate: Annotated[
        bool,
        typer.Option("--activate/--no-activate", help="Serve it at once, or publish only: compare its metrics, "
                     "then 'limelight models activate N'."),
    ] = True,
    only_if_not_worse: Annotated[
        bool,
        typer.Option("--only-if-not-worse", help="Serve it only if its leave-last-out nDCG@10 reaches the "
                     "serving version's lower 95% bound; else publish only."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Fit a model on the spine's interactions and publish it as a new registry version (run with the server down)."""
    from limelight.service.training import train_and_publish

    model_parameters = model_params(params)
    from limelight.spine.store import Store

    con = _open_for_write(db)
    con.close()
    registry = _registry(db, models_dir)
    with (
        Store(db, read_only=True) as store,
        progress() as bar,
    ):
        task = bar.add_task("training", total=100)

        def report(step: str, fraction: float) -> None:
            bar.update(task, description=step, completed=100 * fraction)

        version = train_and_publish(
            store, registry, model, evaluate=evaluate, progress=report, params=model_parameters, activate=activate,
            only_if_not_worse=only_if_not_worse,
        )
    if as_json:
        print_json(version.to_dict())
        return
    console.print(
        f"published model version [bold]{version.version}[/] ({version.model_name}) to {registry.root}"
        + ("" if registry.is_current(version.version)
           else f"; not serving it: 'limelight models activate {version.version}' when it should be")
    )
    if version.notes:
        console.print(f"  {version.notes}", markup=False)
    for protocol, values in version.metrics.items():
        console.print(f"  {protocol}: " + ", ".join(f"{k} {v:.4g}" for k, v in values.items()))


@models_app.command("list")
def models_list(
    db: DbOption = DEFAULT_DB, models_dir: ModelsDirOption = None, as_json: JsonOption = False
) -> None:
    """Every published version, the current one marked."""
    registry = _registry(db, models_dir, existing=True)
    versions = registry.list()
    current = registry.current()
    if as_json:
        print_json(
            {
                "current": current.version if current else None,
                "history": registry.history(),
                "versions": [v.to_dict() for v in versions],
            }
        )
        return
    table = Table("", "version", "model", "created", "members", "titles", "metrics")
    for v in versions:
        metrics = "; ".join(
            f"{p}: " + ", ".join(f"{k} {x:.3g}" for k, x in vals.items() if k != "members")
            for p, vals in v.metrics.items()
        )
        table.add_row(
            "*" if current and current.version == v.version else "",
            str(v.version),
            escape(v.model_name),
            v.created_at,
            str(v.data.get("members", "")),
            str(v.data.get("titles", "")),
            metrics,
        )
    console.print(table)


@models_app.command("rollback")
def models_rollback(db: DbOption = DEFAULT_DB, models_dir: ModelsDirOption = None) -> None:
    """Make the previously current version current again (a running server swaps within a second)."""
    version = _registry(db, models_dir, existing=True).rollback()
    console.print(f"current model version is now [bold]{version.version}[/] ({version.model_name})")


@models_app.command("activate")
def models_activate(
    version: Annotated[int, typer.Argument(min=1, help="The version to serve (see `limelight models list`).")],
    db: DbOption = DEFAULT_DB,
    models_dir: ModelsDirOption = None,
) -> None:
    """Make any published version current, e.g. the newer one again after a rollback (checked first:
    a version whose files are missing or changed is refused and nothing moves)."""
    found = _registry(db, models_dir, existing=True).activate(version)
    console.print(f"current model version is now [bold]{found.version}[/] ({found.model_name})")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.command("serve")(serve)
    app.command("train")(train)
    app.add_typer(keys_app, name="keys")
    app.add_typer(models_app, name="models")
