"""callsync connect against the emulator's OAuth endpoints, tokens stored in (moto) Secrets Manager."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from callsync.adapters.salesforce_api import make_session
from callsync.composition import build_dependencies
from callsync.config import Config
from callsync_dev import connect
from callsync_dev.emulator import Emulator

from tests.support.stack import StartEmulator, put_secret

pytestmark = pytest.mark.integration

ORG: dict[str, Any] = {
    "records": {"User": [{"Id": "alice", "LastName": "Rep", "Email": "alice@ourco.com", "IsActive": True}]},
}


class Browser:
    """Plays the admin's browser: follows the authorize URL; the emulator auto-approves and redirects
    to the loopback callback. Remembers the authorization code it carried (to scan output for it)."""

    def __init__(self, ca_file: str) -> None:
        self.session = make_session(ca_file)
        self.codes: list[str] = []
        self.visited: list[str] = []

    def __call__(self, url: str) -> None:
        self.visited.append(url)
        answer = self.session.get(url, timeout=10)
        for hop in answer.history:
            location = hop.headers.get("Location", "")
            self.codes += parse_qs(urlsplit(location).query).get("code", [])
        assert answer.status_code == 200


def secret(aws: Any, name: str) -> dict[str, Any]:
    """The AWSCURRENT value (named explicitly: moto's default version does not follow stage moves)."""
    answer = aws.client("secretsmanager").get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
    return json.loads(answer["SecretString"])


def args_for(emu: Emulator, *extra: str) -> list[str]:
    conn = emu.connection
    return [
        "--org-id",
        "acme",
        "--login-url",
        conn["instance_url"],
        "--ca-file",
        conn["ca_file"],
        "--port",
        "0",
        "--timeout",
        "10",
        *extra,
    ]


def client_flags(conn: dict[str, Any], client_secret: str | None = None) -> list[str]:
    """The connected app's credentials as connect's flags (the emulator's own secret unless given)."""
    return ["--client-id", conn["client_id"], "--client-secret", client_secret or conn["client_secret"]]


def run_connect(aws: Any, emu: Emulator, *extra: str, open_url: Callable[[str], None] | None = None) -> int:
    """``callsync connect`` for org acme against the emulator; the admin approves in a Browser unless
    ``open_url`` plays the browser."""
    browser = open_url or Browser(emu.connection["ca_file"])
    return connect.main(args_for(emu, *extra), open_url=browser, boto_session=aws)


def test_connect_stores_working_tokens_and_prints_no_secret(
    aws: Any, emulator_for: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an emulated org and the connected app's credentials as flags
    emu = emulator_for(ORG)
    conn = emu.connection
    browser = Browser(conn["ca_file"])
    # When the admin runs connect and approves in the browser
    code = run_connect(aws, emu, *client_flags(conn), open_url=browser)
    # Then the org's secret holds the tokens, in the contract's shape
    assert code == 0
    stored = secret(aws, "callsync/org/acme")
    assert set(stored) == {"instance_url", "access_token", "refresh_token", "issued_at", "id"}
    assert stored["instance_url"] == conn["instance_url"]
    # And the authorize request was a PKCE web-server request on the loopback callback
    query = parse_qs(urlsplit(browser.visited[0]).query)
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"][0].startswith("http://localhost:") and query["scope"] == ["api refresh_token"]
    # And the app secret was saved for the pipeline's refreshes
    assert secret(aws, "callsync/app") == {"client_id": conn["client_id"], "client_secret": conn["client_secret"]}
    # And the stored access token works
    answer = make_session(conn["ca_file"]).get(
        f"{conn['instance_url']}/services/data/v62.0/limits/",
        headers={"Authorization": f"Bearer {stored['access_token']}"},
        timeout=10,
    )
    assert answer.status_code == 200
    # And nothing printed carries a token, the client secret or the code
    out = capsys.readouterr()
    printed = out.out + out.err
    assert browser.codes
    for value in [stored["access_token"], stored["refresh_token"], conn["client_secret"], *browser.codes]:
        assert value not in printed
    assert json.loads(out.out)["secret"] == "callsync/org/acme"


def test_the_pipeline_refreshes_with_what_connect_stored(aws: Any, emulator_for: StartEmulator) -> None:
    # Given an org whose sessions die after 2 API requests, connected with connect
    emu = emulator_for({**ORG, "session_expires_after": 2})
    conn = emu.connection
    flags = client_flags(conn)
    assert run_connect(aws, emu, *flags) == 0
    before = secret(aws, "callsync/org/acme")
    # When the pipeline's gateway makes more requests than a session lives
    deps = build_dependencies(Config(salesforce_ca_bundle=conn["ca_file"], secret_cache_seconds=0), boto_session=aws)
    api = deps.salesforce("acme")
    for _ in range(5):
        assert api.query("SELECT Id FROM User")
    # Then it refreshed with the stored refresh token and app secret, and stored the new access token
    after = secret(aws, "callsync/org/acme")
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] == before["refresh_token"]


def test_the_app_secret_is_used_when_no_flags_are_given(aws: Any, emulator_for: StartEmulator) -> None:
    # Given the connected app's credentials in callsync/app
    emu = emulator_for(ORG)
    conn = emu.connection
    put_secret(aws, "callsync/app", {"client_id": conn["client_id"], "client_secret": conn["client_secret"]})
    # When connect runs without client flags
    code = run_connect(aws, emu)
    # Then it connects
    assert code == 0
    assert secret(aws, "callsync/org/acme")["instance_url"] == conn["instance_url"]


def test_without_any_client_connect_fails_before_opening_a_browser(
    aws: Any, emulator_for: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no app secret and no flags
    emu = emulator_for(ORG)
    browser = Browser(emu.connection["ca_file"])
    # When connect runs
    code = run_connect(aws, emu, open_url=browser)
    # Then it fails, saying what to pass, and no browser opened
    assert code == 1
    assert "--client-id" in capsys.readouterr().err
    assert browser.visited == []


def test_flags_that_differ_from_the_app_secret_are_refused(
    aws: Any, emulator_for: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given another connected app in callsync/app
    emu = emulator_for(ORG)
    conn = emu.connection
    put_secret(aws, "callsync/app", {"client_id": "other", "client_secret": "other-secret"})
    # When connect runs with this app's flags
    flags = client_flags(conn)
    code = run_connect(aws, emu, *flags)
    # Then it refuses (refreshes would use the other app), unless told to replace it
    assert code == 1 and "--save-app-secret" in capsys.readouterr().err
    code = run_connect(aws, emu, *flags, "--save-app-secret")
    assert code == 0
    assert secret(aws, "callsync/app")["client_id"] == conn["client_id"]


def test_a_wrong_client_secret_fails_the_exchange_and_stores_nothing(
    aws: Any, emulator_for: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a wrong consumer secret
    emu = emulator_for(ORG)
    conn = emu.connection
    browser = Browser(conn["ca_file"])
    # When connect runs
    code = run_connect(aws, emu, *client_flags(conn, "WRONG-SECRET-123"), open_url=browser)
    # Then the exchange is refused with Salesforce's error, no org secret exists, and the code is not printed
    err = capsys.readouterr().err
    assert code == 1 and "invalid_client" in err
    assert browser.codes and browser.codes[0] not in err and "WRONG-SECRET-123" not in err
    with pytest.raises(aws.client("secretsmanager").exceptions.ResourceNotFoundException):
        aws.client("secretsmanager").get_secret_value(SecretId="callsync/org/acme")


def forged_redirect(params: dict[str, str]) -> Callable[[str], None]:
    """A browser that lands on the callback with ``params`` (state taken from the URL unless given)."""

    def visit(url: str) -> None:
        query = parse_qs(urlsplit(url).query)
        redirect = query["redirect_uri"][0]
        sent = {"state": query["state"][0], **params}
        requests.get(redirect, params=sent, timeout=5)

    return visit


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "forged", "code": "aPrxSTOLEN"}, "state does not match"),
        ({"error": "access_denied", "error_description": "end-user denied authorization"}, "access_denied"),
        ({}, "no authorization code"),
    ],
)
def test_a_bad_redirect_is_refused(
    aws: Any,
    emulator_for: StartEmulator,
    capsys: pytest.CaptureFixture[str],
    params: dict[str, str],
    expected: str,
) -> None:
    # Given a redirect with a forged state, a denial, or no code
    emu = emulator_for(ORG)
    conn = emu.connection
    flags = client_flags(conn)
    # When connect receives it
    code = run_connect(aws, emu, *flags, open_url=forged_redirect(params))
    # Then it fails, saying why, and stores no tokens
    assert code == 1 and expected in capsys.readouterr().err
    names = [s["Name"] for s in aws.client("secretsmanager").list_secrets()["SecretList"]]
    assert "callsync/org/acme" not in names


