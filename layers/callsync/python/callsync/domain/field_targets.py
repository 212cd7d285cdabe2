"""Which Salesforce record each field mapping writes to, for one call.

Pure functions over what the earlier steps learned:

- ``Opportunity`` → the matched Opportunity.
- ``Account`` → the matched Account (else the matched Opportunity's Account).
- ``Contact`` → the primary external Contact; when it is not a Contact (or
  none), the first Contact that CreateContacts created for this call.
- any other object with ``via`` → the newest record of that object whose lookup
  field ``via`` points at the matched Opportunity or Account — whichever the
  lookup references (describe ``referenceTo``). Finding (or creating) that
  record is the service's job; here it is a target with a parent.

A mapping whose record does not exist for this call is *unresolved* with a
reason (skipped, reported); one that cannot be reached because the integration
user cannot see the object or its lookup field is unresolved and ``failed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from callsync.domain.permissions import Feature, check_field, check_object
from callsync.models.describe import ObjectDescribe
from callsync.models.match import ContactsResult, MatchResult, Person


@dataclass(frozen=True)
class Target:
    """A record to write. For a via-target, ``record_id`` is None until the service looks it up."""

    key: str
    object: str
    record_id: str | None = None
    label: str | None = None
    via: str | None = None
    parent_object: str | None = None
    parent_id: str | None = None
    created_by_call: bool = False  # created by this call's CreateContacts: its mapped fields are empty


@dataclass(frozen=True)
class Unresolved:
    key: str
    object: str
    reason: str
    failed: bool = False  # True: a permission problem (the target fails); False: nothing to write to


def target_key(object_name: str, via: str | None) -> str:
    return f"{object_name} via {via}" if via else object_name


def via_of_key(key: str | None) -> tuple[str, str] | None:
    """(object, lookup field) of a via-target's ``target_key``; None for a record written by id."""
    if not key or " via " not in key:
        return None
    object_name, via = key.split(" via ", 1)
    return object_name, via


def fields_lease_key(
    org_id: str, object_name: str, record_id: str | None, via: str | None = None, parent_id: str | None = None
) -> str:
    """The lease of one record's field writes (``services.record_leases``), taken by every writer of them:
    a record by its id; a via-record, whose id is not known before it is looked up, by its parent."""
    return f"{org_id}#fields#{record_id or f'{object_name}:{via}:{parent_id}'}"


def primary_contact(match: MatchResult, contacts: ContactsResult | None) -> Person | None:
    """The Contact that receives Contact mappings (see the module docstring)."""
    primary = match.primary_contact
    if primary is not None and primary.object == "Contact" and primary.id:
        return primary
    for person in contacts.created if contacts else []:
        if person.object == "Contact" and person.id:
            return person
    return None


def resolve_target(
    object_name: str,
    via: str | None,
    match: MatchResult | None,
    contacts: ContactsResult | None,
    describes: Mapping[str, ObjectDescribe | None],
) -> Target | Unresolved:
    """The record that mappings on ``object_name`` (through ``via``) write to for this call."""
    key = target_key(object_name, via)
    if match is None:
        return Unresolved(key, object_name, "the call was not matched")
    if object_name == "Opportunity" and not via:
        opp = match.opportunity
        if opp is None:
            return Unresolved(key, object_name, "no Opportunity matched this call")
        return Target(key, object_name, opp.id, label=opp.name)
    if object_name == "Account" and not via:
        account_id, name = _account(match)
        if account_id is None:
            return Unresolved(key, object_name, "no Account matched this call")
        return Target(key, object_name, account_id, label=name)
    if object_name == "Contact" and not via:
        person = primary_contact(match, contacts)
        if person is None:
            return Unresolved(key, object_name, "no external Contact on this call")
        label = f"{person.name} <{person.email}>" if person.name else person.email
        return Target(key, object_name, person.id, label=label, created_by_call=person.created)
    return _via_target(key, object_name, via, match, describes)


def _account(match: MatchResult) -> tuple[str | None, str | None]:
    if match.account is not None:
        return match.account.id, match.account.name
    if match.opportunity is not None and match.opportunity.account_id:
        return match.opportunity.account_id, None
    return None, None


def _via_target(
    key: str,
    object_name: str,
    via: str | None,
    match: MatchResult,
    describes: Mapping[str, ObjectDescribe | None],
) -> Target | Unresolved:
    if not via:
        return Unresolved(key, object_name, f"{object_name} mappings need 'via' (a lookup field)", failed=True)
    describe = describes.get(object_name)
    seen = check_object(Feature.FIELD_SYNC, object_name, describe, "read", fix_access="edit")
    if describe is None or not seen.ok:
        return Unresolved(key, object_name, seen.message, failed=True)
    lookup = describe.field(via)
    if lookup is None:
        return Unresolved(
            key, object_name, check_field(Feature.FIELD_SYNC, object_name, describe, via, "read").message, failed=True
        )
    refs = set(lookup.reference_to)
    opp = match.opportunity
    account_id, _ = _account(match)
    if "Opportunity" in refs and opp is not None:
        return Target(key, describe.name, via=lookup.name, parent_object="Opportunity", parent_id=opp.id)
    if "Account" in refs and account_id is not None:
        return Target(key, describe.name, via=lookup.name, parent_object="Account", parent_id=account_id)
    if not refs & {"Opportunity", "Account"}:
        return Unresolved(
            key,
            object_name,
            f"{object_name}.{via} does not point at an Opportunity or Account (it references "
            f"{', '.join(sorted(refs)) or 'nothing'})",
            failed=True,
        )
    wanted = " or ".join(r for r in ("Opportunity", "Account") if r in refs)
    return Unresolved(key, object_name, f"no {wanted} matched this call")
