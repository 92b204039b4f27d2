"""Where the spine's pipelines run: an Ibis backend on DuckDB (the store) or on Apache Spark (Parquet).

The pipelines in `limelight.spine.pipelines` are plain Ibis expressions; this module only hands
them a backend whose tables carry the spine's names. On DuckDB that is the store's file (or a
folder of Parquet files); on Spark it is a local-mode session (or whatever session the caller
built with `spark-submit`) with one temporary view per Parquet file. Paths may be fsspec /
object-store URLs (`s3://`, `gs://`, `abfs://`): they are passed through to the engine untouched.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from limelight.errors import ConfigError, InputError, NotFoundError
from limelight.spine.schema import TABLE_ORDER

if TYPE_CHECKING:
    import ibis
    from pyspark.sql import SparkSession

__all__ = [
    "CDS_ENV",
    "ENGINES",
    "SPARK_EVERYWHERE",
    "SPARK_LOCAL_SETTINGS",
    "Engine",
    "broadcast_small",
    "connect",
    "java_options",
    "patch_duckdb_for_ibis",
    "resolve_engine",
    "session_settings",
    "spark_session",
]

log = logging.getLogger(__name__)

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")


def patch_duckdb_for_ibis() -> None:
    """Let Ibis 12 drive DuckDB 2: it still calls the cursor methods DuckDB 2 renamed.

    DuckDB 2 renamed `fetch_arrow_table` to `to_arrow_table` and `fetch_record_batch` to
    `to_arrow_reader` (and warns that DB-API arrow output copies the rows, which is what Ibis
    asks for anyway). Adding the old names back is idempotent and changes nothing else.
    """
    import warnings

    import duckdb

    cls: Any = duckdb.DuckDBPyConnection
    if not hasattr(cls, "fetch_arrow_table"):

        def fetch_arrow_table(self: Any, *args: Any, **kwargs: Any) -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return self.to_arrow_table()

        cls.fetch_arrow_table = fetch_arrow_table
    if not hasattr(cls, "fetch_record_batch"):

        def fetch_record_batch(self: Any, rows_per_batch: int = 1_000_000) -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return self.to_arrow_reader(batch_size=rows_per_batch)

        cls.fetch_record_batch = fetch_record_batch


def resolve_engine(engine: str | None) -> Engine:
    """The engine asked for, else `settings.engine` (`LIMELIGHT_ENGINE`), checked."""
    if engine is None:
        from limelight.settings import get_settings

        engine = get_settings().engine
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got '{engine}'")
    return engine  # type: ignore[return-value]


def _is_url(path: str | Path) -> bool:
    return "://" in str(path)


def _parquet_sources(parquet_dir: str | Path) -> dict[str, str]:
    """Spine table name → Parquet path (a file `<name>.parquet` or a folder `<name>/` of parts)."""
    root = str(parquet_dir).rstrip("/")
    found: dict[str, str] = {}
    if _is_url(root):
        import fsspec

        fs, _, _ = fsspec.get_fs_token_paths(root)
        listing = {p.rstrip("/").rsplit("/", 1)[-1]: p for p in fs.ls(root, detail=False)}
        protocol = root.split("://", 1)[0]
        for name in TABLE_ORDER:
            for candidate in (f"{name}.parquet", name):
                if candidate in listing:
                    path = listing[candidate]
                    found[name] = path if "://" in path else f"{protocol}://{path}"
                    break
        return found
    base = Path(root)
    if not base.is_dir():
        raise NotFoundError(f"the Parquet folder {base} does not exist")
    from limelight.spine.loaders.tabular import refuse_unfinished_write

    for name in TABLE_ORDER:
        file = base / f"{name}.parquet"
        folder = base / name
        if file.exists():
            refuse_unfinished_write(file)  # a Spark "file" is a folder of parts too
            found[name] = str(file)
        elif folder.is_dir() and any(folder.rglob("*.parquet")):
            # a job still writing (or killed) leaves _temporary/ without _SUCCESS: both engines read only
            # the committed half of it, without a word
            refuse_unfinished_write(folder)
            found[name] = str(folder)
    return found


#: The Hive partition column of month-partitioned event tables (`month=YYYY-MM` folders): the month
#: of the event's own time column; `views_per_window` prunes by it when a table has it.
MONTH_COLUMN = "month"


def _hive_partitioned(path: str) -> bool:
    """Whether a table folder holds Hive-style partition folders (`month=2026-10/…`) rather than parts."""
    if path.endswith(".parquet"):
        return False
    import fsspec

    fs, _, (root,) = fsspec.get_fs_token_paths(path)
    return any("=" in entry.rstrip("/").rsplit("/", 1)[-1] for entry in fs.ls(root, detail=False))


#: Local-mode settings `spark_session` starts with, each for a measured reason on a 2-core machine
#: (docs/benchmarks/scale.md). A setting already present in the Spark configuration
#: (`spark-submit --conf`, `spark-defaults.conf`) wins over these, and none is applied to a
#: session that already exists.
SPARK_LOCAL_SETTINGS: dict[str, str] = {
    # No web UI: a port and a few threads the benchmark and the tests do not need.
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # One shuffle partition per core: the default 200 means 200 tiny tasks per stage, each with its
    # own scheduling and file overhead, on two cores (AQE coalesces them but still plans 200 map
    # outputs). A cluster sets its own (2–3 × its cores).
    "spark.sql.shuffle.partitions": "2",
    # Loopback only: no DNS lookup of the host name, nothing listening outside.
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    # Timestamps are UTC everywhere in limelight, as on DuckDB.
    "spark.sql.session.timeZone": "UTC",
    # Arrow between the JVM and Python (toPandas, createDataFrame; scoring uses mapInArrow).
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Parquet timestamps as DuckDB writes them (INT64 microseconds), not Spark's legacy INT96.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # The interactions aggregate has millions of (member, title) keys: the "two-level" fast hash
    # map in front of the partial aggregate misses on nearly every row and then falls through to
    # the regular map. Without it the map side of build-interactions took 22.8 s of CPU instead of
    # 30.6 s at 10M events.
    "spark.sql.codegen.aggregate.map.twolevel.enabled": "false",
    # Shuffle files stay on this machine's disk (page cache): compressing them with lz4 saves no
    # network. Measured at 10M events it made no difference beyond noise (interactions cold
    # 25.8 s → 23.7 s, warm 18.6 s → 20.0 s); off because it can only cost CPU here. On a cluster
    # keep the default (true).
    "spark.shuffle.compress": "false",
    "spark.shuffle.spill.compress": "false",
    # In local mode the driver is the executor: its heap holds the hash aggregates. 2 GiB keeps
    # the tests small; the benchmark passes 3g (nothing spilled at 10M events).
    "spark.driver.memory": "2g",
    # The throughput collector for a batch JVM on two cores: G1's concurrent refinement and marking
    # threads compete with the two task threads, and Spark's aggregation pages (long[] of
    # megabytes) are "humongous" objects to G1. Transparent huge pages for the heap (the kernel
    # gives them only on request, `madvise`): the aggregation maps are hundreds of MB read at
    # random, and 2 MB pages cut the TLB misses. A/Bs in docs/benchmarks/scale.md. Where the
    # kernel has THP off, the JVM warns once and runs on 4 KB pages.
    "spark.driver.extraJavaOptions": "-XX:+UseParallelGC -XX:+UseTransparentHugePages",
}

#: Environment variable naming a JVM class-data-sharing archive for the Spark driver (AppCDS):
#: when the file exists the JVM maps Spark's ~10,000 classes from it instead of searching 250
#: jars and verifying each class; when it does not, the JVM writes it on exit (one run pays).
CDS_ENV = "LIMELIGHT_SPARK_CDS"


#: the settings a session gets wherever it runs; every other one of `SPARK_LOCAL_SETTINGS` is for a
#: local JVM only (a cluster's driver must not bind to loopback, keeps its UI, compresses its shuffle)
SPARK_EVERYWHERE = (
    "spark.sql.session.timeZone",
    "spark.sql.execution.arrow.pyspark.enabled",
    "spark.sql.parquet.outputTimestampType",
)


def _launched_on_cluster() -> bool:
    """Whether `spark-submit` launched this driver with a master that is not local (YARN, k8s, standalone)."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return False
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    master = SparkConf().get("spark.master", "local")
    return not str(master).startswith("local")


