"""Reading COMPANIES.jsonl lines and matching them to Accounts (callsync.domain.account_links)."""

from __future__ import annotations

import pytest
from callsync.domain.account_links import parse_line, parse_lines, plan_batch, settle
from callsync.models.backfill import AccountLink, InvalidLine, LineStatus, LinkLine

GLOBEX = "0015g0000000001AAA"
INITECH = "0015g0000000002AAA"


def test_a_domain_is_normalised_like_an_account_website() -> None:
    # Given a line whose domain is written as a website
    # When it is read
    line = parse_line(3, '{"domain": "https://WWW.Globex.com/about", "url": "https://app.example/globex"}')
    # Then the domain is the bare host, the line number kept
    assert line == LinkLine(line=3, domain="globex.com", url="https://app.example/globex")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "a line is a JSON object"),
        ('{"domain": "globex.com"}', "url is missing"),
        ('{"domain": "globex.com", "url": "ftp://globex.com"}', "is not an http(s) address"),
        ('{"domain": "globex.com", "url": "https://a.com/' + "x" * 300 + '"}', "holds 255"),
        ('{"url": "https://a.com"}', "exactly one of account_id and domain"),
        ('{"account_id": "' + GLOBEX + '", "domain": "globex.com", "url": "https://a.com"}', "exactly one of"),
        ('{"account_id": "003000000000001", "url": "https://a.com"}', "is not an Account id"),
        ('{"domain": "localhost", "url": "https://a.com"}', "is not a domain name"),
        ('{"domain": "globex.com", "url": "https://a.com", "name": "Globex"}', "unknown key(s) name"),
    ],
)
def test_an_unusable_line_says_what_is_wrong(text: str, named: str) -> None:
    # Given / When an unusable line is read
    line = parse_line(7, text)
    # Then it is invalid, with its number and a reason naming the problem
    assert isinstance(line, InvalidLine) and line.line == 7 and named in line.reason, line


def test_blank_lines_are_skipped_but_numbers_follow_the_file() -> None:
    # Given a file with a blank line between two lines
    text = '{"domain": "a.com", "url": "https://x.com/a"}\n\n{"domain": "b.com", "url": "https://x.com/b"}\n'
    # When it is read / Then the second line is line 3, as an editor shows it
    assert [e.line for e in parse_lines(text.splitlines())] == [1, 3]


def test_empty_fields_are_filled_and_set_ones_kept() -> None:
    # Given Globex without a link (two Accounts share its domain, one already linked) and Initech with one
    accounts = [
        AccountLink(id=GLOBEX, website="https://www.globex.com"),
        AccountLink(id="0015g0000000003AAA", website="globex.com/eu", link="https://kept.example"),
        AccountLink(id=INITECH, website="https://initech.example", link="https://already.example"),
    ]
    lines = [
        LinkLine(line=1, domain="globex.com", url="https://app.example/globex"),
        LinkLine(line=2, account_id=INITECH[:15], url="https://app.example/initech"),
        LinkLine(line=3, domain="nowhere.example", url="https://app.example/none"),
        LinkLine(line=4, account_id=GLOBEX, url="https://app.example/second"),
    ]
    # When the batch is planned
    plan = plan_batch(lines, accounts)
    # Then only the empty field is written, by the first line that names it
    assert plan.updates == {GLOBEX: "https://app.example/globex"}
    # And once Salesforce saved it, each line has its outcome
    outcomes = {o.line: o.status for o in settle(plan, {GLOBEX: None})}
    assert outcomes == {
        1: LineStatus.FILLED,
        2: LineStatus.ALREADY_SET,  # a 15-character id matches the 18-character one
        3: LineStatus.NO_MATCH,
        4: LineStatus.ALREADY_SET,  # line 1 fills it
    }


def test_a_refused_write_fails_its_line_with_salesforces_reason() -> None:
    # Given a line whose Account's write Salesforce refuses
    plan = plan_batch([LinkLine(line=1, account_id=GLOBEX, url="https://a.com")], [AccountLink(id=GLOBEX)])
    # When settled
    (outcome,) = settle(plan, {GLOBEX: "FIELD_CUSTOM_VALIDATION_EXCEPTION: no links"})
    # Then the line failed and says why
    assert outcome.status is LineStatus.FAILED and "FIELD_CUSTOM_VALIDATION_EXCEPTION" in (outcome.reason or "")
