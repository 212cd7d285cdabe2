"""``ports.SettingsStore`` on DynamoDB: one item per org, the settings JSON as a map keyed by ``org_id``."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from callsync.adapters.dynamodb_items import from_item, to_item
from callsync.errors import InvalidSettings, SettingsNotFound
from callsync.models.settings import OrgSettings
from callsync.models.validation import explain


def invalid_settings_error(org_id: str, error: ValidationError) -> InvalidSettings:
    """``InvalidSettings`` naming the org and every failing field (``field_sync.mappings[0].field: ...``)."""
    return InvalidSettings(f"settings of org {org_id} are invalid: {explain(error)}")


class DynamoDbSettingsStore:
    """Settings items in the settings table (partition key ``org_id``)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, org_id: str) -> OrgSettings:
        """The org's settings.

        Raises:
            SettingsNotFound: no item for ``org_id``.
            InvalidSettings: the item does not validate (the message names the field).
        """
        item = self._table.get_item(Key={"org_id": org_id}).get("Item")
        if item is None:
            raise SettingsNotFound(
                f"no settings for org {org_id} in table {self._table.name}", code="settings_not_found"
            )
        try:
            return OrgSettings.model_validate(from_item(item))
        except ValidationError as e:
            raise invalid_settings_error(org_id, e) from e

    def put(self, settings: OrgSettings) -> None:
        self._table.put_item(Item=to_item(settings.model_dump(mode="json")))

    def put_raw(self, org_id: str, item: dict[str, Any]) -> None:
        """Store an item as is (operators' scripts, tests of invalid settings)."""
        self._table.put_item(Item=to_item({**item, "org_id": org_id}))
