"""The state the PostCallSync state machine carries from step to step.

The consumer starts an execution with ``{"call", "settings"}``; each step adds
its result under its own key (ASL ``ResultPath``): ``match``, ``contacts``,
``fields``, ``activity``. Later steps read what earlier ones learned instead of
asking Salesforce again.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from callsync.models.activity import ActivityResult
from callsync.models.event import CallProcessed
from callsync.models.fields import FieldSyncResult
from callsync.models.match import ContactsResult, MatchResult
from callsync.models.settings import OrgSettings


class SyncState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    call: CallProcessed
    settings: OrgSettings
    match: MatchResult | None = None
    contacts: ContactsResult | None = None
    fields: FieldSyncResult | None = None
    activity: ActivityResult | None = None
