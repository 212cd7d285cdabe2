"""What each enabled feature needs from the integration user, checked against describes.

Pure: settings + describes (``None`` = the object is invisible to the integration
user) + org metadata in, a list of :class:`Check` out. ``callsync doctor`` prints
them; the pipeline steps use the same checks (and the same fix texts) so that a
missing permission fails only the feature that needs it, with the same message.

Object access comes from the object describe: ``read`` = queryable (an object the
user cannot read is absent, i.e. ``None``), ``create`` = createable, ``edit`` =
updateable. Field access: ``read`` = present in the describe (visible through
field-level security), ``create`` = createable, ``edit`` = updateable.

The fix texts come from :func:`object_permission_fix`, :func:`field_permission_fix`
and :func:`shared_activities_fix` — import them rather than writing your own.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from callsync.models.describe import ObjectDescribe, OrgMetadata
from callsync.models.ledger import SkippedFeature
from callsync.models.settings import MATCHED_OBJECTS, FieldMapping, OrgSettings

Access = Literal["read", "create", "edit"]


class Feature(StrEnum):
    """Feature names as doctor prints them and steps report them."""

    CORE_READ = "core read"
    FIELD_SYNC = "field sync"
    ACCOUNT_LINK = "account link"
    CONTACT_CREATION = "contact creation"
    CALL_ACTIVITY = "call activity"
    SHARED_ACTIVITIES = "shared activities"
    NOTES = "notes"
    TASK_SYNC = "task sync"
    PREP_FIELDS = "prep fields"
    WIN_LOSS = "win/loss"


class Check(BaseModel):
    """One thing a feature needs. ``blocking=False``: the feature still works, degraded."""

    model_config = ConfigDict(frozen=True)

    feature: Feature
    subject: str  # "Object", "Object.Field" or an org setting ("Shared Activities")
    need: str  # what is needed, e.g. "read", "create", "edit", "visible", "updateable", "enabled"
    ok: bool
    problem: str | None = None
    fix: str | None = None
    blocking: bool = True

    @property
    def message(self) -> str:
        """``<feature>: <problem> Fix: <fix>`` — the text steps put in warnings and errors."""
        if self.ok:
            return f"{self.feature.value}: {self.subject} ({self.need}) OK"
        return f"{self.feature.value}: {self.problem} Fix: {self.fix}"

    def skip_warning(self, consequence: str, *, scope: str = "") -> str:
        """A gated feature's warning: ``<feature> skipped[ scope]: <problem>: <consequence>. Fix: <fix>``."""
        problem = (self.problem or "").rstrip(".")
        return f"{self.feature.value} skipped{scope}: {problem}: {consequence}. Fix: {self.fix}"

    def skipped(self) -> SkippedFeature:
        """The ledger's record of a feature this failed check stopped."""
        return SkippedFeature(feature=self.feature.value, subject=self.subject, need=self.need, fix=self.fix)


# --- The one set of fix texts -------------------------------------------------------------------

_ACCESS_WORDS: dict[str, str] = {"read": "Read", "create": "Read and Create", "edit": "Read and Edit"}


def object_permission_fix(object_name: str, access: str) -> str:
    """How an admin grants the integration user ``access`` on ``object_name``.

    ``access``: ``read`` | ``create`` (read and create) | ``edit`` (read and edit) | ``all``.
    """
    boxes = _ACCESS_WORDS.get(access, "Read, Create and Edit")
    return (
        f"Setup → Users → Permission Sets → the permission set assigned to the integration user "
        f"→ Object Settings → {object_name} → Edit → check {boxes} under Object Permissions → Save "
        f"(or grant the same on the integration user's profile)."
    )


def field_permission_fix(object_name: str, field_name: str, access: str = "edit") -> str:
    """How an admin makes ``object_name.field_name`` visible (``read``) or also writable (``create``/``edit``)."""
    what = "check Visible" if access == "read" else "check Visible and clear Read-Only"
    return (
        f"Setup → Object Manager → {object_name} → Fields & Relationships → {field_name} → "
        f"Set Field-Level Security → {what} for the integration user's profile; or, in a permission set "
        f"assigned to the integration user, Object Settings → {object_name} → Field Permissions → "
        f"{field_name} → check {'Read Access' if access == 'read' else 'Read Access and Edit Access'}."
    )


def shared_activities_fix() -> str:
    """How an admin enables Shared Activities (irreversible in Salesforce)."""
    return (
        "Setup → Feature Settings → Sales → Activity Settings → check "
        "'Allow Users to Relate Multiple Contacts to Tasks and Events' → Submit "
        "(enables Shared Activities; Salesforce cannot turn it off again)."
    )


