"""``callsync connect``: the OAuth 2.0 web-server flow with PKCE, tokens stored in Secrets Manager.

1. Generate a PKCE verifier/challenge and a ``state``; start a loopback HTTP server
   (127.0.0.1, ``--port``, path ``/callback``).
2. Print (and open, unless ``--no-browser``) the authorize URL
   ``{login_url}/services/oauth2/authorize?response_type=code&client_id&redirect_uri&scope&state&code_challenge``.
3. The browser comes back to ``http://localhost:{port}/callback?code=...&state=...``; the state must match.
4. Exchange the code at ``{login_url}/services/oauth2/token`` (``authorization_code`` with
   ``code_verifier``, ``client_id``, ``client_secret``, ``redirect_uri``).
5. Store ``{"instance_url", "access_token", "refresh_token", "issued_at", "id"}`` in the org's
   secret ``{secret_prefix}{org_id}`` through ``SecretsManagerTokenStore``.

With ``--stack NAME`` (or ``CALLSYNC_STACK``) the secret prefix, the app secret's name and the KMS key
come from the deployed stack's outputs (``OrgSecretPrefix``, ``AppSecretName``, ``OrgSecretsKeyArn``):
each stack has its own names, and new secrets are created encrypted with the stack's key. Without it,
``SECRET_PREFIX``/``APP_SECRET_NAME``/``SECRETS_KMS_KEY_ID`` or the ``Config`` defaults apply.

The connected app's ``client_id``/``client_secret`` come from the app secret (``<stack>/app``)
or from flags (``--client-id``, ``--client-secret`` or ``CALLSYNC_CLIENT_SECRET``); flags are
saved to the app secret when it does not exist yet, because the pipeline refreshes tokens with it.

Nothing here prints or logs a token, the client secret or the authorization code.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import threading
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import requests
from botocore.exceptions import ClientError
from callsync.adapters.salesforce_api import make_session
from callsync.adapters.secrets_tokens import SecretsManagerTokenStore
from callsync.config import Config

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_PORT = 1717
DEFAULT_SCOPE = "api refresh_token"
CALLBACK_PATH = "/callback"
TOKEN_KEYS = ("instance_url", "access_token", "refresh_token", "issued_at", "id")


class ConnectError(Exception):
    """The flow failed; the message is safe to print (no token, secret or code)."""


# --- PKCE and the authorize URL -----------------------------------------------------------------


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str  # S256

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-] (RFC 7636: 43..128)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def authorize_url(
    login_url: str, *, client_id: str, redirect_uri: str, state: str, challenge: str, scope: str = DEFAULT_SCOPE
) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "prompt": "login consent",
        }
    )
    return f"{login_url.rstrip('/')}/services/oauth2/authorize?{query}"


# --- The loopback redirect receiver -------------------------------------------------------------

_DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>callsync</title>"
    b"<p>callsync received Salesforce's answer. You can close this window and return to the terminal.</p>"
)


class LoopbackReceiver:
    """A one-shot HTTP server on 127.0.0.1 that captures the redirect's query parameters.

    Use as a context manager; ``redirect_uri`` is ``http://localhost:{port}/callback``.
    The request line (which carries the code) is never logged.
    """

    def __init__(self, port: int = DEFAULT_PORT, *, host_name: str = "localhost") -> None:
        self._received = threading.Event()
        self._params: dict[str, str] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH:
                    self.send_error(404)
                    return
                if not receiver._received.is_set():
                    receiver._params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    receiver._received.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(_DONE_PAGE)))
                self.end_headers()
                self.wfile.write(_DONE_PAGE)

            def log_message(self, format: str, *args: Any) -> None:
                """Silent: the request line carries the authorization code."""

        try:
            self._server = HTTPServer(("127.0.0.1", port), Handler)
        except OSError as e:
            raise ConnectError(f"cannot listen on 127.0.0.1:{port} for the OAuth redirect ({e.strerror})") from e
        self.port = int(self._server.server_address[1])
        self.redirect_uri = f"http://{host_name}:{self.port}{CALLBACK_PATH}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="oauth-redirect", daemon=True)

    def __enter__(self) -> LoopbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait(self, timeout: float) -> dict[str, str]:
        """The redirect's query parameters.

        Raises:
            ConnectError: nothing arrived within ``timeout`` seconds.
        """
        if not self._received.wait(timeout):
            raise ConnectError(f"no answer from Salesforce on {self.redirect_uri} within {timeout:.0f} s")
        return dict(self._params)


# --- Code exchange and storage ------------------------------------------------------------------


@dataclass(frozen=True)
class AppClient:
    """The connected app's OAuth client."""

    client_id: str
    client_secret: str = ""

    def __repr__(self) -> str:  # never show the secret
        return f"AppClient(client_id={self.client_id!r})"