def session_settings(on_cluster: bool, configured: Callable[[str], bool]) -> dict[str, str]:
    """What `spark_session` sets on a session it creates: `SPARK_LOCAL_SETTINGS` for a local JVM,
    only `SPARK_EVERYWHERE` under a cluster master; never a key the launch configuration has."""
    settings = {
        key: value
        for key, value in SPARK_LOCAL_SETTINGS.items()
        if not configured(key) and (key in SPARK_EVERYWHERE or not on_cluster)
    }
    if not on_cluster and not configured("spark.sql.warehouse.dir"):
        settings["spark.sql.warehouse.dir"] = scratch_warehouse()
    if "spark.driver.extraJavaOptions" in settings:  # a local JVM: errors only in its log (no banner, no WARNs)
        log_config = Path(str(resources.files("limelight.spine").joinpath("spark-log4j2.properties")))
        settings["spark.driver.extraJavaOptions"] += f" -Dlog4j2.configurationFile={log_config.as_uri()}"
    return settings


def _configured(key: str) -> bool:
    """Whether the JVM that launched this driver (`spark-submit`) already sets `key`.

    A plain `python` run has no such JVM (pyspark starts one for the session): nothing is set.
    """
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return False
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    return bool(SparkConf().contains(key))


def java_options(base: str, cds_archive: str | Path | None) -> str:
    """`base` JVM options plus the class-data-sharing flag for `cds_archive` (use it, or write it).

    The archive belongs to one JDK build and one Spark class path: a stale one is ignored by the
    JVM with a warning (sharing is `auto`), never an error. The file is written at the JVM's exit,
    so the first run creates it and every later run maps it; let one job create it before several
    start at once (two JVMs that both find it missing would both write it).
    """
    if cds_archive is None or str(cds_archive) == "":
        return base
    archive = Path(cds_archive).expanduser()
    if archive.is_file() and archive.stat().st_size > 0:
        flag = f"-XX:SharedArchiveFile={archive}"
    else:
        archive.parent.mkdir(parents=True, exist_ok=True)
        flag = f"-XX:ArchiveClassesAtExit={archive}"
    return f"{base} {flag}".strip()