# --- Building blocks (steps may call these for one object or field) ----------------------------


def check_object(
    feature: Feature,
    object_name: str,
    describe: ObjectDescribe | None,
    access: Access,
    *,
    blocking: bool = True,
    fix_access: str | None = None,
) -> Check:
    """Whether the integration user has ``access`` on ``object_name``.

    ``fix_access`` widens what the fix grants (e.g. ``all`` when the feature also needs create and edit).
    """
    if describe is None or not describe.queryable:
        ok, problem = False, f"{object_name} is not readable by the integration user."
    elif access == "create" and not describe.createable:
        ok, problem = False, f"the integration user cannot create {object_name} records."
    elif access == "edit" and not describe.updateable:
        ok, problem = False, f"the integration user cannot edit {object_name} records."
    else:
        ok, problem = True, None
    return Check(
        feature=feature,
        subject=object_name,
        need=access,
        ok=ok,
        problem=problem,
        fix=None if ok else object_permission_fix(object_name, fix_access or access),
        blocking=blocking,
    )


def check_field(
    feature: Feature,
    object_name: str,
    describe: ObjectDescribe,
    field_name: str,
    access: Access | Collection[Access],
    *,
    blocking: bool = True,
    consequence: str = "",
) -> Check:
    """Whether ``object_name.field_name`` is visible (``read``), createable and/or updateable for the user.

    ``access`` is one access or several (one check, one row, for a field that must be both created
    and updated). ``consequence`` (e.g. "the call type is left blank") is appended to the problem so
    the reader knows what degrades.
    """
    wanted = [a for a in ("read", "create", "edit") if a in ({access} if isinstance(access, str) else set(access))]
    found = describe.field(field_name)
    name = found.name if found is not None else field_name
    subject = f"{object_name}.{name}"
    problem: str | None = None
    if found is None:
        problem = f"{subject} is not visible to the integration user (field-level security), or does not exist."
    else:
        missing = [_FIELD_NEEDS[a] for a in wanted if a != "read" and not getattr(found, _FIELD_NEEDS[a])]
        if missing:
            problem = f"{subject} is read-only for the integration user (not {' nor '.join(missing)})."
    if problem and consequence:
        problem = f"{problem[:-1]}: {consequence}."
    writes = [a for a in wanted if a != "read"]
    return Check(
        feature=feature,
        subject=subject,
        need=", ".join(_FIELD_NEEDS[a] for a in wanted),
        ok=problem is None,
        problem=problem,
        fix=None if problem is None else field_permission_fix(object_name, name, writes[-1] if writes else "read"),
        blocking=blocking,
    )


_FIELD_NEEDS: dict[str, str] = {"read": "visible", "create": "createable", "edit": "updateable"}


def _object_and_fields(
    feature: Feature,
    object_name: str,
    describes: Mapping[str, ObjectDescribe | None],
    *,
    access: Iterable[Access],
    fields: Mapping[Access, Iterable[str]] | None = None,
    optional_fields: Mapping[str, tuple[Access, str]] | None = None,
    blocking: bool = True,
) -> list[Check]:
    """Object checks, then field checks only for accesses the object grants (no duplicate blame)."""
    describe = describes.get(object_name)
    wanted = list(access)
    if describe is None or not describe.queryable:  # one check, whose fix grants everything needed
        widest = "all" if {"create", "edit"} <= set(wanted) else wanted[-1]
        return [check_object(feature, object_name, describe, "read", blocking=blocking, fix_access=widest)]
    object_checks = [check_object(feature, object_name, describe, a, blocking=blocking) for a in wanted]
    checks = list(object_checks)
    granted = {c.need for c in object_checks if c.ok} | {"read"}
    needs: dict[str, list[Access]] = {}  # field -> accesses, one check per field
    for field_access, names in (fields or {}).items():
        for name in names:
            needs.setdefault(name, []).append(field_access)
    for name, accesses in needs.items():
        if all(a in granted for a in accesses):
            checks.append(check_field(feature, object_name, describe, name, accesses, blocking=blocking))
    for name, (field_access, consequence) in (optional_fields or {}).items():
        if field_access in granted:
            checks.append(
                check_field(feature, object_name, describe, name, field_access, blocking=False, consequence=consequence)
            )
    return checks


# --- What each feature needs --------------------------------------------------------------------

