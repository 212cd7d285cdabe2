"""``services.watch_closed_deals.OrgWatchInvoker`` on Lambda: one asynchronous invoke per org.

The per-org watcher's alias is invoked with ``InvocationType=Event`` and ``{"org_id": ...}``; Lambda
queues the event (202) and runs it on its own, with the function's ``EventInvokeConfig`` (no retries,
failures to the on-failure queue). A transient AWS error becomes ``AwsUnavailable`` and any other
refusal a ``PermanentError``, so the dispatcher reports that org and goes on with the others.
"""

from __future__ import annotations

import json
from typing import Any

from callsync.adapters.aws_errors import transient_aws_error
from callsync.errors import AwsUnavailable, PermanentError


class LambdaOrgWatchInvoker:
    def __init__(self, client: Any, function_arn: str) -> None:
        self._client = client
        self._function_arn = function_arn

    def start(self, org_id: str) -> None:
        """Queue one org's watch (asynchronous invoke).

        Raises:
            AwsUnavailable: throttled or a Lambda service error (the next cycle starts it).
            PermanentError: refused otherwise (missing permission, unknown function).
        """
        try:
            answer = self._client.invoke(
                FunctionName=self._function_arn,
                InvocationType="Event",
                Payload=json.dumps({"org_id": org_id}).encode(),
            )
        except Exception as e:
            code = transient_aws_error(e)
            if code is not None:
                message = f"starting the watch of org {org_id} failed transiently ({code})"
                raise AwsUnavailable(message, code=code) from e
            error = getattr(e, "response", {}).get("Error", {}).get("Code") or type(e).__name__
            raise PermanentError(f"starting the watch of org {org_id} was refused ({error})", code=str(error)) from e
        status = int(answer.get("StatusCode") or 0)
        if status != 202:
            raise AwsUnavailable(f"starting the watch of org {org_id}: Lambda answered {status}, not 202",
                                 code=str(status))  # fmt: skip