def scratch_warehouse() -> str:
    """A fresh temporary folder for Spark's warehouse, removed when this process exits.

    limelight keeps no managed tables (it reads and writes Parquet by path), but Spark wants a
    warehouse folder; without the removal every session left an empty folder in the temp dir.
    """
    folder = tempfile.mkdtemp(prefix="limelight-spark-warehouse-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def spark_session(
    app_name: str = "limelight",
    *,
    master: str | None = None,
    cds_archive: str | Path | None = None,
    **conf: str,
) -> SparkSession:
    """A Spark session set up for local mode on a small machine (`SPARK_LOCAL_SETTINGS`), UTC.

    When a session already exists (under `spark-submit`, on a managed cluster or in a test run)
    it is reused as it is; `master` and `conf` apply only to a session this call creates, and a
    setting the Spark configuration already has (`spark-submit --conf`) is not overridden.
    `cds_archive` (default: the `LIMELIGHT_SPARK_CDS` environment variable) is a class-data-sharing
    archive for the driver JVM: used when it exists, written on exit when it does not.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is in the [spark] extra
        raise ConfigError("the Spark engine needs pyspark: pip install 'limelight[spark]'") from exc

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    on_cluster = _launched_on_cluster()
    if not on_cluster:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Executors' Python must be this interpreter so that they can import limelight.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    settings = session_settings(on_cluster, _configured)
    settings.update(conf)
    archive = cds_archive if cds_archive is not None else os.environ.get(CDS_ENV)
    if archive and not _configured("spark.driver.extraJavaOptions"):
        settings["spark.driver.extraJavaOptions"] = java_options(settings.get("spark.driver.extraJavaOptions", ""), archive)
    builder = SparkSession.builder.appName(app_name)
    if master is not None or not _configured("spark.master"):
        builder = builder.master(master or "local[2]")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if not on_cluster:  # a cluster driver keeps the log level its own configuration sets
        session.sparkContext.setLogLevel("ERROR")
    log.info("started Spark %s (%s)", session.version, session.sparkContext.master)
    return session


def broadcast_small(backend: Any, table: ibis.Table, name: str) -> ibis.Table:
    """`table` marked for a broadcast join on Spark; unchanged on any other backend.

    For catalog-sized relations (thousands of titles) joined to event-sized ones. Spark estimates
    a join's size as the product of its inputs' sizes, so a small table built from a self-join
    (titles → parent → grandparent) looks terabytes large and the events get shuffled and sorted
    for a sort-merge join. Here the relation becomes a temporary view wrapped in a broadcast hint,
    which Spark keeps through the joins and projections above it. The SQL, and so the rows, are
    the same; only the physical join changes.
    """
    if getattr(backend, "name", None) != "pyspark":
        return table
    import hashlib

    from pyspark.sql import functions as F

    sql = str(backend.compile(table))
    view = f"_limelight_{name}_{hashlib.sha1(sql.encode()).hexdigest()[:12]}"
    F.broadcast(backend._session.sql(sql)).createOrReplaceTempView(view)
    result: ibis.Table = backend.table(view)
    return result


def connect(
    engine: str | None = None,
    *,
    db: str | Path | None = None,
    parquet_dir: str | Path | None = None,
    spark: SparkSession | None = None,
    tables: tuple[str, ...] | list[str] | None = None,
) -> ibis.BaseBackend:
    """An Ibis backend whose tables are the spine's, on the engine asked for.

    - `duckdb` with `db`: the store's DuckDB file, read-only.
    - `duckdb` with `parquet_dir`: an in-memory DuckDB with one view per Parquet table.
    - `spark` with `parquet_dir`: a Spark session (local mode unless one is active) with one
      temporary view per Parquet table. With `db` instead, the store's tables are read through a
      Parquet export into a temporary folder (fine for small stores; large ones should export).

    `tables` limits the Parquet views to the spine tables a job needs (each view costs Spark a
    schema read); by default every spine table found is registered.
    """
    import ibis

    chosen = resolve_engine(engine)
    patch_duckdb_for_ibis()
    if db is None and parquet_dir is None:
        from limelight.settings import get_settings

        db = get_settings().db
    if chosen == "duckdb":
        if parquet_dir is None:
            assert db is not None
            if _is_url(db):
                return ibis.duckdb.connect(str(db), read_only=True)
            from limelight.spine.store import connect

            # the store's one guarded open (missing, a folder, a foreign file, a held lock: one sentence)
            return ibis.duckdb.from_connection(connect(db, read_only=True))
        backend = ibis.duckdb.connect()
        if _is_url(parquet_dir) and not str(parquet_dir).startswith("file://"):
            # object storage needs DuckDB's httpfs (downloaded once: a machine without the internet must have
            # it installed already); a file:// URL is a local path and needs nothing
            backend.raw_sql("INSTALL httpfs; LOAD httpfs;")
        for name, path in _parquet_sources(parquet_dir).items():
            if tables is not None and name not in tables:
                continue
            if _hive_partitioned(path):  # the partition column (e.g. month) comes from the folder names
                backend.read_parquet(f"{path}/**/*.parquet", table_name=name, hive_partitioning=True)
            else:
                backend.read_parquet(path if path.endswith(".parquet") else f"{path}/*.parquet", table_name=name)
        return backend

    session = spark if spark is not None else spark_session()
    backend = ibis.pyspark.connect(session)
    if parquet_dir is None:
        assert db is not None
        parquet_dir = _export_store(db)
    for name, path in _parquet_sources(parquet_dir).items():
        if tables is not None and name not in tables:
            continue
        session.read.parquet(path).createOrReplaceTempView(name)
    return backend


def _export_store(db: str | Path) -> Path:
    from limelight.spine.store import Store

    if not Path(db).exists():
        raise NotFoundError(f"the store {db} does not exist; run 'limelight ingest' or 'limelight demo' first")
    folder = Path(tempfile.mkdtemp(prefix="limelight-spark-export-"))
    # Spark reads it lazily for the whole session: removed when this process ends, not before
    atexit.register(shutil.rmtree, folder, True)
    with Store(db, read_only=True) as store:
        store.export_parquet(folder)
    log.info("exported %s to %s for Spark", db, folder)
    return folder


def table_names(backend: Any) -> list[str]:
    """Spine tables the backend can see."""
    listed = set(backend.list_tables())
    return [name for name in TABLE_ORDER if name in listed]
