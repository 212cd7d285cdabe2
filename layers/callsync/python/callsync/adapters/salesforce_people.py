"""``PeopleWriter`` over ``ports.SalesforceApi``: Account lookup, people lookup, Contact/Lead creation.

- ``create``: one sObject Collections request (``allOrNone: false``) for every new Contact
  and Lead. A record refused by a duplicate rule comes back with DUPLICATES_DETECTED. When the
  error names the matching records (``duplicateResult``/``duplicateResut`` →
  ``matchResults[].matchRecords[].record.Id``; single-record saves do, collections do not)
  that record is reused. Otherwise the existing person is looked up by email (one composite,
  ``find_people``) and reused; a record whose email nobody has was refused by a fuzzy rule, and
  is sent again once with ``Sforce-Duplicate-Rule-Header: allowSave=true``: a rule set to
  *Allow* (with an alert) saves it, a *Block* rule refuses it again (reported as failed).
- ``find_accounts``: one query, ``Website LIKE '%domain%'`` or ``Name IN (...)``; the exact
  domain/name comparison is done by ``domain.contact_plan`` on what comes back.
- ``find_people``: one composite (Contacts and unconverted Leads by email), used only when a
  retried step must learn whether its earlier attempt created someone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from simple_salesforce.format import format_soql

from callsync.adapters.salesforce_answers import reads_answers
from callsync.adapters.salesforce_api import MAX_COLLECTION_RECORDS, all_records, query_subrequest
from callsync.adapters.salesforce_errors import classify, error_items, raise_for_subresponses
from callsync.domain.contact_plan import NewRecord
from callsync.errors import RetryableError
from callsync.models.match import AccountInfo
from callsync.ports import SalesforceApi
from callsync.ports.people import SaveOutcome

LOOKUP_TERMS = 20  # emails per people-lookup query
LOOKUP_SOQL_CHARS = 6000  # an Account lookup statement stays below this (its URI far below 16 KB)
_ID_OBJECTS = {"003": "Contact", "00Q": "Lead", "001": "Account"}
DUPLICATE_RULE_HEADER = "Sforce-Duplicate-Rule-Header"


def duplicate_of(error: dict[str, Any], default_object: str) -> tuple[str, str] | None:
    """(object, id) of the first existing record a DUPLICATES_DETECTED error names, if any."""
    detail = error.get("duplicateResult") or error.get("duplicateResut")
    if not isinstance(detail, dict):
        return None
    for match in detail.get("matchResults") or []:
        entity = match.get("entityType")
        for candidate in match.get("matchRecords") or []:
            record = candidate.get("record") or {}
            record_id = record.get("Id")
            if record_id:
                obj = entity or (record.get("attributes") or {}).get("type")
                obj = obj or _ID_OBJECTS.get(str(record_id)[:3], default_object)
                return str(obj), str(record_id)
    return None


def interpret(result: dict[str, Any], object_name: str) -> SaveOutcome:
    """One collections save result as a ``SaveOutcome``."""
    if result.get("success"):
        return SaveOutcome(success=True, id=result.get("id"))
    raw_errors = [e for e in result.get("errors") or [] if isinstance(e, dict)]
    items = error_items(raw_errors)
    first = items[0] if items else {"errorCode": None, "message": "no detail"}
    code, message = first.get("errorCode"), str(first.get("message") or "")
    for raw in raw_errors:
        if (raw.get("statusCode") or raw.get("errorCode")) == "DUPLICATES_DETECTED":
            found = duplicate_of(raw, object_name)
            if found is not None:
                message = str(raw.get("message") or "")
                return SaveOutcome(False, error_code="DUPLICATES_DETECTED", message=message, duplicate_of=found)
    cls = classify(code, None, message, write=True)
    if issubclass(cls, RetryableError):
        error = cls(f"create of {object_name} failed: {code}: {message}", code=code)
        return SaveOutcome(success=False, error_code=code, message=message, retryable=True, error=error)
    return SaveOutcome(success=False, error_code=code, message=message)


class SalesforcePeopleWriter:
    def __init__(self, api: SalesforceApi) -> None:
        self._api = api

    def accounts_soql(self, domains: list[str], names: list[str]) -> str:
        conditions = [format_soql("Website LIKE '%{:like}%'", d) for d in domains]
        if names:
            conditions.append(format_soql("Name IN {}", names))
        where = " OR ".join(conditions)
        return (
            f"SELECT Id, Name, Website, OwnerId FROM Account WHERE {where} ORDER BY CreatedDate ASC, Id ASC LIMIT 200"  # noqa: S608
        )

    def lookup_statements(self, domains: list[str], names: list[str]) -> list[str]:
        """As few Account queries as the URI limit allows (one for any ordinary call)."""
        statements: list[str] = []
        chunk_domains: list[str] = []
        chunk_names: list[str] = []
        for kind, value in [("d", d) for d in domains] + [("n", n) for n in names]:
            trial_d = [*chunk_domains, value] if kind == "d" else chunk_domains
            trial_n = [*chunk_names, value] if kind == "n" else chunk_names
            if (chunk_domains or chunk_names) and len(self.accounts_soql(trial_d, trial_n)) > LOOKUP_SOQL_CHARS:
                statements.append(self.accounts_soql(chunk_domains, chunk_names))
                trial_d, trial_n = ([value], []) if kind == "d" else ([], [value])
            chunk_domains, chunk_names = trial_d, trial_n
        if chunk_domains or chunk_names:
            statements.append(self.accounts_soql(chunk_domains, chunk_names))
        return statements

    @reads_answers("the Account lookup")
    def find_accounts(self, domains: list[str], names: list[str]) -> list[AccountInfo]:
        accounts: dict[str, AccountInfo] = {}
        for soql in self.lookup_statements(domains, names):
            for r in self._api.query(soql):
                accounts.setdefault(r["Id"], AccountInfo(id=r["Id"], name=r.get("Name"), website=r.get("Website"),
                                                         owner_id=r.get("OwnerId")))  # fmt: skip
        return list(accounts.values())

    @reads_answers("the Contact/Lead lookup")
    def find_people(self, emails: list[str]) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(emails), LOOKUP_TERMS):
            chunk = emails[start : start + LOOKUP_TERMS]
            queries = {
                "contacts": format_soql("SELECT Id, Email FROM Contact WHERE Email IN {}", chunk),
                "leads": format_soql("SELECT Id, Email FROM Lead WHERE IsConverted = false AND Email IN {}", chunk),
            }
            answers = self._api.composite([query_subrequest(ref, q) for ref, q in queries.items()])
            raise_for_subresponses(answers)
            by_ref = {a.get("referenceId"): all_records(self._api, a.get("body") or {}) for a in answers}
            for ref, obj in (("contacts", "Contact"), ("leads", "Lead")):  # Contacts win over Leads
                for r in sorted(by_ref.get(ref, []), key=lambda r: r["Id"]):
                    email = str(r.get("Email") or "").lower()
                    if email:
                        found.setdefault(email, (obj, r["Id"]))
        return found

    @reads_answers("the Contact/Lead creation")
    def create(self, records: list[NewRecord]) -> list[SaveOutcome]:
        """One collections request; more only for records a duplicate rule refused (see module doc)."""
        if not records:
            return []
        results = self._api.create_records([r.payload() for r in records], all_or_none=False)
        outcomes = [interpret(result, record.object) for record, result in zip(records, results, strict=True)]
        unnamed = [
            i for i, o in enumerate(outcomes) if o.error_code == "DUPLICATES_DETECTED" and o.duplicate_of is None
        ]
        if not unnamed:
            return outcomes
        found = self.find_people(list(dict.fromkeys(records[i].person.email.lower() for i in unnamed)))
        alerts: list[int] = []
        for i in unnamed:
            existing = found.get(records[i].person.email.lower())
            if existing is not None:
                outcomes[i] = replace(outcomes[i], duplicate_of=existing)
            else:
                alerts.append(i)
        if alerts:
            saved = self._create_allowing_duplicates([records[i] for i in alerts])
            for i, result in zip(alerts, saved, strict=True):
                outcomes[i] = interpret(result, records[i].object)
        return outcomes

    def _create_allowing_duplicates(self, records: list[NewRecord]) -> list[dict[str, Any]]:
        """Create past *alert* duplicate rules (``allowSave=true``); a *block* rule still refuses.

        One composite per 200 records: a collections subrequest carries the header in its
        ``httpHeaders``.
        """
        results: list[dict[str, Any]] = []
        for start in range(0, len(records), MAX_COLLECTION_RECORDS):
            chunk = records[start : start + MAX_COLLECTION_RECORDS]
            sub = {
                "method": "POST",
                "url": "composite/sobjects",
                "referenceId": "people",
                "httpHeaders": {DUPLICATE_RULE_HEADER: "allowSave=true"},
                "body": {"allOrNone": False, "records": [r.payload() for r in chunk]},
            }
            answers = self._api.composite([sub])
            raise_for_subresponses(answers, methods={"people": "POST"})
            results += list(answers[0].get("body") or [])
        return results
