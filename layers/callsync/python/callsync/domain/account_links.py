"""Account-link backfill rules: reading COMPANIES.jsonl lines and deciding which Accounts to fill.

- A line is a JSON object ``{"account_id": ID, "url": URL}`` or ``{"domain": DOMAIN, "url": URL}``.
  ``domain`` may be given as a website (``https://www.globex.com/about`` → ``globex.com``): it is
  normalised like an Account's Website (``contact_plan.website_domain``).
- An Account matches a line by id (15 or 18 characters: the first 15 compare, case-sensitively, as
  Salesforce ids do) or when the domain of its Website equals the line's domain. A domain line
  matches every such Account.
- The link field is filled only when it is empty (blank counts as empty). When two lines of a batch
  choose the same empty Account, the first line fills it and the later one finds it already set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from callsync.domain.contact_plan import website_domain
from callsync.models.backfill import AccountLink, InvalidLine, LineOutcome, LineStatus, LinkLine

URL_MAX = 255  # a Salesforce URL field holds at most 255 characters
_ACCOUNT_ID = re.compile(r"001[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?")
_KEYS = ("account_id", "domain", "url")


def parse_line(number: int, text: str) -> LinkLine | InvalidLine:
    """One line of the file as a ``LinkLine``, or an ``InvalidLine`` whose reason names what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return InvalidLine(line=number, reason=f"not JSON ({e.msg} at column {e.colno})")
    if not isinstance(data, dict):
        return InvalidLine(line=number, reason="a line is a JSON object with account_id or domain, and url")
    unknown = sorted(k for k in data if k not in _KEYS)
    if unknown:
        expected = "expected account_id or domain, and url"
        return InvalidLine(line=number, reason=f"unknown key(s) {', '.join(unknown)} ({expected})")
    account_id, domain, url = data.get("account_id"), data.get("domain"), data.get("url")
    if (account_id is None) == (domain is None):
        return InvalidLine(line=number, reason="give exactly one of account_id and domain")
    problem = _url_problem(url)
    if problem:
        return InvalidLine(line=number, reason=problem)
    if account_id is not None:
        if not isinstance(account_id, str) or not _ACCOUNT_ID.fullmatch(account_id.strip()):
            reason = f"account_id {account_id!r} is not an Account id (001..., 15 or 18 characters)"
            return InvalidLine(line=number, reason=reason)
        return LinkLine(line=number, account_id=account_id.strip(), url=str(url).strip())
    normalised = website_domain(domain) if isinstance(domain, str) else None
    if not normalised or "." not in normalised:
        return InvalidLine(line=number, reason=f"domain {domain!r} is not a domain name (e.g. globex.com)")
    return LinkLine(line=number, domain=normalised, url=str(url).strip())


def _url_problem(url: object) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return "url is missing (a https:// address)"
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"url {text!r} is not an http(s) address"
    if len(text) > URL_MAX:
        return f"url is {len(text)} characters long; a Salesforce URL field holds {URL_MAX}"
    return None


def parse_lines(lines: Iterable[str]) -> list[LinkLine | InvalidLine]:
    """Every non-blank line of the file, numbered from 1 as an editor shows them."""
    return [parse_line(number, text) for number, text in enumerate(lines, start=1) if text.strip()]


def same_id(a: str, b: str) -> bool:
    """Salesforce ids compare on their first 15 (case-sensitive) characters."""
    return a[:15] == b[:15]


@dataclass
class BatchPlan:
    """What one batch writes (Account id → URL) and each line's outcome so far.

    Lines whose Accounts get a write are ``pending`` until ``settle`` knows the write's result.
    """

    updates: dict[str, str] = field(default_factory=dict)
    settled: list[LineOutcome] = field(default_factory=list)
    pending: dict[int, tuple[str, ...]] = field(default_factory=dict)  # line → Account ids it writes


def plan_batch(lines: Sequence[LinkLine], accounts: Iterable[AccountLink]) -> BatchPlan:
    """Match each line to its Accounts and plan the fills of empty link fields (see module doc)."""
    found = list(accounts)
    by_domain: dict[str, list[AccountLink]] = {}
    for account in found:
        domain = website_domain(account.website)
        if domain:
            by_domain.setdefault(domain, []).append(account)
    plan = BatchPlan()
    for line in lines:
        if line.account_id is not None:
            matched = [a for a in found if same_id(a.id, line.account_id)]
        else:
            matched = by_domain.get(line.domain or "", [])
        if not matched:
            plan.settled.append(LineOutcome(line=line.line, status=LineStatus.NO_MATCH))
            continue
        ids = tuple(a.id for a in matched)
        empty = [a.id for a in matched if not (a.link or "").strip() and a.id not in plan.updates]
        if not empty:
            plan.settled.append(LineOutcome(line=line.line, status=LineStatus.ALREADY_SET, account_ids=ids))
            continue
        for account_id in empty:
            plan.updates[account_id] = line.url
        plan.pending[line.line] = tuple(empty)
    return plan


def settle(plan: BatchPlan, errors: Mapping[str, str | None]) -> list[LineOutcome]:
    """Every line's outcome once the writes are answered (``errors``: Account id → error, None = saved)."""
    outcomes = list(plan.settled)
    for line, ids in plan.pending.items():
        failed = [f"{i}: {errors[i]}" for i in ids if errors.get(i)]
        if failed:
            outcomes.append(LineOutcome(line=line, status=LineStatus.FAILED, account_ids=ids, reason="; ".join(failed)))
        else:
            outcomes.append(LineOutcome(line=line, status=LineStatus.FILLED, account_ids=ids))
    return sorted(outcomes, key=lambda o: o.line)
