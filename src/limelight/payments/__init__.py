"""Payments: a card-network rules gate, retry policies learned from logs, off-policy evaluation, a
simulator for the demo world, and involuntary-churn risk. See docs/payments.md."""

from limelight.payments.simulator import simulate_dunning, simulate_payment_logs, summarize

__all__ = ["simulate_dunning", "simulate_payment_logs", "summarize"]
