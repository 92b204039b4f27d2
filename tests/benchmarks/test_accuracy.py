"""The accuracy benchmark runs several split seeds in one command and reports each and their median."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench_scripts import load_benchmark
from limelight.personalize.testing import clustered_frame


def test_every_seed_gets_its_own_row_and_the_median_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ratings = tmp_path / "ratings.csv"
    clustered_frame(n_members=40).rename(columns={"member_id": "userId", "title_id": "movieId"}).to_csv(
        ratings, index=False
    )
    out = tmp_path / "accuracy.json"
    load_benchmark("accuracy").main(["--ratings", str(ratings), "--protocols", "random", "--models", "popularity,ease",
                       "--seeds", "1,2,3", "--out", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert sorted((r["model"], r["seed"]) for r in rows) == sorted(
        (m, s) for m in ("popularity", "ease") for s in (1, 2, 3)
    )
    values = sorted(r["metrics"]["ndcg@10"]["mean"] for r in rows if r["model"] == "ease")
    printed = [line for line in capsys.readouterr().out.splitlines() if "median" in line and "ease" in line]
    assert printed and f"median {values[1]:.4f}" in printed[0]