CORE_READ: dict[str, list[str]] = {
    "Contact": ["Email", "FirstName", "LastName", "AccountId"],
    "Lead": ["Email", "Company", "IsConverted"],
    "Account": ["Name", "Website"],
    "Opportunity": ["Name", "AccountId", "StageName", "IsClosed", "CloseDate", "CreatedDate", "OwnerId"],
    "OpportunityContactRole": ["OpportunityId", "ContactId", "IsPrimary"],
    "OpportunityStage": [],
    "User": ["Email", "IsActive"],
    "EmailMessage": [],
}
CONTACT_CREATE_FIELDS: dict[str, list[str]] = {
    "Contact": ["LastName", "FirstName", "Email", "AccountId"],
    "Lead": ["LastName", "FirstName", "Email", "Company"],
}
TASK_CREATE_FIELDS = ["Subject", "Description", "ActivityDate", "Status", "WhoId", "WhatId", "OwnerId"]
EVENT_CREATE_FIELDS = ["Subject", "Description", "StartDateTime", "EndDateTime", "WhoId", "WhatId", "OwnerId"]
NOTE_CREATE_FIELDS: dict[str, list[str]] = {
    "ContentNote": ["Title", "Content"],
    "ContentDocumentLink": ["ContentDocumentId", "LinkedEntityId", "ShareType"],
}
FOLLOW_UP_TASK_FIELDS = ["Subject", "Description", "ActivityDate", "Status", "WhoId", "WhatId", "OwnerId"]


def activity_objects(settings: OrgSettings) -> list[str]:
    """Task and/or Event by the activity mode (smart needs both)."""
    return {"tasks": ["Task"], "events": ["Event"], "smart": ["Task", "Event"]}[settings.activity_sync.mode]


def required_objects(settings: OrgSettings) -> list[str]:
    """Every object whose describe the checks for ``settings`` read (order kept, no duplicates)."""
    names: list[str] = list(CORE_READ)
    if settings.field_sync.enabled:
        names += [m.object for m in settings.field_sync.mappings]
    if settings.contact_creation.enabled:
        names += list(CONTACT_CREATE_FIELDS)
    if settings.activity_sync.enabled:
        names += activity_objects(settings)
        if "Event" in activity_objects(settings):
            names.append("EventRelation")
    if settings.notes_sync.enabled:
        names += list(NOTE_CREATE_FIELDS)
    if settings.task_sync.enabled:
        names.append("Task")
    names += [p.split(".", 1)[0] for p in settings.prep_fields if "." in p]
    return list(dict.fromkeys(names))


def core_read_checks(settings: OrgSettings, describes: Mapping[str, ObjectDescribe | None]) -> list[Check]:
    """Read access every sync needs (matching); EmailMessage blocks only when email context is on."""
    checks: list[Check] = []
    for name, fields in CORE_READ.items():
        blocking = settings.email_context.enabled if name == "EmailMessage" else True
        checks += _object_and_fields(
            Feature.CORE_READ, name, describes, access=["read"], fields={"read": fields}, blocking=blocking
        )
    return checks


def field_sync_checks(settings: OrgSettings, describes: Mapping[str, ObjectDescribe | None]) -> list[Check]:
    """Each mapped object writable, each mapped field visible and updateable (and createable via a lookup)."""
    checks: list[Check] = []
    for obj in dict.fromkeys(m.object for m in settings.field_sync.mappings):
        mappings = [m for m in settings.field_sync.mappings if m.object == obj]
        via = list(dict.fromkeys(m.via for m in mappings if m.via))
        mapped = list(dict.fromkeys(m.field for m in mappings if m.policy != "skip"))
        if obj in MATCHED_OBJECTS:
            access: list[Access] = ["read", "edit"]
            fields: dict[Access, list[str]] = {"read": mapped, "edit": mapped}
        else:  # the record reached through `via` is created when none exists
            access = ["read", "create", "edit"]
            fields = {"read": via + mapped, "create": via + mapped, "edit": mapped}
        checks += _object_and_fields(Feature.FIELD_SYNC, obj, describes, access=access, fields=fields)
    working = [m for m in settings.field_sync.mappings if m.policy != "skip" and _mapping_works(m, checks)]
    if not working:
        return checks
    # The pipeline skips a mapping it cannot write and syncs the others: field sync is degraded, not broken.
    return [
        c
        if c.ok
        else c.model_copy(
            update={"blocking": False, "problem": f"{c.problem} Its mapping is skipped; the others sync."}
        )
        for c in checks
    ]


