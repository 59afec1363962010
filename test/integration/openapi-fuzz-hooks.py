"""Schemathesis hooks for test/integration/openapi-fuzz.test.ts.

The check `refused_write_changes_nothing`: a write the server refused (a 4xx) leaves everything an
admin can read back as it was, in every phase (coverage, fuzzing, stateful), checked request by
request. The RADIUS face is left out: its 401 is an Access-Reject, which rightly counts a failure.
"""

import os
from urllib.parse import quote

import requests
import schemathesis

BASE = os.environ["TESSERA_FUZZ_URL"]
SESSION = requests.Session()
SESSION.headers["Authorization"] = "Bearer " + os.environ["TESSERA_FUZZ_ADMIN_KEY"]

# The state read just before the call in flight (one worker: calls never overlap).
_pending = {}


def _get(path):
    res = SESSION.get(BASE + path, timeout=10)
    return res.status_code, (res.json() if res.content else None)


def _target_user(case):
    """The user a write names: in its path (admin face) or its body (validate)."""
    user = (case.path_parameters or {}).get("username")
    if user is None and isinstance(case.body, dict):
        user = case.body.get("user")
    return user if isinstance(user, str) and user else None


def _state(case):
    state = {
        path: _get(path)
        for path in (
            "/v1/admin/users?limit=1000",
            "/v1/admin/clients",
            "/v1/admin/groups",
            "/v1/admin/settings",
            "/v1/admin/admin-keys",
        )
    }
    user = _target_user(case)
    if user is not None:
        state["user"] = _get("/v1/admin/users/" + quote(user, safe=""))
    return state


def _watched(case):
    return case.method.upper() != "GET" and not case.path.startswith("/radius/")


@schemathesis.hook
def before_call(ctx, case, kwargs):
    # Dropped first: Python reuses the id() of a freed case, so a read's id can equal that of an
    # earlier write whose state would then be compared with a later one.
    _pending.pop("call", None)
    if _watched(case):
        _pending["call"] = (id(case), _state(case))


@schemathesis.check
def refused_write_changes_nothing(ctx, response, case):
    before = _pending.get("call")
    if not _watched(case) or before is None or before[0] != id(case) or not 400 <= response.status_code < 500:
        return None
    after = _state(case)
    changed = sorted(key for key in after if after[key] != before[1].get(key))
    if changed:
        raise AssertionError(
            f"{case.method} {case.path} was refused with {response.status_code} "
            f"but changed what {', '.join(changed)} reads back"
        )
    return None