def exchange_code(
    session: requests.Session,
    login_url: str,
    client: AppClient,
    *,
    code: str,
    redirect_uri: str,
    verifier: str,
    timeout: float = 30,
) -> dict[str, Any]:
    """POST the authorization_code grant; the token response.

    Raises:
        ConnectError: Salesforce refused (its ``error``/``error_description``), or no usable answer.
    """
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    if client.client_secret:
        form["client_secret"] = client.client_secret
    url = f"{login_url.rstrip('/')}/services/oauth2/token"
    try:
        answer = session.post(url, data=form, headers={"Accept": "application/json"}, timeout=timeout)
    except requests.RequestException as e:
        raise ConnectError(f"cannot reach {url}: {type(e).__name__}") from None
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code != 200:
        error = body.get("error", f"HTTP {answer.status_code}") if isinstance(body, dict) else answer.status_code
        detail = body.get("error_description", "") if isinstance(body, dict) else ""
        raise ConnectError(f"Salesforce refused the code exchange: {error} {detail}".strip())
    missing = [k for k in TOKEN_KEYS if not (isinstance(body, dict) and body.get(k))]
    if missing:
        raise ConnectError(
            f"the token response lacks {', '.join(missing)}"
            + (" (add the refresh_token scope to the connected app)" if "refresh_token" in missing else "")
        )
    return {k: body[k] for k in TOKEN_KEYS}


@dataclass(frozen=True)
class Connected:
    org_id: str
    instance_url: str
    identity_url: str
    secret_name: str


def run_flow(
    org_id: str,
    *,
    login_url: str,
    client: AppClient,
    tokens: SecretsManagerTokenStore,
    session: requests.Session,
    open_url: Callable[[str], object],
    say: Callable[[str], None],
    port: int = DEFAULT_PORT,
    timeout: float = 300,
    scope: str = DEFAULT_SCOPE,
) -> Connected:
    """The whole flow: authorize in the browser, receive the code, exchange it, store the tokens.

    Raises:
        ConnectError: any step failed (the message names it, without secrets).
    """
    pkce = Pkce.new()
    state = secrets.token_urlsafe(24)
    with LoopbackReceiver(port) as receiver:
        url = authorize_url(
            login_url,
            client_id=client.client_id,
            redirect_uri=receiver.redirect_uri,
            state=state,
            challenge=pkce.challenge,
            scope=scope,
        )
        say(f"Open this URL and log in as the Salesforce integration user:\n\n  {url}\n")
        say(f"Waiting for Salesforce to redirect to {receiver.redirect_uri} ...")
        open_url(url)
        params = receiver.wait(timeout)
    if params.get("error"):
        raise ConnectError(
            f"Salesforce did not authorize: {params['error']} {params.get('error_description', '')}".strip()
        )
    if not secrets.compare_digest(params.get("state", ""), state):
        raise ConnectError("the redirect's state does not match this request (stale or forged redirect)")
    if not params.get("code"):
        raise ConnectError("the redirect carries no authorization code")
    answer = exchange_code(
        session, login_url, client, code=params["code"], redirect_uri=receiver.redirect_uri, verifier=pkce.verifier
    )
    tokens.put(org_id, answer)
    return Connected(org_id, answer["instance_url"], answer["id"], tokens.secret_name(org_id))


# --- The connected app's credentials ------------------------------------------------------------


def read_app_client(secrets_client: Any, name: str) -> AppClient | None:
    """The app secret, or None when it does not exist."""
    try:
        raw = json.loads(secrets_client.get_secret_value(SecretId=name)["SecretString"])
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    if not isinstance(raw, dict) or not raw.get("client_id"):
        raise ConnectError(f'app secret {name} is not {{"client_id", "client_secret"}}')
    return AppClient(str(raw["client_id"]), str(raw.get("client_secret") or ""))


def write_app_client(secrets_client: Any, name: str, client: AppClient, *, kms_key_id: str | None = None) -> None:
    body = json.dumps({"client_id": client.client_id, "client_secret": client.client_secret})
    try:
        secrets_client.put_secret_value(SecretId=name, SecretString=body)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        key = {"KmsKeyId": kms_key_id} if kms_key_id else {}
        secrets_client.create_secret(Name=name, SecretString=body, **key)


def resolve_app_client(
    secrets_client: Any,
    name: str,
    flags: AppClient | None,
    *,
    save: bool,
    say: Callable[[str], None],
    kms_key_id: str | None = None,
) -> AppClient:
    """Flags win for this run; the app secret is created from them when absent (or replaced with ``save``).

    Raises:
        ConnectError: no client anywhere, or flags that differ from the app secret without ``save``.
    """
    stored = read_app_client(secrets_client, name)
    if flags is None:
        if stored is None:
            raise ConnectError(
                f"no app secret {name}: pass --client-id and --client-secret (or CALLSYNC_CLIENT_SECRET)"
            )
        return stored
    if stored is None or save:
        write_app_client(secrets_client, name, flags, kms_key_id=kms_key_id)
        say(f"Saved the connected app's client id and secret in {name}.")
    elif stored != flags:
        raise ConnectError(
            f"{name} holds another connected app; the pipeline refreshes tokens with it. "
            "Pass --save-app-secret to replace it, or drop --client-id/--client-secret."
        )
    return flags


