"""``ports.account_links.AccountLinkStore`` on the Salesforce REST API.

- ``find``: ``SELECT Id, Website, <field> FROM Account WHERE Id IN (...)`` and ``... WHERE Website LIKE
  '%domain%' OR ...``, every value escaped with ``format_soql``; statements are cut so that each
  subrequest URI stays far below Salesforce's 16 KB, and sent as query subrequests of one composite
  request (at most 5 per composite). A batch of 200 lines needs one composite.
- ``fill``: ``PATCH composite/sobjects`` with allOrNone false, 200 records per request; each record's
  result is returned on its own (a refused Account does not stop the others).
- ``api_usage``: the ``Sforce-Limit-Info`` of the last answer (``api-usage=USED/ALLOCATION``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from simple_salesforce.format import format_soql

from callsync.adapters.salesforce_answers import reads_answers
from callsync.adapters.salesforce_api import all_records, query_subrequest
from callsync.adapters.salesforce_errors import error_items, raise_for_subresponses
from callsync.errors import InvalidSettings
from callsync.models.api_budget import ApiUsage
from callsync.models.backfill import AccountLink
from callsync.ports import SalesforceApi

STATEMENT_CHARS = 6000  # one statement's SOQL stays below this: its URI (encoded) far below 16 KB
QUERIES_PER_COMPOSITE = 5  # Salesforce: at most 5 query subrequests in one composite request
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class UsageReportingApi(SalesforceApi, Protocol):
    @property
    def api_usage(self) -> ApiUsage | None:
        """The latest ``Sforce-Limit-Info`` reading of this client (None before the first answer)."""


def _statements(field: str, conditions: list[str]) -> list[str]:
    """As few ``SELECT ... FROM Account WHERE c1 OR c2 ...`` as keep each below ``STATEMENT_CHARS``."""
    head = f"SELECT Id, Website, {field} FROM Account WHERE "  # noqa: S608 (field name checked, values escaped)
    statements: list[str] = []
    chunk: list[str] = []
    for condition in conditions:
        if chunk and len(head) + len(" OR ".join([*chunk, condition])) > STATEMENT_CHARS:
            statements.append(head + " OR ".join(chunk))
            chunk = []
        chunk.append(condition)
    if chunk:
        statements.append(head + " OR ".join(chunk))
    return statements


def _id_conditions(account_ids: Sequence[str]) -> list[str]:
    """``Id IN (...)`` in slices of 100 ids (each about 2 KB of SOQL)."""
    ids = sorted(set(account_ids))
    return [format_soql("Id IN {}", ids[i : i + 100]) for i in range(0, len(ids), 100)]


class SalesforceAccountLinks:
    def __init__(self, api: UsageReportingApi) -> None:
        self._api = api

    @property
    def api_requests(self) -> int:
        return self._api.api_requests

    @property
    def api_usage(self) -> tuple[int, int] | None:
        usage = self._api.api_usage
        return (usage.used, usage.limit) if usage is not None else None

    @staticmethod
    def _checked(field: str) -> str:
        if not _FIELD_NAME.fullmatch(field):
            raise InvalidSettings(f"account_link_field {field!r} is not a Salesforce field API name")
        return field

    def statements(self, field: str, account_ids: Sequence[str], domains: Sequence[str]) -> list[str]:
        conditions = _id_conditions(account_ids)
        conditions += [format_soql("Website LIKE '%{:like}%'", d) for d in sorted(set(domains))]
        return _statements(self._checked(field), conditions)

    @reads_answers("the Account link lookup")
    def find(self, field: str, account_ids: Sequence[str], domains: Sequence[str]) -> list[AccountLink]:
        statements = self.statements(field, account_ids, domains)
        found: dict[str, AccountLink] = {}
        for start in range(0, len(statements), QUERIES_PER_COMPOSITE):
            subs = [
                query_subrequest(f"q{start + i}", soql)
                for i, soql in enumerate(statements[start : start + QUERIES_PER_COMPOSITE])
            ]
            answers = self._api.composite(subs)
            raise_for_subresponses(answers)
            for answer in answers:
                for record in all_records(self._api, answer.get("body") or {}):
                    link = record.get(field)
                    found.setdefault(
                        str(record["Id"]),
                        AccountLink(
                            id=str(record["Id"]),
                            website=record.get("Website"),
                            link=None if link is None else str(link),
                        ),
                    )
        return list(found.values())

    def fill(self, field: str, updates: Mapping[str, str]) -> dict[str, str | None]:
        field = self._checked(field)
        ids = list(updates)
        records: list[dict[str, Any]] = [
            {"attributes": {"type": "Account"}, "Id": account_id, field: updates[account_id]} for account_id in ids
        ]
        results = self._api.update_records(records, all_or_none=False)
        outcome: dict[str, str | None] = {}
        for account_id, result in zip(ids, results, strict=True):
            if result.get("success"):
                outcome[account_id] = None
                continue
            items = error_items(result.get("errors") or [])
            outcome[account_id] = (
                "; ".join(f"{i.get('errorCode')}: {i.get('message')}" for i in items) or "refused without a reason"
            )
        return outcome
