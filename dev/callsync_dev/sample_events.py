"""``python -m callsync_dev.sample_events``: rewrite the sample inputs of the later steps from the built functions.

The state machine's input (``events/sync_state_demo.json``) goes through the built MatchOpportunity,
CreateContacts, SyncFields and LogActivity (``callsync invoke``, one local stack, the demo org), each result
added at its state's ``ResultPath`` as the state machine adds it; the input each step received is written to
``events/<step>_state_demo.json``, and RecordSuccess's input to ``events/record_outcome_succeeded.json``. Run it
after ``sam build`` whenever the state's shape changes (tests/built invokes each step from these files).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from callsync_dev.cfn import REPO_ROOT
from callsync_dev.invoke import InvokeSession

EVENTS = REPO_ROOT / "events"
ASL = REPO_ROOT / "statemachine" / "post_call_sync.asl.json"
WRITTEN = {
    "CreateContacts": "create_contacts_state_demo.json",
    "SyncFields": "sync_fields_state_demo.json",
    "LogActivity": "log_activity_state_demo.json",
}
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:callsync-local-PostCallSyncStateMachine:demo"


def write(name: str, document: Any) -> None:
    (EVENTS / name).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote events/{name}", file=sys.stderr)


def main() -> int:
    states = json.loads(ASL.read_text(encoding="utf-8"))["States"]
    state = json.loads((EVENTS / "sync_state_demo.json").read_text(encoding="utf-8"))
    with InvokeSession() as session:
        for step in ("MatchOpportunity", "CreateContacts", "SyncFields", "LogActivity"):
            if step in WRITTEN:
                write(WRITTEN[step], state)
            invoked = session.invoke(f"{step}Function", state)
            if invoked.failed:
                print(json.dumps(invoked.document(), indent=2), file=sys.stderr)
                return 1
            state[states[step]["ResultPath"].removeprefix("$.")] = invoked.document()
    write(
        "record_outcome_succeeded.json", {"status": "SUCCEEDED", "call": state["call"], "execution_arn": EXECUTION_ARN}
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
