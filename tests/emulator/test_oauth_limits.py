"""OAuth (web-server flow with PKCE, refresh, rotation, revocation), API counting, faults, expiry."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from typing import Any

import pytest
import requests
import simple_salesforce
from callsync_dev.emulator import Emulator
from callsync_dev.emulator.testing import salesforce_client
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceGeneralError, SalesforceRefusedRequest

REDIRECT = "https://app.example/callback"


def session_for(conn: dict[str, str]) -> requests.Session:
    session = requests.Session()
    session.verify = conn["ca_file"]
    session.trust_env = False
    return session


def token(conn: dict[str, str], **form: str) -> requests.Response:
    return session_for(conn).post(
        conn["instance_url"] + "/services/oauth2/token",
        data={"client_id": conn["client_id"], "client_secret": conn["client_secret"], **form},
    )


def authorize(conn: dict[str, str], **params: str) -> dict[str, str]:
    response = session_for(conn).get(
        conn["instance_url"] + "/services/oauth2/authorize",
        allow_redirects=False,
        params={"response_type": "code", "client_id": conn["client_id"], "redirect_uri": REDIRECT, **params},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).items()}


def test_web_server_flow_with_pkce(emulator: Emulator) -> None:
    conn = emulator.connection
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    # Given an authorize request with PKCE and state (auto-approved)
    params = authorize(
        conn, state="xyz", code_challenge=challenge, code_challenge_method="S256", scope="api refresh_token"
    )
    assert params["state"] == "xyz"
    # When the code is exchanged with a wrong verifier, then with the right one
    wrong = token(
        conn, grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT, code_verifier="nope"
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    params = authorize(conn, state="s2", code_challenge=challenge, code_challenge_method="S256")
    granted = token(
        conn, grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT, code_verifier=verifier
    ).json()
    # Then the grant has Salesforce's fields and the access token works
    assert {
        "access_token",
        "refresh_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
        "scope",
    } <= set(granted)
    assert granted["instance_url"] == conn["instance_url"] and granted["token_type"] == "Bearer"
    assert granted["id"].endswith(emulator.integration_user_id)
    sf = salesforce_client({**conn, "access_token": granted["access_token"]})
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 1
    # And the code cannot be used twice
    again = token(
        conn, grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT, code_verifier=verifier
    )
    assert again.json()["error"] == "invalid_grant"


def test_manual_approval_page() -> None:
    # Given an emulator that does not auto-approve
    with Emulator.from_fixture(None, auto_approve=False) as emu:
        conn = emu.connection
        url = conn["instance_url"] + "/services/oauth2/authorize"
        query = {"response_type": "code", "client_id": conn["client_id"], "redirect_uri": REDIRECT, "state": "s"}
        # When the authorize page is opened, then approved
        page = session_for(conn).get(url, params=query, allow_redirects=False)
        approved = session_for(conn).post(url, data={**query, "approve": "1"}, allow_redirects=False)
        # Then the page asks first, and the approval redirects with a code and the state
        assert page.status_code == 200 and "Allow" in page.text
        assert approved.status_code == 302 and "code=" in approved.headers["Location"]


def test_refresh_grant_and_bad_clients(emulator: Emulator) -> None:
    conn = emulator.connection
    # When the refresh token is used
    refreshed = token(conn, grant_type="refresh_token", refresh_token=conn["refresh_token"])
    # Then a new access token comes back without a new refresh token (no rotation)
    assert refreshed.status_code == 200 and "refresh_token" not in refreshed.json()
    assert refreshed.json()["access_token"] != conn["access_token"]
    # And bad secrets, unknown grants and unknown refresh tokens are refused as Salesforce does
    assert (
        token(conn, grant_type="refresh_token", refresh_token=conn["refresh_token"], client_secret="x").json()["error"]
        == "invalid_client"
    )
    assert token(conn, grant_type="password").json()["error"] == "unsupported_grant_type"
    assert token(conn, grant_type="refresh_token", refresh_token="5Aep861nope").json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    # And OAuth requests do not count against the API allocation
    assert emulator.api_requests == 0


def test_rotation_and_revocation() -> None:
    # Given an org that rotates refresh tokens
    with Emulator.from_fixture({"rotate_refresh_tokens": True}) as emu:
        conn = emu.connection
        # When the refresh token is used twice
        first = token(conn, grant_type="refresh_token", refresh_token=conn["refresh_token"]).json()
        replay = token(conn, grant_type="refresh_token", refresh_token=conn["refresh_token"])
        # Then the first use returns a new refresh token and the old one is dead
        assert first["refresh_token"] != conn["refresh_token"]
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        assert token(conn, grant_type="refresh_token", refresh_token=first["refresh_token"]).status_code == 200
    # Given an org whose refresh token was revoked
    with Emulator.from_fixture({"refresh_token_revoked": True}) as emu:
        conn = emu.connection
        revoked = token(conn, grant_type="refresh_token", refresh_token=conn["refresh_token"])
        # Then the refresh grant answers invalid_grant
        assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"


def test_session_expires_after_n_requests_and_refresh_revives() -> None:
    # Given sessions that die after 2 API requests
    with Emulator.from_fixture({"session_expires_after": 2}) as emu:
        sf = salesforce_client(emu.connection)
        sf.query("SELECT Id FROM User")
        sf.query("SELECT Id FROM User")
        # When a third request is made
        with pytest.raises(SalesforceExpiredSession) as info:
            sf.query("SELECT Id FROM User")
        assert info.value.content[0] == {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        # Then a refreshed token works again, and the refused request was not counted
        fresh = token(emu.connection, grant_type="refresh_token", refresh_token=emu.connection["refresh_token"])
        sf2 = salesforce_client({**emu.connection, "access_token": fresh.json()["access_token"]})
        assert sf2.query("SELECT Id FROM User")["totalSize"] == 1
        assert emu.api_requests == 3


def test_api_limit_exceeded() -> None:
    # Given an allocation of 3 requests
    with Emulator.from_fixture({"api_limit": 3}) as emu:
        sf = salesforce_client(emu.connection)
        for _ in range(3):
            sf.query("SELECT Id FROM User")
        # When a fourth is made
        with pytest.raises(SalesforceRefusedRequest) as info:
            sf.query("SELECT Id FROM User")
        # Then 403 REQUEST_LIMIT_EXCEEDED, with the usage header still present
        assert info.value.status == 403 and info.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
        assert emu.api_requests == 3


def test_usage_already_in_the_window_counts_in_the_header_the_limits_and_the_allocation() -> None:
    """Source: REST API Developer Guide, "Limit Info Header": every REST answer carries
    ``Sforce-Limit-Info: api-usage=USED/LIMIT``, the org's daily usage (every client of the org counts)."""
    # Given an org whose other clients have used 4 of its 6 requests
    with Emulator.from_fixture({"api_limit": 6, "api_usage": 4}) as emu:
        sf = salesforce_client(emu.connection)
        # When one query is made / Then its answer reports 5 of 6, and GET limits/ (the 6th) leaves none
        sf.query("SELECT Id FROM User")
        assert sf.api_usage["api-usage"].used == 5 and sf.api_usage["api-usage"].total == 6
        assert sf.restful("limits")["DailyApiRequests"] == {"Max": 6, "Remaining": 0}
        # And the next is refused; this emulator answered two, and its dump carries the org's total
        with pytest.raises(SalesforceRefusedRequest):
            sf.query("SELECT Id FROM User")
        assert emu.api_requests == 2 and emu.dump()["api_usage"] == 6


