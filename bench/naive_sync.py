"""The comparison point: the same sync written the obvious way with simple-salesforce object calls.

One query per participant, one insert per record, one update per field, no describe, no
composite, no collections, no cache. It does what callsync does for the benchmark's calls
(match the deal, create the new people, write the mapped fields, log an Event with its
relations, note and follow-ups) so the emulator can count what that costs.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime, timedelta
from typing import Any, cast

from simple_salesforce import Salesforce, format_soql
from simple_salesforce.api import SFType


def sobject(sf: Salesforce, name: str) -> SFType:
    """``sf.<name>``: simple-salesforce's object API (its attribute access is typed for the bulk APIs too)."""
    return cast(SFType, getattr(sf, name))


def naive_sync(sf: Salesforce, event: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Sync one ``call.processed`` event; returns the ids it touched."""
    internal = {d.lower() for d in settings["internal_domains"]}
    users: dict[str, str] = {}
    contacts: dict[str, dict[str, Any]] = {}
    new_people: list[dict[str, Any]] = []
    for person in event["participants"]:  # one query per participant
        email = person["email"].lower()
        if email.rsplit("@", 1)[-1] in internal:
            rows = sf.query(format_soql("SELECT Id FROM User WHERE Email = {} AND IsActive = true", email))["records"]
            if rows:
                users[email] = rows[0]["Id"]
            continue
        rows = sf.query(format_soql("SELECT Id, AccountId FROM Contact WHERE Email = {}", email))["records"]
        if rows:
            contacts[email] = rows[0]
        else:
            new_people.append(person)
    account_id = next((c["AccountId"] for c in contacts.values() if c.get("AccountId")), None)
    deals = (
        sf.query(
            format_soql(
                "SELECT Id FROM Opportunity WHERE AccountId = {} AND IsClosed = false "
                "ORDER BY CreatedDate DESC LIMIT 1",
                account_id,
            )
        )["records"]
        if account_id
        else []
    )
    deal_id = deals[0]["Id"] if deals else None
    for person in new_people:  # one insert per record
        first, _, last = (person.get("name") or "").rpartition(" ")
        created = sobject(sf, "Contact").create(
            {
                "FirstName": first or None,
                "LastName": last or person["email"],
                "Email": person["email"],
                "AccountId": account_id,
            }
        )
        contacts[person["email"].lower()] = {"Id": created["id"], "AccountId": account_id}
    primary = next(iter(contacts.values()))["Id"] if contacts else None
    targets = {"Opportunity": deal_id, "Account": account_id, "Contact": primary}
    _write_fields(sf, event, settings, targets)
    return {"deal": deal_id, **_log_event(sf, event, settings, users, contacts, deal_id, primary)}


def _write_fields(
    sf: Salesforce, event: dict[str, Any], settings: dict[str, Any], targets: dict[str, str | None]
) -> None:
    """Read each target record once (to append to text), then one update per mapped field."""
    mappings = settings["field_sync"]["mappings"]
    current: dict[str, dict[str, Any]] = {}
    for mapping in mappings:
        record_id = targets.get(mapping["object"])
        value = event.get("insights", {}).get(mapping["insight"])
        if record_id is None or value is None:
            continue
        sobject = getattr(sf, mapping["object"])
        if mapping["object"] not in current:
            current[mapping["object"]] = sobject.get(record_id)
        before = current[mapping["object"]].get(mapping["field"])
        if isinstance(value, list):
            value = ";".join(sorted(set(value) | set((before or "").split(";")) - {""}))
        elif isinstance(value, str) and before and mapping.get("policy") != "overwrite":
            value = f"{before}\n{event['started_at'][:10]}: {value}"
        sobject.update(record_id, {mapping["field"]: value})


def _log_event(
    sf: Salesforce,
    event: dict[str, Any],
    settings: dict[str, Any],
    users: dict[str, str],
    contacts: dict[str, dict[str, Any]],
    deal_id: str | None,
    primary: str | None,
) -> dict[str, Any]:
    start = datetime.fromisoformat(event["started_at"].replace("Z", "+00:00"))
    end = start + timedelta(seconds=event["duration_seconds"])
    owner = users.get(event["host_email"].lower())
    created = sobject(sf, "Event").create(
        {
            "Subject": f"{settings['subject_prefix']} {event['title']}"[:255],
            "Description": event["summary"],
            "StartDateTime": start.isoformat(),
            "EndDateTime": end.isoformat(),
            "WhatId": deal_id,
            "WhoId": primary,
            "OwnerId": owner,
        }
    )
    event_id = created["id"]
    for contact in contacts.values():
        if contact["Id"] != primary:
            sobject(sf, "EventRelation").create({"EventId": event_id, "RelationId": contact["Id"]})
    note = sobject(sf, "ContentNote").create(
        {
            "Title": event["title"],
            "Content": base64.b64encode(f"<p>{html.escape(event.get('notes') or '')}</p>".encode()).decode(),
        }
    )
    for linked in (deal_id, primary):
        if linked:
            sobject(sf, "ContentDocumentLink").create(
                {"ContentDocumentId": note["id"], "LinkedEntityId": linked, "ShareType": "V"}
            )
    tasks = [
        sobject(sf, "Task").create(
            {
                "Subject": item["text"][:255],
                "ActivityDate": item.get("due_date"),
                "OwnerId": users.get((item.get("assignee_email") or "").lower(), owner),
                "WhatId": deal_id,
                "WhoId": primary,
            }
        )["id"]
        for item in event.get("action_items", [])
    ]
    return {"event": event_id, "note": note["id"], "tasks": tasks}
