"""Run the real `limelight` entry point in-process and capture its exit code, stdout and stderr."""

from __future__ import annotations

import pytest

from limelight.cli.app import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
