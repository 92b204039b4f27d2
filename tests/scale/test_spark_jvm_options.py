"""The driver JVM's options for local mode: the throughput collector and an optional AppCDS archive."""

from __future__ import annotations

from pathlib import Path

from limelight.spine.engines import SPARK_LOCAL_SETTINGS, java_options, scratch_warehouse


def test_local_mode_runs_the_driver_on_the_parallel_collector_with_huge_pages() -> None:
    options = SPARK_LOCAL_SETTINGS["spark.driver.extraJavaOptions"].split()
    assert "-XX:+UseParallelGC" in options
    assert "-XX:+UseTransparentHugePages" in options


def test_without_an_archive_the_options_are_left_as_they_are() -> None:
    assert java_options("-XX:+UseParallelGC", None) == "-XX:+UseParallelGC"
    assert java_options("-XX:+UseParallelGC", "") == "-XX:+UseParallelGC"


def test_a_missing_archive_is_written_at_exit_into_a_folder_made_for_it(tmp_path: Path) -> None:
    archive = tmp_path / "cache" / "spark.jsa"
    options = java_options("-XX:+UseParallelGC", archive)
    assert options.split() == ["-XX:+UseParallelGC", f"-XX:ArchiveClassesAtExit={archive}"]
    assert archive.parent.is_dir()


def test_an_existing_archive_is_mapped_not_rewritten(tmp_path: Path) -> None:
    archive = tmp_path / "spark.jsa"
    archive.write_bytes(b"CDS")
    assert java_options("", archive) == f"-XX:SharedArchiveFile={archive}"


def test_an_empty_archive_left_by_a_killed_run_is_written_again(tmp_path: Path) -> None:
    archive = tmp_path / "spark.jsa"
    archive.touch()
    assert java_options("", archive) == f"-XX:ArchiveClassesAtExit={archive}"


def test_the_spark_warehouse_folder_is_removed_when_the_process_exits(monkeypatch) -> None:
    import atexit

    at_exit: list = []
    monkeypatch.setattr(atexit, "register", lambda fn, *args, **kwargs: at_exit.append((fn, args, kwargs)))
    folder = Path(scratch_warehouse())
    assert folder.is_dir() and folder.name.startswith("limelight-spark-warehouse-")
    (folder / "left-over").mkdir()  # Spark may write into it
    for fn, args, kwargs in at_exit:
        fn(*args, **kwargs)
    assert not folder.exists()


def test_local_mode_settings_stay_off_a_cluster_driver() -> None:
    """Under spark-submit with a cluster master, a loopback driver address would strand the executors;
    only UTC, Arrow and microsecond Parquet timestamps are set there."""
    from limelight.spine.engines import SPARK_EVERYWHERE, session_settings

    local = session_settings(False, lambda key: False)
    assert local["spark.driver.host"] == "127.0.0.1" and local["spark.ui.enabled"] == "false"
    assert "spark.sql.warehouse.dir" in local
    cluster = session_settings(True, lambda key: False)
    assert set(cluster) == set(SPARK_EVERYWHERE)
    assert cluster["spark.sql.session.timeZone"] == "UTC"
    # and what the launch configuration already sets is never overridden
    assert "spark.sql.session.timeZone" not in session_settings(True, lambda key: key == "spark.sql.session.timeZone")


def test_a_local_driver_logs_errors_only_and_a_cluster_keeps_its_own_log_configuration() -> None:
    """Spark's default profile printed a banner and WARN lines on every CLI run; a local JVM now reads the
    packaged log4j2 file (errors only), a cluster driver or a launch that sets its own JVM options does not."""
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    from limelight.spine.engines import session_settings

    options = session_settings(False, lambda key: False)["spark.driver.extraJavaOptions"]
    flag = next(o for o in options.split() if o.startswith("-Dlog4j2.configurationFile="))
    config = Path(url2pathname(urlparse(flag.split("=", 1)[1]).path)).read_text(encoding="utf-8")
    assert "rootLogger.level = error" in config
    assert "spark.driver.extraJavaOptions" not in session_settings(True, lambda key: False)
    assert "spark.driver.extraJavaOptions" not in session_settings(False, lambda k: k == "spark.driver.extraJavaOptions")
