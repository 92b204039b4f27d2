"""How comparables read names: counts over the 2024H2 back-test candidates (384 titles of the 2024H2 report).

    .venv/bin/python benchmarks/valuation_comparables_audit.py
    PYTHONPATH=/tmp/old/src .venv/bin/python benchmarks/valuation_comparables_audit.py   # an older tree

Fits the model on the reports that ended before 2024-07-01 (the same pool for old and new code), finds
each candidate's five comparables, and counts: candidates with a previous-season comparable, comparables
whose reason was a language group that names no language, and film candidates linked to a franchise.
"""
import pandas as pd

from limelight.valuation.backtest import candidates_from_report, parse_period
from limelight.valuation.comparables import find_comparables
from limelight.valuation.data import default_catalog, default_report_paths, default_top10, load_reports
from limelight.valuation.features import normalize_candidates
from limelight.valuation.model import ValuationModel

reports = load_reports(default_report_paths())
period = parse_period("2024-07-01:2024-12-31")
ends = pd.to_datetime(reports["period_end"])
history = reports[ends < period[0]]
cat = default_catalog()
model = ValuationModel(top10=default_top10(), catalog=cat).fit(history)
cand = candidates_from_report(reports[ends == period[1]], period)
norm = normalize_candidates(cand, window_end=period[1])
comps = find_comparables(norm, model.history_titles_, catalog=cat, k=5, reports=model.builder_.history)
prev = sum(any("previous season" in c.reason for c in cs) for cs in comps)
lat = sum(sum("latin_other" in c.reason or "in_other" in c.reason for c in cs) for cs in comps)
fr = [(t, c.title) for t, cs in zip(norm["title_name"], comps) for c in cs if "same franchise" in c.reason or "previous season" in c.reason]
films_fr = [(t, c) for (t, c), k in zip(fr, [norm.set_index("title_name").loc[t, "kind"] for t, _ in fr]) if k == "film"]
print("candidates with a previous-season comparable:", prev, "; comparables said same latin_other/in_other language:", lat)
print("film candidates linked by franchise:", len(films_fr), films_fr[:12])