def _mapping_works(mapping: FieldMapping, checks: list[Check]) -> bool:
    """Every check about the mapping's object, its field and its ``via`` lookup passed."""
    subjects = {mapping.object, f"{mapping.object}.{mapping.field}"}
    if mapping.via:
        subjects.add(f"{mapping.object}.{mapping.via}")
    relevant = [c for c in checks if c.subject in subjects]
    return bool(relevant) and all(c.ok for c in relevant)


def account_link_checks(settings: OrgSettings, describes: Mapping[str, ObjectDescribe | None]) -> list[Check]:
    field = settings.account_link_field or ""
    return _object_and_fields(
        Feature.ACCOUNT_LINK, "Account", describes, access=["read", "edit"], fields={"read": [field], "edit": [field]}
    )


def contact_creation_checks(describes: Mapping[str, ObjectDescribe | None]) -> list[Check]:
    checks: list[Check] = []
    for name, fields in CONTACT_CREATE_FIELDS.items():
        checks += _object_and_fields(
            Feature.CONTACT_CREATION, name, describes, access=["read", "create"], fields={"create": fields}
        )
    return checks


def call_activity_checks(settings: OrgSettings, describes: Mapping[str, ObjectDescribe | None]) -> list[Check]:
    """Task and/or Event: create (and edit, to update an activity that already represents the call)."""
    checks: list[Check] = []
    type_left_blank: tuple[Access, str] = ("create", "the call type is left blank")
    for name in activity_objects(settings):
        optional: dict[str, tuple[Access, str]] = {"Type": type_left_blank}
        if name == "Task":
            optional |= {
                "CallDurationInSeconds": ("create", "the call duration is not recorded"),
                "TaskSubtype": ("create", "the Task is not shown as a logged call"),
            }
        checks += _object_and_fields(
            Feature.CALL_ACTIVITY,
            name,
            describes,
            access=["read", "create", "edit"],
            fields={"create": TASK_CREATE_FIELDS if name == "Task" else EVENT_CREATE_FIELDS, "edit": ["Description"]},
            optional_fields=optional,
        )
    return checks


def shared_activities_checks(describes: Mapping[str, ObjectDescribe | None], metadata: OrgMetadata) -> list[Check]:
    """Extra contacts on an Event: Shared Activities on and EventRelation creatable. Never blocking:
    without them only the primary contact is linked."""
    consequence = "only the primary contact is linked to the Event"
    if not metadata.shared_activities:
        return [
            Check(
                feature=Feature.SHARED_ACTIVITIES,
                subject="Shared Activities",
                need="enabled",
                ok=False,
                problem=f"Shared Activities is not enabled in the org: {consequence}.",
                fix=shared_activities_fix(),
                blocking=False,
            )
        ]
    checks = [
        Check(feature=Feature.SHARED_ACTIVITIES, subject="Shared Activities", need="enabled", ok=True, blocking=False)
    ]
    for check in _object_and_fields(
        Feature.SHARED_ACTIVITIES,
        "EventRelation",
        describes,
        access=["read", "create"],
        fields={"create": ["EventId", "RelationId"]},
        blocking=False,
    ):
        if not check.ok:
            check = check.model_copy(update={"problem": f"{check.problem[:-1]}: {consequence}."})  # type: ignore[index]
        checks.append(check)
    return checks


def notes_checks(describes: Mapping[str, ObjectDescribe | None]) -> list[Check]:
    checks: list[Check] = []
    for name, fields in NOTE_CREATE_FIELDS.items():
        checks += _object_and_fields(
            Feature.NOTES, name, describes, access=["read", "create"], fields={"create": fields}
        )
    return checks


def task_sync_checks(describes: Mapping[str, ObjectDescribe | None]) -> list[Check]:
    return _object_and_fields(
        Feature.TASK_SYNC, "Task", describes, access=["read", "create"], fields={"create": FOLLOW_UP_TASK_FIELDS}
    )


def prep_field_checks(settings: OrgSettings, describes: Mapping[str, ObjectDescribe | None]) -> list[Check]:
    by_object: dict[str, list[str]] = {}
    for path in settings.prep_fields:
        obj, _, field = path.partition(".")
        by_object.setdefault(obj, []).append(field)
    checks: list[Check] = []
    for obj, fields in by_object.items():
        checks += _object_and_fields(
            Feature.PREP_FIELDS, obj, describes, access=["read"], fields={"read": [f for f in fields if f]}
        )
    return checks


