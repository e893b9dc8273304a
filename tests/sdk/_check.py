"""Shared by the SDK scripts: run named checks, collect what each saw, print one JSON summary.

Each check is a function returning a JSON-able dict of what the SDK reported; an exception or a
failed assertion in it is recorded as a failure. The summary goes to stdout as one JSON object
{"sdk": ..., "checks": {name: result}, "failures": {name: reason}} and the exit status is 1 when
any check failed, so a caller can both trust the status and assert on the values.
"""

import json
import sys
import traceback


class Checks:
    def __init__(self, sdk_version):
        self.summary = {"sdk": sdk_version, "checks": {}, "failures": {}}

    def run(self, name, check):
        try:
            self.summary["checks"][name] = check()
        except Exception as err:  # every failure is reported, none stops the others
            self.summary["failures"][name] = f"{type(err).__name__}: {err}"
            traceback.print_exc(file=sys.stderr)

    def finish(self):
        print(json.dumps(self.summary, sort_keys=True))
        sys.exit(1 if self.summary["failures"] else 0)


def expect_error(call, cls, status):
    """Runs `call`, which must raise `cls` with `status`; returns what the error carried."""
    try:
        call()
    except cls as err:
        got = getattr(err, "status_code", None)
        assert got == status, f"status {got}, expected {status}"
        request_id = getattr(err, "request_id", None)
        # The provider's id (`req_...` at the fakes) or, for an error the gateway answers
        # itself, AuditPulse's; the Rust side checks which.
        assert request_id, f"no request id on {type(err).__name__}"
        return {"class": type(err).__name__, "status": got, "request_id": request_id,
                "body": getattr(err, "body", None)}
    raise AssertionError(f"no {cls.__name__} raised")


def expect_raise(call, cls):
    """Runs `call`, which must raise `cls` (a connection or stream error); returns its class."""
    try:
        call()
    except cls as err:
        return {"class": type(err).__name__}
    raise AssertionError(f"no {cls} raised")
