"""``callsync doctor``: can every enabled feature of an org work with the integration user's permissions?

Reads the describes the checks need through ``ports.DescribeSource`` (one composite
request when cold, none when warm) and runs :func:`callsync.domain.permissions.permission_checks`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from callsync.domain.permissions import Check, Feature, enabled_features, permission_checks, required_objects
from callsync.models.settings import OrgSettings
from callsync.ports import DescribeSource


class FeatureReport(BaseModel):
    """The checks of one enabled feature."""

    model_config = ConfigDict(frozen=True)

    feature: Feature
    checks: list[Check]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def works(self) -> bool:
        """No blocking check failed."""
        return all(c.ok or not c.blocking for c in self.checks)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def degraded(self) -> bool:
        """It works, but a non-blocking check failed (e.g. no Shared Activities)."""
        return self.works and any(not c.ok for c in self.checks)


class DoctorReport(BaseModel):
    """Every enabled feature of one org with its checks; ``ok`` when every one can work."""

    model_config = ConfigDict(frozen=True)

    org_id: str
    features: list[FeatureReport]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return all(f.works for f in self.features)

    @property
    def checks(self) -> list[Check]:
        return [c for f in self.features for c in f.checks]

    def feature(self, feature: Feature) -> FeatureReport | None:
        return next((f for f in self.features if f.feature == feature), None)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document: ``{org_id, ok, features: [{feature, works, degraded, checks: [...]}]}``."""
        return self.model_dump(mode="json")


def diagnose(settings: OrgSettings, describes: DescribeSource) -> DoctorReport:
    """Check what each enabled feature of ``settings`` needs against the org's describes.

    Raises:
        Whatever the describe source raises (``OrgDisconnected``, ``SalesforceUnavailable``, ...).
    """
    found = describes.describe(required_objects(settings))
    checks = permission_checks(settings, found, describes.org_metadata())
    features = [
        FeatureReport(feature=feature, checks=[c for c in checks if c.feature == feature])
        for feature in enabled_features(settings)
    ]
    return DoctorReport(org_id=settings.org_id, features=features)
