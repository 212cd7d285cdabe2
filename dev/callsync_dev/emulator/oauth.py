"""OAuth 2.0 as Salesforce does it: web-server flow with PKCE, refresh tokens, rotation, revocation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any


class OAuthError(Exception):
    """A token-endpoint error: 400 ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.status = status


@dataclass
class AccessToken:
    value: str
    uses: int = 0


@dataclass
class AuthCode:
    redirect_uri: str
    challenge: str | None
    method: str
    scope: str


class TokenBook:
    """Clients, codes, access and refresh tokens of one emulated org."""

    def __init__(
        self,
        org_id: str,
        *,
        session_expires_after: int | None,
        refresh_token_revoked: bool,
        rotate_refresh_tokens: bool,
    ) -> None:
        self.org_id = org_id
        self.client_id = "3MVG9" + secrets.token_urlsafe(40).replace("-", "A").replace("_", "z")
        self.client_secret = secrets.token_hex(32).upper()
        self.session_expires_after = session_expires_after
        self.refresh_token_revoked = refresh_token_revoked
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self._access: dict[str, AccessToken] = {}
        self._refresh: set[str] = set()
        self._codes: dict[str, AuthCode] = {}
        self._lock = threading.Lock()
        self.access_token = self._new_access()
        self.refresh_token = self._new_refresh()

    def _new_access(self) -> str:
        token = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(72)}"
        self._access[token] = AccessToken(token)
        return token

    def _new_refresh(self) -> str:
        token = "5Aep861" + secrets.token_urlsafe(60)
        self._refresh.add(token)
        return token

    # ---------------------------------------------------------------- sessions -----------------------
    def use_access_token(self, token: str | None) -> bool:
        """Count one API request against the token; False when it is unknown or expired."""
        with self._lock:
            record = self._access.get(token or "")
            if record is None:
                return False
            if self.session_expires_after is not None and record.uses >= self.session_expires_after:
                del self._access[record.value]
                return False
            record.uses += 1
            return True

    def is_valid(self, token: str | None) -> bool:
        with self._lock:
            return (token or "") in self._access

    def revoke(self, token: str) -> None:
        with self._lock:
            self._access.pop(token, None)
            self._refresh.discard(token)

    # ---------------------------------------------------------------- authorize ----------------------
    def authorize(self, params: dict[str, str]) -> str:
        """Approve an authorize request; returns the redirect location (code or error)."""
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if not redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        state = params.get("state")
        if params.get("response_type") != "code":
            return _with_query(
                redirect_uri,
                {
                    "error": "unsupported_response_type",
                    "error_description": "response type not supported",
                    "state": state,
                },
            )
        code = "aPrx" + secrets.token_urlsafe(48)
        with self._lock:
            self._codes[code] = AuthCode(
                redirect_uri,
                params.get("code_challenge"),
                params.get("code_challenge_method", "plain"),
                params.get("scope", ""),
            )
        return _with_query(redirect_uri, {"code": code, "state": state})

    # ---------------------------------------------------------------- token --------------------------
    def token(self, form: dict[str, str], instance_url: str, user_id: str) -> dict[str, Any]:
        grant = form.get("grant_type")
        if grant not in ("authorization_code", "refresh_token"):
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        if form.get("client_id") != self.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") is not None and not hmac.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            raise OAuthError("invalid_client", "invalid client credentials")
        with self._lock:
            if grant == "authorization_code":
                return self._exchange_code(form, instance_url, user_id)
            return self._refresh_grant(form, instance_url, user_id)

    def _exchange_code(self, form: dict[str, str], instance_url: str, user_id: str) -> dict[str, Any]:
        code = self._codes.pop(form.get("code", ""), None)
        if code is None:
            raise OAuthError("invalid_grant", "invalid authorization code")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        if code.challenge:
            verifier = form.get("code_verifier", "")
            if code.method.upper() == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            else:
                expected = verifier
            if not verifier or not hmac.compare_digest(expected, code.challenge):
                raise OAuthError("invalid_grant", "invalid code verifier")
        elif form.get("client_secret") is None:
            raise OAuthError("invalid_client", "invalid client credentials")
        scopes = code.scope.split()
        body = self._grant_body(instance_url, user_id, " ".join(scopes) or "api refresh_token")
        if not scopes or {"refresh_token", "offline_access", "full"} & set(scopes):
            body["refresh_token"] = self._new_refresh()
        return body

    def _refresh_grant(self, form: dict[str, str], instance_url: str, user_id: str) -> dict[str, Any]:
        presented = form.get("refresh_token", "")
        if self.refresh_token_revoked or presented not in self._refresh:
            raise OAuthError("invalid_grant", "expired access/refresh token")
        body = self._grant_body(instance_url, user_id, "api refresh_token")
        if self.rotate_refresh_tokens:
            self._refresh.discard(presented)
            body["refresh_token"] = self._new_refresh()
        return body

    def _grant_body(self, instance_url: str, user_id: str, scope: str) -> dict[str, Any]:
        issued_at = str(int(time.time() * 1000))
        identity = f"{instance_url}/id/{self.org_id}/{user_id}"
        signature = base64.b64encode(
            hmac.new(self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        return {
            "access_token": self._new_access(),
            "signature": signature,
            "scope": scope,
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }


def _with_query(url: str, params: dict[str, str | None]) -> str:
    parts = urllib.parse.urlsplit(url)
    extra = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
