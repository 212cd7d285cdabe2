"""Cost on paper: measured counts times AWS list prices, per 1,000 calls; the share of an org's API allocation.

Prices: us-east-1 list prices (Step Functions Standard, Lambda arm64, DynamoDB on-demand,
Secrets Manager) as published in 2025; free tiers ignored. Check the AWS pricing pages
before quoting them.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICE_STATE_TRANSITION = 0.025 / 1000
PRICE_LAMBDA_GB_SECOND_ARM = 0.0000133334
PRICE_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_DYNAMODB_WRU = 0.625 / 1_000_000
PRICE_DYNAMODB_RRU = 0.125 / 1_000_000
PRICE_SECRETS_CALL = 0.05 / 10_000
# Assumed latencies of the real services (not measured here): the emulator answers in ~1 ms.
SALESFORCE_SECONDS_PER_REQUEST = 0.3
AWS_SECONDS_PER_CALL = 0.01
# Salesforce Enterprise Edition: 100,000 + 1,000 per license per rolling 24 h.
API_BASE, API_PER_LICENSE = 100_000, 1_000


@dataclass
class CallCounts:
    """Per call, measured."""

    state_transitions: float
    lambda_invocations: float
    compute_seconds: float  # handler time in-process (sum over the call's functions)
    salesforce_requests: float
    dynamodb_wru: float
    dynamodb_rru: float
    dynamodb_requests: float
    secrets_calls: float
    secrets_calls_upper: float  # every Salesforce step fetching the secret (cache cold in each container)
    memory_gb: float


@dataclass
class Cost:
    label: str
    quantity: float  # per 1,000 calls
    dollars: float  # per 1,000 calls


def per_thousand(c: CallCounts) -> list[Cost]:
    """Each line of the bill for 1,000 calls."""
    aws_calls = c.dynamodb_requests + c.secrets_calls
    wall = c.compute_seconds + c.salesforce_requests * SALESFORCE_SECONDS_PER_REQUEST + aws_calls * AWS_SECONDS_PER_CALL
    gb_s_compute = c.compute_seconds * c.memory_gb * 1000
    gb_s_wall = wall * c.memory_gb * 1000
    return [
        Cost(
            "Step Functions state transitions",
            c.state_transitions * 1000,
            c.state_transitions * 1000 * PRICE_STATE_TRANSITION,
        ),
        Cost("Lambda requests", c.lambda_invocations * 1000, c.lambda_invocations * 1000 * PRICE_LAMBDA_REQUEST),
        Cost("Lambda GB-s (measured compute only)", gb_s_compute, gb_s_compute * PRICE_LAMBDA_GB_SECOND_ARM),
        Cost(
            f"Lambda GB-s (+{SALESFORCE_SECONDS_PER_REQUEST:g} s per Salesforce request, "
            f"{AWS_SECONDS_PER_CALL * 1000:g} ms per AWS call)",
            gb_s_wall,
            gb_s_wall * PRICE_LAMBDA_GB_SECOND_ARM,
        ),
        Cost("DynamoDB write units", c.dynamodb_wru * 1000, c.dynamodb_wru * 1000 * PRICE_DYNAMODB_WRU),
        Cost("DynamoDB read units", c.dynamodb_rru * 1000, c.dynamodb_rru * 1000 * PRICE_DYNAMODB_RRU),
        Cost("Secrets Manager calls (measured)", c.secrets_calls * 1000, c.secrets_calls * 1000 * PRICE_SECRETS_CALL),
        Cost(
            "Secrets Manager calls (upper bound)",
            c.secrets_calls_upper * 1000,
            c.secrets_calls_upper * 1000 * PRICE_SECRETS_CALL,
        ),
    ]


def total_dollars(costs: list[Cost]) -> float:
    """The bill with the pessimistic line of each pair (wall-clock GB-s, secrets upper bound)."""
    skip = {"Lambda GB-s (measured compute only)", "Secrets Manager calls (measured)"}
    return sum(c.dollars for c in costs if c.label not in skip)


def allocation_share(requests_per_call: float, seats: int = 100, calls_per_seat_per_day: int = 20) -> float:
    """Fraction of an Enterprise org's daily API allocation used by its calls."""
    allocation = API_BASE + API_PER_LICENSE * seats
    return seats * calls_per_seat_per_day * requests_per_call / allocation
