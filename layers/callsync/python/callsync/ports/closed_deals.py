"""What the closed-deals watcher reads from Salesforce (adapter: ``callsync.adapters.salesforce_context``)."""

from __future__ import annotations

from dataclasses import dataclass

from callsync.domain.closed_deals import Window


@dataclass(frozen=True)
class ChangeQuery:
    window: Window
    only_closed: bool
    loss_reason_field: str | None = None  # canonical API name, visible
    with_amount: bool = True
    with_account_name: bool = True
