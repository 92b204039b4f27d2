"""Loaders for real public formats: each turns a file into `Rows` for the spine, naming file/row/column on error."""

from __future__ import annotations

from limelight.spine.loaders.netflix_engagement import read_report, read_report_frame
from limelight.spine.loaders.netflix_financials import (
    paid_memberships_near,
    read_financials,
    read_paid_memberships,
)

__all__ = [
    "paid_memberships_near",
    "read_financials",
    "read_paid_memberships",
    "read_report",
    "read_report_frame",
]
