"""The backfill's Account queries stay inside Salesforce's request limits, with every value escaped."""

from __future__ import annotations

import pytest
from callsync.adapters.salesforce_account_links import QUERIES_PER_COMPOSITE, SalesforceAccountLinks
from callsync.adapters.salesforce_api import query_subrequest
from callsync.errors import InvalidSettings

MAX_URI_BYTES = 16_384  # Salesforce refuses longer request URIs (docs/emulator.md)


def test_a_batch_of_200_long_domains_fits_one_composite_of_short_uris() -> None:
    # Given 200 ids and 200 long domains (a full batch of the longest ordinary lines)
    ids = [f"001{i:012d}AAA" for i in range(200)]
    domains = [f"{'sub' * 15}-{i}.example-company-with-a-long-name.co.uk" for i in range(200)]
    # When the statements are built
    statements = SalesforceAccountLinks(api=None).statements("Callsync_Link__c", ids, domains)  # type: ignore[arg-type]
    # Then they fit one composite, each subrequest URI far below 16 KB, and every value is asked for
    assert len(statements) <= QUERIES_PER_COMPOSITE, len(statements)
    for soql in statements:
        url = "/services/data/v62.0/" + query_subrequest("q", soql)["url"]
        assert len(url.encode()) < MAX_URI_BYTES
    text = " ".join(statements)
    assert all(f"'{i}'" in text for i in ids) and all(f"%{d}%" in text for d in domains)


def test_quotes_and_like_wildcards_in_a_domain_are_escaped() -> None:
    # Given a domain with a quote and an underscore (a LIKE wildcard)
    (soql,) = SalesforceAccountLinks(api=None).statements("Link__c", [], ["o'neil_partners.example"])  # type: ignore[arg-type]
    # Then both are escaped in the SOQL
    assert "Website LIKE '%o\\'neil\\_partners.example%'" in soql, soql


def test_a_link_field_that_is_not_an_api_name_is_refused() -> None:
    # Given settings whose account_link_field is not a field API name
    # When the statements are built / Then it is refused, naming the key
    with pytest.raises(InvalidSettings, match="account_link_field"):
        SalesforceAccountLinks(api=None).statements("Link__c FROM User --", [], ["a.com"])  # type: ignore[arg-type]
