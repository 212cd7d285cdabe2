"""One Logger, Tracer and Metrics for every callsync function (Powertools).

Service name and metric namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (template.yaml Globals). Log lines carry org,
call and execution ids through ``logger.append_keys``; never a token or a secret.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="callsync")
tracer = Tracer(service="callsync")
metrics = Metrics(namespace="Callsync", service="callsync")