def test_faults_skip_then_fail_times_then_pass() -> None:
    # Given a fault on composite: skip 1, fail 2
    fault = {
        "method": "POST",
        "path": "composite$",
        "skip": 1,
        "times": 2,
        "status": 503,
        "errorCode": "SERVER_UNAVAILABLE",
        "message": "try later",
    }
    with Emulator.from_fixture({"faults": [fault]}) as emu:
        sf = salesforce_client(emu.connection)
        body: dict[str, Any] = {
            "compositeRequest": [{"method": "GET", "url": "/services/data/v62.0/limits", "referenceId": "l"}]
        }
        outcomes = []
        for _ in range(4):
            try:
                sf.restful("composite", method="POST", json=body)
                outcomes.append("ok")
            except SalesforceGeneralError as exc:
                outcomes.append(f"{exc.status} {exc.content[0]['errorCode']}")
        # Then the first passes, the next two fail, then it passes again; other paths never fail
        assert outcomes == ["ok", "503 SERVER_UNAVAILABLE", "503 SERVER_UNAVAILABLE", "ok"]
        assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_usage_header_on_every_data_response(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    conn = emulator.connection
    # When any data resource is read
    response = session_for(conn).get(
        conn["instance_url"] + "/services/data/v62.0/sobjects",
        headers={"Authorization": f"Bearer {conn['access_token']}"},
    )
    # Then it carries Sforce-Limit-Info
    assert response.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    assert isinstance(sf, simple_salesforce.Salesforce)


def test_faults_added_at_run_time(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    # Given a fault added to a running emulator
    emulator.add_faults(
        {
            "path": r"/sobjects/Contact",
            "times": 1,
            "status": 500,
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "message": "unable to obtain exclusive access",
        }
    )
    # When contacts are created twice
    with pytest.raises(SalesforceGeneralError) as info:
        sf.Contact.create({"LastName": "Locked"})
    # Then the first gets the fault and the second succeeds
    assert info.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert sf.Contact.create({"LastName": "Free"})["success"] is True
    assert emulator.dump()["faults"][0]["errorCode"] == "UNABLE_TO_LOCK_ROW"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [([{"not": "an object"}], b'[{"not": "an object"}]'), ("<html>down</html>", b"<html>down</html>")],
)
def test_a_fault_with_a_body_answers_it_as_is(raw: Any, expected: bytes) -> None:
    # Given a fault that answers the next composite with status 200 and its own body
    fault = {"method": "POST", "path": "composite$", "times": 1, "status": 200, "body": raw}
    with Emulator.from_fixture({"faults": [fault]}) as emu:
        conn = emu.connection
        post = session_for(conn).post
        url = conn["instance_url"] + "/services/data/v62.0/composite"
        headers = {"Authorization": f"Bearer {conn['access_token']}"}
        body = {"compositeRequest": [{"method": "GET", "url": "/services/data/v62.0/limits", "referenceId": "l"}]}
        # When the composite is sent twice
        first, second = post(url, json=body, headers=headers), post(url, json=body, headers=headers)
        # Then the first gets the garbled 200 exactly, the second the real answer
        assert (first.status_code, first.content) == (200, expected)
        assert second.status_code == 200 and "compositeResponse" in second.json()