def win_loss_checks(settings: OrgSettings, describes: Mapping[str, ObjectDescribe | None]) -> list[Check]:
    field = settings.win_loss.loss_reason_field
    return _object_and_fields(
        Feature.WIN_LOSS,
        "Opportunity",
        describes,
        access=["read"],
        fields={"read": ["StageName", "IsClosed", "IsWon", "CloseDate", *([field] if field else [])]},
    )


def enabled_features(settings: OrgSettings) -> list[Feature]:
    """The features whose checks apply to ``settings``, in doctor's order."""
    features = [Feature.CORE_READ]
    if settings.field_sync.enabled and settings.field_sync.mappings:
        features.append(Feature.FIELD_SYNC)
    if settings.account_link_field:
        features.append(Feature.ACCOUNT_LINK)
    if settings.contact_creation.enabled:
        features.append(Feature.CONTACT_CREATION)
    if settings.activity_sync.enabled:
        features.append(Feature.CALL_ACTIVITY)
        if "Event" in activity_objects(settings):
            features.append(Feature.SHARED_ACTIVITIES)
    if settings.notes_sync.enabled:
        features.append(Feature.NOTES)
    if settings.task_sync.enabled:
        features.append(Feature.TASK_SYNC)
    if settings.prep_fields:
        features.append(Feature.PREP_FIELDS)
    if settings.win_loss.enabled:
        features.append(Feature.WIN_LOSS)
    return features


def permission_checks(
    settings: OrgSettings, describes: Mapping[str, ObjectDescribe | None], metadata: OrgMetadata
) -> list[Check]:
    """Every check of every enabled feature, grouped by feature in :func:`enabled_features` order.

    ``describes`` should hold :func:`required_objects`; a missing key counts as an invisible object.
    """
    builders = {
        Feature.CORE_READ: lambda: core_read_checks(settings, describes),
        Feature.FIELD_SYNC: lambda: field_sync_checks(settings, describes),
        Feature.ACCOUNT_LINK: lambda: account_link_checks(settings, describes),
        Feature.CONTACT_CREATION: lambda: contact_creation_checks(describes),
        Feature.CALL_ACTIVITY: lambda: call_activity_checks(settings, describes),
        Feature.SHARED_ACTIVITIES: lambda: shared_activities_checks(describes, metadata),
        Feature.NOTES: lambda: notes_checks(describes),
        Feature.TASK_SYNC: lambda: task_sync_checks(describes),
        Feature.PREP_FIELDS: lambda: prep_field_checks(settings, describes),
        Feature.WIN_LOSS: lambda: win_loss_checks(settings, describes),
    }
    checks: list[Check] = []
    for feature in enabled_features(settings):
        checks += builders[feature]()
    return checks


def blocking_failures(checks: Iterable[Check], feature: Feature | None = None) -> list[Check]:
    """Failed checks that stop a feature (of ``feature`` only, when given)."""
    return [c for c in checks if not c.ok and c.blocking and (feature is None or c.feature == feature)]


def feature_works(checks: Iterable[Check], feature: Feature) -> bool:
    """True when no blocking check of ``feature`` failed (degraded counts as working)."""
    return not blocking_failures(checks, feature)


# --- What a step checks before it writes (no request: the cached describes) ---------------------

# Fields without which Salesforce refuses the save itself (REQUIRED_FIELD_MISSING); any other field
# the integration user cannot write is left out of the record with a warning, and the record is saved.
REQUIRED_TO_SAVE: dict[str, tuple[str, ...]] = {
    "Event": ("StartDateTime", "EndDateTime"),
    "Task": (),
    "ContentNote": ("Title",),
    "ContentDocumentLink": ("ContentDocumentId", "LinkedEntityId"),
    "Contact": ("LastName",),
    "Lead": ("LastName", "Company"),
}


def write_gate(
    feature: Feature, object_names: Iterable[str], describes: Mapping[str, ObjectDescribe | None]
) -> Check | None:
    """The first reason ``feature`` cannot save its records at all, or None when it can.

    Checked before a step writes anything, so a missing permission skips the feature (with the same
    fix doctor prints) instead of failing the call halfway: the object must be readable and
    createable, and the fields Salesforce requires on save createable.
    """
    for name in object_names:
        describe = describes.get(name)
        access: Access = "read" if describe is None or not describe.queryable else "create"
        check = check_object(feature, name, describe, access, fix_access="create")
        if describe is None or not check.ok:
            return check
        required = REQUIRED_TO_SAVE.get(name, ())
        failed = [c for c in (check_field(feature, name, describe, f, "create") for f in required) if not c.ok]
        if failed:
            return failed[0]
    return None