def test_no_redirect_times_out(aws: Any, emulator_for: StartEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a browser that never comes back
    emu = emulator_for(ORG)
    conn = emu.connection
    flags = client_flags(conn)
    # When connect waits one second
    code = run_connect(aws, emu, *flags, "--timeout", "1", open_url=lambda url: None)
    # Then it gives up with a clear message
    assert code == 1 and "no answer from Salesforce" in capsys.readouterr().err


class StackOutputs:
    """CloudFormation's DescribeStacks for one deployed stack (moto's CloudFormation is not installed)."""

    def __init__(self, name: str, outputs: dict[str, str]) -> None:
        self.name, self.outputs = name, outputs

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # boto3's parameter name
        assert StackName == self.name
        return {
            "Stacks": [
                {
                    "StackName": self.name,
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()],
                }
            ]
        }


class SessionWithStack:
    """The moto session, with ``client("cloudformation")`` answering for the deployed stack."""

    def __init__(self, aws: Any, cloudformation: StackOutputs) -> None:
        self.aws, self.cloudformation = aws, cloudformation

    def client(self, name: str) -> Any:
        return self.cloudformation if name == "cloudformation" else self.aws.client(name)


def test_with_a_stack_the_secrets_get_its_names_and_its_kms_key(aws: Any, emulator_for: StartEmulator) -> None:
    # Given a deployed stack "staging" whose outputs name its secrets and their customer managed key
    key_arn = aws.client("kms").create_key(Description="staging org secrets")["KeyMetadata"]["Arn"]
    stack = StackOutputs("staging", {"OrgSecretPrefix": "staging/org/", "AppSecretName": "staging/app",
                                     "OrgSecretsKeyArn": key_arn})  # fmt: skip
    emu = emulator_for(ORG)
    conn = emu.connection
    # When connect runs for that stack
    code = connect.main([*args_for(emu, *client_flags(conn)), "--stack", "staging"],
                        open_url=Browser(conn["ca_file"]), boto_session=SessionWithStack(aws, stack))  # fmt: skip
    # Then the org and app secrets are the stack's, encrypted with its key
    assert code == 0
    sm = aws.client("secretsmanager")
    assert secret(aws, "staging/org/acme")["instance_url"] == conn["instance_url"]
    assert sm.describe_secret(SecretId="staging/org/acme")["KmsKeyId"] == key_arn
    assert sm.describe_secret(SecretId="staging/app")["KmsKeyId"] == key_arn
    # And nothing was written under another stack's (or the default) names
    names = {s["Name"] for s in sm.list_secrets()["SecretList"]}
    assert names == {"staging/org/acme", "staging/app"}


def test_a_stack_without_the_outputs_is_refused_before_the_browser_opens(
    aws: Any, emulator_for: StartEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack deployed from a template without the secrets outputs
    emu = emulator_for(ORG)
    opened: list[str] = []
    # When connect runs for it
    code = connect.main(
        [*args_for(emu, *client_flags(emu.connection)), "--stack", "old"],
        open_url=opened.append,
        boto_session=SessionWithStack(aws, StackOutputs("old", {})),
    )
    # Then it fails naming the missing outputs, and nothing was started or stored
    assert code == 1 and "OrgSecretsKeyArn" in capsys.readouterr().err
    assert opened == [] and aws.client("secretsmanager").list_secrets()["SecretList"] == []
