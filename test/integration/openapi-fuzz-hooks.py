"""Schemathesis hooks for test/integration/openapi-fuzz.test.ts.

The check `refused_write_changes_nothing`: a write the server refused (a 4xx) leaves everything an
admin can read back as it was, in every phase (coverage, fuzzing, stateful), checked request by
request. The RADIUS face is left out: its 401 is an Access-Reject, which rightly counts a failure.

The filter (`filter_case`): schemathesis draws an object's keys without regard to the
`propertyNames` a schema gives, or to the rule the document's description states for every body
(a `__proto__` key, or `constructor` holding `prototype`, is refused as prototype poisoning), yet
counts such a body as schema-valid. Positive cases that break either are dropped; negative cases
are kept as drawn.
"""

import os
import re
from urllib.parse import quote

import requests
import schemathesis

BASE = os.environ["TESSERA_FUZZ_URL"]
SESSION = requests.Session()
SESSION.headers["Authorization"] = "Bearer " + os.environ["TESSERA_FUZZ_ADMIN_KEY"]

_DOC = {}


def _body_schema(case):
    if "doc" not in _DOC:
        _DOC["doc"] = requests.get(BASE + "/docs/json", timeout=10).json()
    op = _DOC["doc"]["paths"].get(case.operation.path, {}).get(case.method.lower(), {})
    return op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")


def _name_obeys(names, key):
    if len(key) < names.get("minLength", 0) or len(key) > names.get("maxLength", len(key)):
        return False
    if "pattern" in names and re.search(names["pattern"], key) is None:
        return False
    return key not in names.get("not", {}).get("enum", [])


def _poisoned(value):
    """A `__proto__` key, or `constructor` holding `prototype`, anywhere in `value`."""
    if isinstance(value, dict):
        if "__proto__" in value:
            return True
        if isinstance(value.get("constructor"), dict) and "prototype" in value["constructor"]:
            return True
        return any(_poisoned(item) for item in value.values())
    if isinstance(value, list):
        return any(_poisoned(item) for item in value)
    return False


_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _may_hold(schema, value):
    """Whether `value` is of the schema's type (a branch of another type says nothing of it)."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind in _JSON_TYPES:
        return isinstance(value, _JSON_TYPES[kind])
    if kind in ("integer", "number"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def _keys_obey(schema, value):
    """Whether every object key in `value` obeys the `propertyNames` its schema states."""
    if not isinstance(schema, dict):
        return True
    for branches in ("anyOf", "oneOf"):
        if branches in schema:
            fitting = [branch for branch in schema[branches] if _may_hold(branch, value)]
            return any(_keys_obey(branch, value) for branch in fitting)
    if not all(_keys_obey(part, value) for part in schema.get("allOf", [])):
        return False
    if isinstance(value, dict):
        names = schema.get("propertyNames")
        if names and not all(_name_obeys(names, key) for key in value):
            return False
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key, extra if isinstance(extra, dict) else None)
            if not _keys_obey(sub, item):
                return False
    elif isinstance(value, list):
        return all(_keys_obey(schema.get("items"), item) for item in value)
    return True


@schemathesis.hook
def filter_case(ctx, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, (dict, list)):
        return True
    return not _poisoned(case.body) and _keys_obey(_body_schema(case), case.body)


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
