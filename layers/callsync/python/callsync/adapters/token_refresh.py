"""The OAuth refresh-token grant, safe against concurrent refreshers.

Called by the Salesforce gateway after a 401 INVALID_SESSION_ID. Design:

1. Per-process lock per org; then re-read the secret (bypassing the cache). If
   its access token is no longer the one that failed, someone already
   refreshed: use theirs, no grant.
2. Otherwise ``POST {instance_url}/services/oauth2/token`` (grant_type=refresh_token,
   client id/secret from the app secret). Not an API request: not counted.
3. Persist the new access token (and the new refresh token when rotated) with a
   conditional write on the secret version read in 1. On ``ConcurrentUpdate``
   another process stored newer tokens first: re-read and use those.
4. ``invalid_grant`` / ``invalid_client`` / ``unsupported_grant_type``: with
   refresh-token rotation a concurrent refresher may just have killed our
   refresh token, so poll the secret for up to ``settle_seconds``; if nobody
   stored newer tokens the org is disconnected: write ``"disconnected":
   {"reason", "at"}`` into the secret and raise ``OrgDisconnected``. No retry loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import requests

from callsync.adapters.salesforce_errors import from_requests_exception, from_response
from callsync.adapters.secrets_tokens import VERSION_KEY, disconnected_error
from callsync.errors import ConcurrentUpdate, OrgDisconnected, SalesforceUnavailable

PERMANENT_OAUTH_ERRORS = frozenset(
    {"invalid_grant", "invalid_client", "unsupported_grant_type", "invalid_client_id", "unauthorized_client"}
)


class RefreshableTokenStore(Protocol):
    def get(self, org_id: str) -> dict[str, Any]: ...

    def get_fresh(self, org_id: str) -> dict[str, Any]: ...

    def put(self, org_id: str, tokens: dict[str, Any], *, expected_version: str | None = None) -> None: ...


class _PermanentGrantError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def https_instance_url(instance_url: str) -> str:
    """The org's base URL as stored in its secret, without a trailing slash and with a scheme."""
    url = instance_url.rstrip("/")
    return url if "://" in url else f"https://{url}"


class TokenRefresher:
    """Refreshes an org's access token once for all its concurrent callers (see module doc)."""

    def __init__(
        self,
        tokens: RefreshableTokenStore,
        app_credentials: Callable[[], dict[str, str]],
        session: requests.Session,
        *,
        timeout: float | tuple[float, float] = (5, 30),
        settle_seconds: float = 2.0,
        poll_seconds: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._tokens = tokens
        self._app_credentials = app_credentials
        self._session = session
        self._timeout = timeout
        self._settle_seconds = settle_seconds
        self._poll_seconds = poll_seconds
        self._sleep = sleep
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.grants = 0  # refresh grants sent by this process (tests and metrics)

    def _lock(self, org_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(org_id, threading.Lock())

    def refresh(self, org_id: str, failed_access_token: str) -> dict[str, Any]:
        """Tokens with an access token newer than ``failed_access_token``.

        Raises:
            OrgDisconnected: the refresh token is dead and nobody stored a newer one.
            SalesforceUnavailable: the token endpoint did not answer usefully (retryable).
        """
        with self._lock(org_id):
            current = self._tokens.get_fresh(org_id)
            if current.get("access_token") != failed_access_token:
                return current
            try:
                granted = self._grant(org_id, current)
            except _PermanentGrantError as e:
                newer = self._wait_for_newer(org_id, current)
                if newer is not None:
                    return newer
                newer = self._mark_disconnected(org_id, current, e.error)
                if newer is not None:
                    return newer
                raise disconnected_error(org_id, e.error) from e
            updated = {k: v for k, v in current.items() if not k.startswith("_")}
            updated.update(
                {k: granted[k] for k in ("access_token", "instance_url", "issued_at", "id") if granted.get(k)}
            )
            if granted.get("refresh_token"):
                updated["refresh_token"] = granted["refresh_token"]
            try:
                self._tokens.put(org_id, updated, expected_version=current.get(VERSION_KEY))
            except ConcurrentUpdate:
                return self._tokens.get_fresh(org_id)
            return updated

    def _grant(self, org_id: str, current: dict[str, Any]) -> dict[str, Any]:
        app = self._app_credentials()
        url = f"{https_instance_url(str(current['instance_url']))}/services/oauth2/token"
        data = {
            "grant_type": "refresh_token",
            "refresh_token": current.get("refresh_token", ""),
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        }
        context = f"token refresh of org {org_id}"
        self.grants += 1
        try:
            answer = self._session.post(url, data=data, timeout=self._timeout)
        except requests.RequestException as e:
            raise from_requests_exception(e, context) from e
        try:
            body = answer.json()
        except ValueError:
            body = {"error": None, "error_description": answer.text[:200]}
        if answer.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            return body
        error = body.get("error") if isinstance(body, dict) else None
        if error in PERMANENT_OAUTH_ERRORS:
            raise _PermanentGrantError(str(error))
        if answer.status_code >= 500 or answer.status_code == 200:
            raise SalesforceUnavailable(
                f"Salesforce is unavailable for {context} (HTTP {answer.status_code})",
                code=str(error) if error else None,
            )
        raise from_response(answer.status_code, body, context)

    def _wait_for_newer(self, org_id: str, current: dict[str, Any]) -> dict[str, Any] | None:
        """Newer tokens stored by a concurrent refresher within ``settle_seconds``, else None."""
        deadline = time.monotonic() + self._settle_seconds
        while True:
            try:
                latest = self._tokens.get_fresh(org_id)
            except OrgDisconnected:
                return None
            if latest.get(VERSION_KEY) != current.get(VERSION_KEY) and (
                latest.get("refresh_token") != current.get("refresh_token")
                or latest.get("access_token") != current.get("access_token")
            ):
                return latest
            if time.monotonic() >= deadline:
                return None
            self._sleep(self._poll_seconds)

    def _mark_disconnected(self, org_id: str, current: dict[str, Any], reason: str) -> dict[str, Any] | None:
        """Write the disconnected marker; if someone stored tokens meanwhile, return theirs instead."""
        marked = {k: v for k, v in current.items() if not k.startswith("_")}
        marked["disconnected"] = {
            "reason": reason,
            "at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        try:
            self._tokens.put(org_id, marked, expected_version=current.get(VERSION_KEY))
        except ConcurrentUpdate:
            # Someone stored tokens meanwhile (a reconnect or a late refresher): use theirs.
            try:
                return self._tokens.get_fresh(org_id)
            except OrgDisconnected:
                return None
        return None
