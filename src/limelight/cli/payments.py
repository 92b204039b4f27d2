"""`limelight payments simulate|train|next-attempt|evaluate|churn`: smart retries inside card-network rules.

Thin: parse, call `limelight.payments`, render with Rich (or `--json`). Engines load lazily inside commands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from limelight.cli._common import (
    DEFAULT_DB,
    PARQUET_NAMES,
    DbOption,
    JsonOption,
    check_output,
    console,
    print_json,
    progress,
    whole_count,
)
from limelight.errors import InputError, NotFoundError

__all__ = ["register"]

payments_app = typer.Typer(
    name="payments",
    help="Recover failed renewals: network-rules gate, retry timing and routing learned from logs, OPE.",
    no_args_is_help=True,
)

# Seeds the CLI trains on when `simulate --policy smart` gets no model: disjoint from any `--seed` < 1000.
TRAIN_SEED_OFFSETS = (1000, 2000)


def _metrics_table(title: str, payload: dict[str, Any]) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in payload.items():
        table.add_row(k, f"{v:,.4g}" if isinstance(v, float) else str(v))
    return table


def _when(value: str | None, name: str) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{name} must be an ISO timestamp like 2025-03-01T08:00:00Z, got '{value}'"
        ) from None
    return ts  # no offset means UTC: `one_failed_charge` reads times as instants (`to_hours`)


@payments_app.command("simulate")
def simulate(
    policy: Annotated[
        str, typer.Option("--policy", help="smart or fixed (the strongest benchmark schedule).")
    ] = "smart",
    invoices: Annotated[int, typer.Option("--invoices", parser=whole_count, help="Failed renewals to simulate.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated invoices.")] = 101,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="A model from `payments train`; default: train on fresh simulated logs (seeds S+1000, S+2000).",
        ),
    ] = None,
    train_invoices: Annotated[
        int,
        typer.Option("--train-invoices", parser=whole_count, help="Failed renewals per training seed when no --model."),
    ] = 30_000,
    logs_out: Annotated[
        Path | None, typer.Option("--logs-out", help="Write the simulated attempts here (Parquet).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Simulate dunning for N failed renewals under a policy and report recovery."""
    import pandas as pd

    from limelight.payments.model import RetrySuccessModel
    from limelight.payments.policy import STRONGEST_FIXED, SmartRetryPolicy, fixed_policy
    from limelight.payments.simulator import simulate_dunning, summarize

    if policy not in ("smart", "fixed"):
        raise InputError(f"--policy must be smart or fixed, got '{policy}'")
    if invoices < 1 or invoices > 2_000_000:
        raise InputError(f"--invoices must be between 1 and 2000000, got {invoices}")
    if seed < 0:
        raise InputError(f"--seed must be >= 0, got {seed}")
    if policy == "fixed" and model is not None:  # the fixed schedule has no model: it was ignored
        raise InputError("--model is for --policy smart; the fixed schedule uses no model")
    if model is None and policy == "smart" and (train_invoices < 1 or train_invoices > 2_000_000):
        raise InputError(f"--train-invoices must be between 1 and 2000000, got {train_invoices}")
    if logs_out is not None:
        check_output(logs_out, option="--logs-out", names=PARQUET_NAMES, writes="Parquet")
    with progress() as bar:
        task = bar.add_task("simulating", total=3)
        if policy == "fixed":
            pol: Any = fixed_policy(STRONGEST_FIXED)
        else:
            if model is not None:
                fitted = RetrySuccessModel.load(model)
            else:
                logs = pd.concat([simulate_dunning(train_invoices, seed + off) for off in TRAIN_SEED_OFFSETS])
                bar.advance(task)
                fitted = RetrySuccessModel().fit(logs)
            pol = SmartRetryPolicy(fitted)
        bar.advance(task)
        attempts = simulate_dunning(invoices, seed, pol)
        bar.advance(task)
        summary = summarize(attempts)
    if logs_out is not None:
        logs_out.parent.mkdir(parents=True, exist_ok=True)
        attempts.to_parquet(logs_out, index=False)
    payload = {"policy": pol.name, "seed": seed, **summary.as_dict()}
    if json_output:
        print_json(payload)
        return
    console.print(_metrics_table(f"payments simulate ({pol.name}, seed {seed})", payload))