# --- The deployed stack's names ------------------------------------------------------------------

STACK_OUTPUTS = {"OrgSecretPrefix": "secret_prefix", "AppSecretName": "app_secret_name",
                 "OrgSecretsKeyArn": "secrets_kms_key_id"}  # fmt: skip


def config_from_stack(cloudformation: Any, stack_name: str, base: Config) -> Config:
    """``base`` with the secret prefix, app secret name and secrets key of the deployed stack.

    Raises:
        ConnectError: the stack does not exist or lacks one of the outputs.
    """
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as e:
        raise ConnectError(f"cannot read stack {stack_name}: {e.response.get('Error', {}).get('Code', 'error')}") from e
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    missing = sorted(set(STACK_OUTPUTS) - set(outputs))
    if missing:
        raise ConnectError(f"stack {stack_name} has no output {', '.join(missing)} (deployed from an older template?)")
    return base.model_copy(update={field: outputs[key] for key, field in STACK_OUTPUTS.items()})


# --- Command line -------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org-id", required=True, help="tenant id: the secret is <secret_prefix><org-id>")
    parser.add_argument(
        "--login-url",
        default=DEFAULT_LOGIN_URL,
        help="https://login.salesforce.com, https://test.salesforce.com or your My Domain URL",
    )
    parser.add_argument("--client-id", help="connected app consumer key (default: from the app secret)")
    parser.add_argument("--client-secret", help="consumer secret (prefer CALLSYNC_CLIENT_SECRET)")
    parser.add_argument(
        "--save-app-secret",
        action="store_true",
        help="store --client-id/--client-secret in the app secret even if it exists",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"loopback port of the callback URL http://localhost:PORT{CALLBACK_PATH}",
    )
    parser.add_argument("--scope", default=DEFAULT_SCOPE)
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the browser")
    parser.add_argument("--no-browser", action="store_true", help="print the URL only")
    parser.add_argument("--ca-file", help="CA bundle for a private Salesforce endpoint (the local emulator)")
    parser.add_argument(
        "--stack",
        default=os.environ.get("CALLSYNC_STACK"),
        help="deployed stack whose outputs name the secrets and their KMS key (default: CALLSYNC_STACK)",
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    open_url: Callable[[str], object] | None = None,
    boto_session: Any = None,
    config: Config | None = None,
) -> int:
    """``callsync connect``; 0 connected, 1 failed, 2 usage error. ``open_url`` replaces the browser."""
    parser = argparse.ArgumentParser(prog="callsync connect", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args, open_url=open_url, boto_session=boto_session, config=config)


def run(
    args: argparse.Namespace,
    *,
    open_url: Callable[[str], object] | None = None,
    boto_session: Any = None,
    config: Config | None = None,
) -> int:
    config = config or Config.from_env()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    client_secret = args.client_secret or os.environ.get("CALLSYNC_CLIENT_SECRET", "")
    if client_secret and not args.client_id:
        say("callsync connect: --client-secret needs --client-id")
        return 2
    flags = AppClient(args.client_id, client_secret) if args.client_id else None
    if open_url is None:
        open_url = (lambda url: None) if args.no_browser else webbrowser.open
    aws = boto_session or boto3.session.Session()
    secrets_client = aws.client("secretsmanager")
    try:
        if args.stack:
            config = config_from_stack(aws.client("cloudformation"), args.stack, config)
        key = config.secrets_kms_key_id
        client = resolve_app_client(secrets_client, config.app_secret_name, flags, save=args.save_app_secret, say=say,
                                    kms_key_id=key)  # fmt: skip
        connected = run_flow(
            args.org_id,
            login_url=args.login_url,
            client=client,
            tokens=SecretsManagerTokenStore(
                secrets_client, prefix=config.secret_prefix, cache_seconds=0, kms_key_id=key
            ),
            session=make_session(args.ca_file or config.salesforce_ca_bundle),
            open_url=open_url,
            say=say,
            port=args.port,
            timeout=args.timeout,
            scope=args.scope,
        )
    except ConnectError as e:
        say(f"callsync connect: {e}")
        return 1
    except ClientError as e:
        say(f"callsync connect: AWS refused: {e.response.get('Error', {}).get('Code', 'error')}")
        return 1
    print(
        json.dumps(
            {
                "org_id": connected.org_id,
                "instance_url": connected.instance_url,
                "identity_url": connected.identity_url,
                "secret": connected.secret_name,
            }
        )
    )
    say(f"Connected org {connected.org_id} ({connected.instance_url}); tokens stored in {connected.secret_name}.")
    say(f"Next: callsync doctor --org-id {connected.org_id}")
    return 0


def register_cli(subparsers: Any) -> None:
    """Add ``connect`` to the ``callsync`` command's subparsers (dispatch through ``args.handler(args)``)."""
    parser = subparsers.add_parser("connect", help="connect a Salesforce org (OAuth 2.0 web-server flow with PKCE)")
    add_arguments(parser)
    parser.set_defaults(handler=run)


if __name__ == "__main__":
    raise SystemExit(main())
