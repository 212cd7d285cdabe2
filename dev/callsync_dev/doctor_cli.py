"""``callsync doctor``: can every enabled feature work with the integration user's permissions?

- ``callsync doctor --org-id ORG``: a real org — settings from the settings table, tokens
  from Secrets Manager, describes through the describe cache (AWS credentials from the environment).
- ``callsync doctor --org ORG.json --settings SETTINGS.json``: the emulator seeded with the
  fixture, in an embedded AWS (moto); the same adapters, the same checks.

``--settings`` also works with ``--org-id`` (check settings before saving them). Prints a table
per feature with ✓/✗ and, for each ✗, the fix; ``--json`` prints the report as JSON; ``--failures`` shows
only the checks that did not pass. A feature whose failing checks leave it working (e.g. field sync with
some mappings unwritable: those are skipped, the others sync) is "degraded", not "cannot work".
Exit 0 when every enabled feature can work (degraded counts as working), 1 when one cannot
or the check itself failed, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pathlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from callsync.composition import Dependencies, build_dependencies
from callsync.config import Config
from callsync.errors import CallsyncError, InvalidSettings
from callsync.models.settings import OrgSettings
from callsync.models.validation import parse_settings
from callsync.services.doctor import DoctorReport, FeatureReport, diagnose

from callsync_dev.admin_aws import local_aws

_TICK, _CROSS, _WARN = "✓", "✗", "⚠"


# --- Rendering ----------------------------------------------------------------------------------


def _status(feature: FeatureReport) -> str:
    if not feature.works:
        return f"{_CROSS} cannot work"
    if feature.degraded:
        return f"{_WARN} works, with limits (degraded)"
    return f"{_TICK} works"


def failures_only(report: DoctorReport) -> DoctorReport:
    """The report with only the checks that did not pass, and only the features that have one."""
    features = [
        FeatureReport(feature=f.feature, checks=[c for c in f.checks if not c.ok])
        for f in report.features
        if any(not c.ok for c in f.checks)
    ]
    return DoctorReport(org_id=report.org_id, features=features)


def render_text(report: DoctorReport, *, instance_url: str | None = None, failures: bool = False) -> str:
    """One table per feature: ✓/✗ per check, and under each ✗ its problem and its fix.

    ``failures``: only the features with a failing check, and only those checks.
    """
    where = f" ({instance_url})" if instance_url else ""
    lines = [f"Salesforce permissions of the integration user for org {report.org_id}{where}", ""]
    shown = failures_only(report) if failures else report
    width = max((len(c.subject) for c in shown.checks), default=10) + 2
    if failures:
        passing = [f.feature.value for f in report.features if all(c.ok for c in f.checks)]
        if passing:
            lines += [f"{_TICK} {len(passing)} feature(s) pass every check: {', '.join(passing)}.", ""]
    for feature in shown.features:
        lines.append(f"{feature.feature.value} — {_status(feature)}")
        for check in feature.checks:
            mark = _TICK if check.ok else (_CROSS if check.blocking else _WARN)
            lines.append(f"  {mark} {check.subject.ljust(width)}{check.need}")
            if not check.ok:
                lines.append(f"      {check.problem}")
                lines.append(f"      Fix: {check.fix}")
        lines.append("")
    broken = [f.feature.value for f in report.features if not f.works]
    degraded = [f.feature.value for f in report.features if f.degraded]
    if broken:
        lines.append(f"{_CROSS} {len(broken)} enabled feature(s) cannot work: {', '.join(broken)}.")
    elif degraded:
        lines.append(f"{_WARN} every enabled feature can work; degraded: {', '.join(degraded)} (see the ⚠ lines).")
    else:
        lines.append(f"{_TICK} every enabled feature can work.")
    if broken and degraded:
        lines.append(f"{_WARN} degraded: {', '.join(degraded)} (see the ⚠ lines).")
    return "\n".join(lines)


# --- Settings files -----------------------------------------------------------------------------


def load_settings_file(path: str, org_id: str | None) -> OrgSettings:
    """Settings from a JSON file: one settings object, a list of them, or ``{org_id: settings}``.

    Raises:
        InvalidSettings: unreadable, not JSON, no settings for ``org_id``, or invalid (names the field).
    """
    try:
        data = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise InvalidSettings(f"cannot read settings file {path}: {e.strerror}") from e
    except ValueError as e:
        raise InvalidSettings(f"settings file {path} is not valid JSON: {e}") from e
    candidates: list[Any]
    if isinstance(data, list):
        candidates = data
    elif isinstance(data, dict) and "org_id" not in data and all(isinstance(v, dict) for v in data.values()):
        candidates = [{"org_id": k, **v} for k, v in data.items()]
    else:
        candidates = [data]
    items = [c for c in candidates if isinstance(c, dict)]
    chosen = [c for c in items if c.get("org_id") in (org_id, None)] if org_id is not None else items
    if len(chosen) != 1:
        which = f"org {org_id}" if org_id else "one org (pass --org-id to choose)"
        raise InvalidSettings(f"settings file {path} has {len(chosen)} settings for {which}")
    item = chosen[0]
    resolved = org_id or str(item.get("org_id") or "")
    return parse_settings({**item, "org_id": resolved or item.get("org_id")}, resolved or "?")


# --- Running ------------------------------------------------------------------------------------


@contextlib.contextmanager
def emulated_org(fixture: str, org_id: str) -> Iterator[tuple[Dependencies, str]]:
    """The emulator seeded with ``fixture``, connected as ``org_id`` in an embedded AWS."""
    from callsync_dev.emulator import Emulator

    emulator = Emulator.from_fixture(pathlib.Path(fixture), auto_approve=True).start()
    try:
        conn = emulator.connection
        config = Config(salesforce_ca_bundle=conn["ca_file"])
        with local_aws(config) as aws:
            secrets = aws.client("secretsmanager")
            secrets.create_secret(
                Name=config.app_secret_name,
                SecretString=json.dumps({"client_id": conn["client_id"], "client_secret": conn["client_secret"]}),
            )
            secrets.create_secret(
                Name=f"{config.secret_prefix}{org_id}",
                SecretString=json.dumps(
                    {
                        "instance_url": conn["instance_url"],
                        "access_token": conn["access_token"],
                        "refresh_token": conn["refresh_token"],
                        "issued_at": "0",
                        "id": f"{conn['instance_url']}/id/{org_id}/{emulator.integration_user_id}",
                    }
                ),
            )
            yield build_dependencies(config, boto_session=aws), conn["instance_url"]
    finally:
        emulator.stop()


def check_org(deps: Dependencies, org_id: str, settings: OrgSettings | None) -> DoctorReport:
    """The doctor report of ``org_id`` (settings from the table unless given)."""
    settings = settings or deps.settings.get(org_id)
    api = deps.salesforce(org_id)
    return diagnose(settings, deps.describes(org_id, api))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org-id", help="a connected org (settings table, Secrets Manager, real Salesforce)")
    parser.add_argument("--org", metavar="ORG.json", help="an org fixture: check against the emulator")
    parser.add_argument("--settings", metavar="SETTINGS.json", help="settings to check (default: the settings table)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--failures", action="store_true", help="show only the checks that did not pass (and their features)"
    )


def run(args: argparse.Namespace, *, deps: Dependencies | None = None) -> int:
    """``callsync doctor`` with parsed arguments; ``deps`` replaces the real adapters (tests)."""
    if not args.org_id and not args.org:
        print("callsync doctor: pass --org-id ORG, or --org ORG.json --settings SETTINGS.json", file=sys.stderr)
        return 2
    if args.org and not args.settings:
        print("callsync doctor: --org needs --settings SETTINGS.json", file=sys.stderr)
        return 2
    try:
        settings = load_settings_file(args.settings, args.org_id) if args.settings else None
        org_id = args.org_id or (settings.org_id if settings else "")
        if args.org:
            with emulated_org(args.org, org_id) as (local, instance_url):
                report = check_org(local, org_id, settings)
        else:
            deps = deps or build_dependencies()
            report = check_org(deps, org_id, settings)
            instance_url = None
            with contextlib.suppress(CallsyncError):
                instance_url = deps.tokens.get(org_id).get("instance_url")
    except CallsyncError as e:
        print(f"callsync doctor: {e}", file=sys.stderr)
        return 1
    if args.json:
        shown = failures_only(report) if args.failures else report
        print(json.dumps({**shown.to_json(), "ok": report.ok}, indent=2, ensure_ascii=False))
    else:
        print(render_text(report, instance_url=instance_url, failures=args.failures))
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None, *, deps: Dependencies | None = None) -> int:
    parser = argparse.ArgumentParser(prog="callsync doctor", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv), deps=deps)


def register_cli(subparsers: Any) -> None:
    """Add ``doctor`` to the ``callsync`` command's subparsers (dispatch through ``args.handler(args)``)."""
    parser = subparsers.add_parser("doctor", help="check the integration user's Salesforce permissions")
    add_arguments(parser)
    parser.set_defaults(handler=run)


if __name__ == "__main__":
    raise SystemExit(main())