@payments_app.command("train")
def train(
    logs: Annotated[Path, typer.Option("--logs", help="payment_attempts as Parquet or CSV.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Model file (.npz); default: the registry beside --db.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Fit the retry success model on logged attempts and save it."""
    from limelight.payments.decide import default_model_path, load_attempts, train_from_logs

    if out is not None:
        check_output(out)  # an output it cannot write: before reading anything
    attempts = load_attempts(logs)
    if out is None and not db.exists():  # the default model file sits in the store's registry
        raise NotFoundError(f"the store {db} does not exist; give --out for the model file, or --db of a spine")
    target = out if out is not None else default_model_path(db)
    check_output(target)
    model, path = train_from_logs(attempts, target)
    payload = {
        "model": str(path),
        "retries": model.n_train_,
        "retry_success_rate": round(model.train_success_rate_, 4),
    }
    if json_output:
        print_json(payload)
        return
    console.print(_metrics_table("payments train", payload))


@payments_app.command("next-attempt")
def next_attempt(
    decline_code: Annotated[
        str, typer.Option("--decline-code", help="Processor (Stripe) or network decline code.")
    ],
    amount: Annotated[float, typer.Option("--amount", help="Invoice amount.")],
    currency: Annotated[str, typer.Option("--currency")] = "USD",
    failed_at: Annotated[
        str | None, typer.Option("--failed-at", help="When the last attempt failed (ISO, UTC); default now.")
    ] = None,
    first_failed_at: Annotated[
        str | None,
        typer.Option("--first-failed-at", help="When the renewal first failed; default --failed-at."),
    ] = None,
    attempt_number: Annotated[
        int, typer.Option("--attempt-number", help="Attempts made so far on this invoice.")
    ] = 1,
    merchant_advice_code: Annotated[
        str, typer.Option("--mac", help="Mastercard merchant advice code, if any.")
    ] = "",
    card_brand: Annotated[str, typer.Option("--card-brand")] = "visa",
    funding_type: Annotated[
        str, typer.Option("--funding-type", help="credit, debit, prepaid or unknown.")
    ] = "unknown",
    issuer_country: Annotated[str, typer.Option("--issuer-country")] = "US",
    card_attempts_30d: Annotated[
        int | None, typer.Option("--card-attempts-30d", help="Attempts on this card in the last 30 days.")
    ] = None,
    card_updated: Annotated[
        bool, typer.Option("--card-updated", help="The member entered new card data since the failure.")
    ] = False,
    cancelled: Annotated[bool, typer.Option("--cancelled", help="The member has cancelled.")] = False,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", help="Model file; default: the registry beside --db, else the fixed schedule."
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Decide the next step for one failed charge: when to retry and through which processor, or stop."""
    from limelight.payments.charges import one_failed_charge
    from limelight.payments.decide import default_model_path, next_attempts
    from limelight.payments.model import RetrySuccessModel

    if funding_type not in ("credit", "debit", "prepaid", "unknown"):
        raise InputError(f"--funding-type must be credit, debit, prepaid or unknown, got '{funding_type}'")
    charges = one_failed_charge(
        failed_at=_when(failed_at, "--failed-at"),
        first_failed_at=_when(first_failed_at, "--first-failed-at") if first_failed_at else None,
        attempt_number=attempt_number,
        card_attempts_30d=card_attempts_30d,
        cancelled=cancelled,
        name=lambda field: "--" + field.replace("_", "-"),
        decline_code=decline_code,
        amount=amount,
        currency=currency.upper(),
        merchant_advice_code=merchant_advice_code,
        card_brand=card_brand,
        funding_type=funding_type,
        issuer_country=issuer_country,
        card_updated=card_updated,
    )
    path = model if model is not None else default_model_path(db)
    fitted = RetrySuccessModel.load(path) if (model is not None or path.exists()) else None
    row: dict[str, Any] = {str(k): v for k, v in next_attempts(charges, fitted).iloc[0].to_dict().items()}
    row.pop("invoice_id", None)
    row["retry_at"] = (
        None
        if row["retry_at"] is None or row["retry_at"] != row["retry_at"]
        else f"{row['retry_at']:%Y-%m-%dT%H:%M:%SZ}"
    )
    row = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    row = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
    if json_output:
        print_json(row)
        return
    console.print(_metrics_table("payments next-attempt", row))


@payments_app.command("evaluate")
def evaluate(
    logs: Annotated[Path, typer.Option("--logs", help="Logs of a randomised logging policy (Parquet/CSV).")],
    model: Annotated[
        Path,
        typer.Option("--model", help="The model of the smart policy to evaluate (also the DR reward model)."),
    ],
    json_output: JsonOption = False,
) -> None:
    """Off-policy estimates (IPS, SNIPS, DR, DR with shrinkage; 95% CIs) of the smart policy's first-retry recovery."""
    from limelight.payments.decide import load_attempts
    from limelight.payments.model import RetrySuccessModel
    from limelight.payments.ope import evaluate_first_retry
    from limelight.payments.policy import SmartRetryPolicy

    fitted = RetrySuccessModel.load(model)
    result = evaluate_first_retry(load_attempts(logs), SmartRetryPolicy(fitted), fitted)
    if json_output:
        print_json(result)
        return
    table = Table(title="payments evaluate: first-retry recovery per failed invoice")
    for col in ("estimator", "value", "95% CI", "effective n"):
        table.add_column(col)
    for name in ("ips", "snips", "dr", "dros"):
        e = result[name]
        table.add_row(
            name, f"{e['value']:.4f}", f"[{e['ci_low']:.4f}, {e['ci_high']:.4f}]", f"{e['effective_n']:.0f}"
        )
    console.print(table)
    console.print(f"logging policy measured: {result['logging_policy_value']:.4f}; "
                  f"{result['matched_decisions']:,} logged first retries match the new policy's choice")
    for warning in result["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")


@payments_app.command("churn")
def churn(
    month: Annotated[str, typer.Option("--month", help="Month to score, YYYY-MM (renewals due in it).")],
    logs: Annotated[
        Path | None, typer.Option("--logs", help="payment_attempts file; default: the spine at --db.")
    ] = None,
    top: Annotated[int, typer.Option("--top", help="How many at-risk members to list.")] = 20,
    cards: Annotated[
        Path | None,
        typer.Option(
            "--cards",
            help="Cards file (card_id, expires_at): adds the card's expiry as a feature; default: the spine's "
            "cards table when --logs is not given.",
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
    json_output: JsonOption = False,
) -> None:
    """Members whose renewal this month is at risk of lapsing for a payment failure, with a temporal check."""
    from limelight.payments.churn import ChurnModel, churn_inputs, churn_report
    from limelight.payments.decide import load_attempts, load_cards

    if top < 1:
        raise InputError(f"--top must be >= 1, got {top}")
    card_table = load_cards(cards) if cards is not None else None
    if logs is not None:
        attempts, viewing = load_attempts(logs, require=("member_id",)), None
    else:
        from limelight.spine.store import Store

        if not Path(db).exists():
            raise InputError(f"--db must be an existing spine file (or pass --logs), got '{db}'")
        with Store(db, read_only=True) as store:
            attempts, viewing, spine_cards = churn_inputs(store)
        card_table = card_table if card_table is not None else spine_cards
    report = churn_report(attempts, month, viewing=viewing, model=ChurnModel(), top=top, cards=card_table)
    if json_output:
        print_json(report)
        return
    console.print(_metrics_table(f"involuntary churn, {month}", report["evaluation"]))
    table = Table(title="members most at risk")
    for col in ("member_id", "risk"):
        table.add_column(col)
    for r in report["at_risk"]:
        table.add_row(escape(str(r["member_id"])), f"{r['risk']:.3f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(payments_app, name="payments")
