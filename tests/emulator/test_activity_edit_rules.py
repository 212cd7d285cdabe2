"""What LogActivity reads to tell a person's edit from its own and to find a calendar's activity (sources cited).

- Who callsync is: the OAuth token's ``id`` is the identity URL ``https://login.salesforce.com/id/<org id>/<user id>``
  (Salesforce Help, "Identity URLs", xcloud.remoteaccess_using_openid.htm; jsforce ``oauth2.TokenResponse``).
- Every API write stamps ``LastModifiedById`` with the calling user and ``LastModifiedDate`` with now; both are
  read-only system fields (Object Reference, "System Fields"), readable with the parent field
  ``LastModifiedBy.Name`` (SOQL reference, "Relationship Queries").
- ``LIKE`` matches ``%`` to zero or more characters and, on ordinary fields such as ``Subject``, ignores case
  (SOQL reference, "Comparison Operators": comparisons on strings are case-insensitive except on unique
  case-sensitive fields).
"""

from __future__ import annotations

from typing import Any

import requests
from callsync_dev.emulator import Emulator
from callsync_dev.emulator.testing import salesforce_client

ORG: dict[str, Any] = {
    "records": {
        "User": [{"Id": "alice", "FirstName": "Alice", "LastName": "Rep", "Email": "alice@ourco.com"}],
        "Event": [
            {
                "Id": "calendar",
                "Subject": "Wingtip \u2013 Proposal walkthrough",
                "StartDateTime": "2026-06-03T15:00:00Z",
                "DurationInMinutes": 30,
                "OwnerId": "alice",
                "LastModifiedById": "alice",
                "LastModifiedDate": "2026-06-05T09:30:00Z",
            }
        ],
    }
}


def test_the_connection_names_the_integration_user_and_a_fixtures_last_modified_is_kept_as_given() -> None:
    # Given an org whose calendar Event was last changed by Alice on a given date
    with Emulator.from_fixture(ORG) as emu:
        sf = salesforce_client(emu.connection)
        # Then a token grant answers with the identity URL, ending in the integration user's id
        conn = emu.connection
        granted = requests.post(
            f"{conn['instance_url']}/services/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": conn["refresh_token"],
                  "client_id": conn["client_id"], "client_secret": conn["client_secret"]},
            verify=conn["ca_file"], timeout=10,
        ).json()  # fmt: skip
        assert granted["id"].endswith(f"/id/{emu.store.org_id}/{emu.integration_user_id}")
        # And the Event reads as changed by Alice on that date, with her name through LastModifiedBy
        [row] = sf.query("SELECT Id, LastModifiedById, LastModifiedDate, LastModifiedBy.Name FROM Event")["records"]
        assert row["LastModifiedBy"]["Name"] == "Alice Rep"
        assert row["LastModifiedDate"].startswith("2026-06-05T09:30:00")
        # When the integration user updates it through the API
        sf.Event.update(row["Id"], {"Description": "callsync's section"})
        # Then the integration user is its last modifier now
        [after] = sf.query("SELECT LastModifiedById, LastModifiedDate FROM Event")["records"]
        assert after["LastModifiedById"] == emu.integration_user_id
        assert after["LastModifiedDate"] > row["LastModifiedDate"]


def test_like_on_the_words_of_a_title_finds_other_case_and_typography() -> None:
    # Given a calendar Event spelled with an en dash and other case
    with Emulator.from_fixture(ORG) as emu:
        sf = salesforce_client(emu.connection)
        # When it is looked for by the words of the call's title "wingtip - proposal walkthrough"
        found = sf.query("SELECT Id FROM Event WHERE Subject LIKE '%wingtip%proposal%walkthrough%'")["records"]
        # Then it is found; a missing word is not
        assert len(found) == 1
        assert sf.query("SELECT Id FROM Event WHERE Subject LIKE '%wingtip%pricing%'")["records"] == []
