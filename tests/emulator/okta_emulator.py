#!/usr/bin/env python3
"""okta_emulator.py - a local HTTPS Okta that every okta-sync test talks to.

Python 3 standard library only.  It serves the read side of Okta's Users and
Groups API the way DESIGN.md and the recorded real traffic in
shared/reference/okta-recorded describe it:

  GET /api/v1/users                 ?limit ?after ?filter ?search
  GET /api/v1/users/{id|login}
  GET /api/v1/users/{id}/groups     ?limit ?after
  GET /api/v1/groups                ?limit ?after ?filter ?search ?q
  GET /api/v1/groups/{id}
  GET /api/v1/groups/{id}/users     ?limit ?after
  GET /api/v1/logs                  ?since ?until ?after ?filter ?q ?limit
                                    ?sortOrder (the System Log)
  POST /oauth2/v1/token             client credentials, private_key_jwt, DPoP
                                    (the OAuth section; Bearer/DPoP tokens
                                    are then accepted on the API too)
  POST /oauth2/v1/token             also the Direct Authentication grants
                                    (password, mfa-otp, mfa-oob, otp) and
                                    device_code, for native apps
  POST /oauth2/v1/challenge         Okta Verify push (number matching)
  POST /oauth2/v1/device/authorize  the Device Authorization grant
  GET  /oauth2/v1/keys              the JWKS of the ID tokens' RS256 key(s)
  GET  /.well-known/openid-configuration
                                    (the Direct Authentication section)

- SSWS tokens: the full token, plus group-scoped tokens that see only the
  members of their groups (and only those groups).
- Paging: limit (default 200, clamped to 200), an opaque `after` cursor
  (base64url of the last id served), `Link` headers as separate fields:
  rel="self" always, rel="next" while more entries match.  Stable order (id).
- DEPROVISIONED users are left out of /users unless filter or search is set.
- Filters: `attr op "value"` with eq/gt/ge/lt/le/sw/pr, `and`, `or`,
  parentheses; timestamps compare at one-second resolution.
- Rate limits per bucket (users, groups, logs): lower-case x-rate-limit-limit,
  -remaining, -reset (epoch seconds) on every API response; 429 E0000047.
- Okta error bodies (errorCode, errorSummary, errorLink, errorId,
  errorCauses).  gzip when Accept-Encoding allows it.  HTTP/1.1 keep-alive.
- System Log: every control-port change logs the LogEvent Okta would
  (Store.emit; published by the emulator's clock, set_clock_skew
  included), visible to /api/v1/logs after set_event_lag seconds.  A
  request without until (ascending) is a polling request, ordered by the
  time the event became visible: rel="next" always, its opaque after
  cursor past the last event returned or at "now" on an empty page.  With
  until (or DESCENDING) a bounded request over published [since, until),
  rel="next" only while more match.  limit 100 by default, 0..1000;
  since defaults to 7 days before until; filter on eventType, target.id,
  outcome.result, ... (a target.* clause holds when one target matches);
  q keywords; bad parameters answer 400 E0000001 with an errorCause.  Its
  own rate-limit bucket, "logs" (60 a minute by default); OAuth tokens
  need okta.logs.read.
- Injected faults: 500, slow, reset, truncated, content_type, link_loop,
  429, 401, 403, and truncated_json, short_page, link_joined, link_foreign,
  link_http (see tests/lib/emulator.py, Emulator.fault).
  The OAuth endpoints take only a fault that names their path (500, 429,
  reset, slow); a fault without a path is left for the API.

A second listener (plain HTTP on 127.0.0.1) is the control interface:
POST /<operation> with a JSON object of arguments, answering
{"result": ...} or, with status 400, {"error": "..."}.  Operations: see
Control.run (and README.md).  tests/lib/emulator.py wraps all of this.

Usage:
  okta_emulator.py {--data ORG.json | --generate MAKE_ORG_KWARGS_JSON}
                   --cert CERT.pem --key KEY.pem
                   --token TOKEN --port-file FILE [--port N] [--control-port N]
                   [--host 127.0.0.1] [--rate-limit-users 600]
                   [--rate-limit-groups 500] [--rate-limit-logs 60]
                   [--rate-window 60]
                   [--domain HOST:PORT] [--watch-pid PID] [--verbose]
When both listeners are up it writes FILE atomically:
{"port": N, "control_port": M, "pid": P}.
"""
import argparse
import base64
import bisect
import gzip
import hashlib
import hmac
import math
import json
import os
import re
import select
import secrets
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import calendar
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_LIMIT = 200
DEFAULT_LIMIT = 200
JSON_CT = "application/json;charset=UTF-8"
STATUSES = ("STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED",
            "LOCKED_OUT", "SUSPENDED", "DEPROVISIONED")
FAULT_KINDS = ("500", "slow", "reset", "truncated", "truncated_json", "content_type",
               "link_loop", "429", "401", "403", "short_page", "link_joined",
               "link_foreign", "link_http")
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
FORBIDDEN = "forbidden"      # scope of a valid token whose admin lacks read rights
LOGS_MAX_LIMIT = 1000
LOGS_DEFAULT_LIMIT = 100
LOGS_DEFAULT_WINDOW = 7 * 86400    # since defaults to 7 days before until
LOG_FILTER_ATTRS = ("eventType", "uuid", "published", "severity", "legacyEventType",
                    "displayMessage", "outcome.result", "outcome.reason", "actor.id",
                    "actor.type", "actor.alternateId", "actor.displayName",
                    "target.id", "target.type", "target.alternateId",
                    "target.displayName", "transaction.id", "client.ipAddress")
# The admin every control-port change is logged as.
EVENT_ACTOR = {"id": "00uemuadmin000000001", "type": "User",
               "alternateId": "admin@okta-emulator.example",
               "displayName": "Emulator Admin", "detailEntry": None}
# eventType -> (displayMessage, legacyEventType), as Okta logs them.
EVENT_TEXT = {
    "user.lifecycle.create": ("Create Okta user", "core.user.config.user_creation.success"),
    "user.lifecycle.activate": ("Activate Okta user", "core.user.config.user_activated"),
    "user.lifecycle.reactivate": ("Reactivate Okta user", "core.user.config.user_reactivated"),
    "user.lifecycle.deactivate": ("Deactivate Okta user", "core.user.config.user_deactivated"),
    "user.lifecycle.suspend": ("Suspend Okta user", "core.user.config.user_status.suspended"),
    "user.lifecycle.unsuspend": ("Unsuspend Okta user", "core.user.config.user_status.unsuspended"),
    "user.lifecycle.delete": ("Delete Okta user", "core.user.config.user_deleted"),
    "user.account.lock": ("Max sign in attempts exceeded", "core.user_auth.account_locked"),
    "user.account.unlock": ("Unlock user account", "core.user.config.user_unlocked"),
    "user.account.unlock_by_admin": ("Unlock user account by admin", "core.user.config.user_unlocked"),
    "user.account.update_profile": ("Update user profile for Okta", "core.user.config.profile_update.success"),
    "user.account.reset_password": ("Reset Okta user password", "core.user.config.password_reset"),
    "user.account.expire_password": ("Expire Okta user password", "core.user.config.password_expired"),
    "group.user_membership.add": ("Add user to group membership", "core.user_group_member.user_add"),
    "group.user_membership.remove": ("Remove user from group membership", "core.user_group_member.user_remove"),
    "group.lifecycle.create": ("Create Okta group", "core.user_group.created"),
    "group.lifecycle.delete": ("Delete Okta group", "core.user_group.deleted"),
    "group.profile.update": ("Update group profile", "core.user_group.profile_updated"),
}


class ApiError(Exception):
    """An Okta error answer: HTTP status, errorCode, errorSummary, and the
    errorSummary strings of its errorCauses."""

    def __init__(self, status, code, summary, causes=()):
        Exception.__init__(self, summary)
        self.status = status
        self.code = code
        self.summary = summary
        self.causes = list(causes)


def err_invalid_token():
    return ApiError(401, "E0000011", "Invalid token provided")


def err_forbidden():
    return ApiError(403, "E0000006", "You do not have permission to perform the requested action")


def err_not_found(what):
    return ApiError(404, "E0000007", "Not found: Resource not found: %s" % what)


def err_bad_filter():
    return ApiError(400, "E0000031", "Invalid search criteria.")


def err_rate():
    return ApiError(429, "E0000047", "API call exceeded rate limit due to too many requests.")


def err_internal():
    return ApiError(500, "E0000009", "Internal Server Error")


def error_body(e):
    return json.dumps({
        "errorCode": e.code,
        "errorSummary": e.summary,
        "errorLink": e.code,
        "errorId": "oae" + "".join(secrets.choice(ALNUM) for _ in range(22)),
        "errorCauses": [{"errorSummary": c} for c in getattr(e, "causes", ())],
    }, separators=(",", ":")).encode()


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def iso_ms(t):
    """Okta's published format: UTC, milliseconds, "Z"."""
    ms = int(t * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


_TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_ts_cache = {}


def parse_ts(s):
    """Epoch seconds (float) of an Okta timestamp, or None if s is not one."""
    if not isinstance(s, str):
        return None
    v = _ts_cache.get(s)
    if v is not None:
        return v
    m = _TS_RE.match(s)
    if not m:
        return None
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    try:
        v = float(calendar.timegm((y, mo, d, h, mi, se)))
    except (ValueError, OverflowError):
        return None
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and se < 61):
        return None
    if m.group(7):
        v += float("0" + m.group(7))
    tz = m.group(8)
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        v -= sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    if len(_ts_cache) < 2000000:
        _ts_cache[s] = v
    return v


# ---------------------------------------------------------------- filters

_TOK_RE = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_.]*)|(-?\d+))')
TS_ATTRS = ("lastUpdated", "created", "activated", "statusChanged", "lastLogin",
            "passwordChanged", "lastMembershipUpdated", "published")
USER_FILTER_ATTRS = ("status", "lastUpdated", "id", "profile.login", "profile.email",
                     "profile.firstName", "profile.lastName", "created",
                     "activated", "statusChanged", "type.id")
GROUP_FILTER_ATTRS = ("type", "lastUpdated", "lastMembershipUpdated", "id",
                      "created", "profile.name")


def _tokens(s):
    out = []
    pos = 0
    s = s.rstrip()
    while pos < len(s):
        m = _TOK_RE.match(s, pos)
        if not m or m.end() == pos:
            raise err_bad_filter()
        pos = m.end()
        if m.group(1):
            out.append(("(", None))
        elif m.group(2):
            out.append((")", None))
        elif m.group(3) is not None:
            out.append(("str", re.sub(r"\\(.)", r"\1", m.group(3))))
        elif m.group(4):
            out.append(("word", m.group(4)))
        else:
            out.append(("num", int(m.group(5))))
    return out


def _get_attr(obj, attr):
    cur = obj
    for part in attr.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def compile_filter(expr, allowed):
    """Compile an Okta filter/search expression into a predicate on an
    object dict.  allowed: the attribute names accepted, or None for any
    attribute (search).  Raises ApiError 400 E0000031 on any syntax error."""
    toks = _tokens(expr)
    if not toks:
        raise err_bad_filter()
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else (None, None)

    def take():
        t = peek()
        pos[0] += 1
        return t

    def is_kw(t, kw):
        return t[0] == "word" and t[1].lower() == kw

    def p_or():
        left = p_and()
        while is_kw(peek(), "or"):
            take()
            right = p_and()
            left = (lambda a, b: lambda o: a(o) or b(o))(left, right)
        return left

    def p_and():
        left = p_atom()
        while is_kw(peek(), "and"):
            take()
            right = p_atom()
            left = (lambda a, b: lambda o: a(o) and b(o))(left, right)
        return left

    def p_atom():
        t = take()
        if t[0] == "(":
            inner = p_or()
            if take()[0] != ")":
                raise err_bad_filter()
            return inner
        if t[0] != "word" or t[1].lower() in ("and", "or"):
            raise err_bad_filter()
        attr = t[1]
        if allowed is not None and attr not in allowed:
            raise err_bad_filter()
        op = take()
        if op[0] != "word":
            raise err_bad_filter()
        op = op[1].lower()
        if op == "pr":
            return lambda o: _get_attr(o, attr) is not None
        if op not in ("eq", "ne", "gt", "ge", "lt", "le", "sw", "co"):
            raise err_bad_filter()
        v = take()
        if v[0] == "word" and v[1] in ("true", "false", "null"):
            val = {"true": True, "false": False, "null": None}[v[1]]
        elif v[0] in ("str", "num"):
            val = v[1]
        else:
            raise err_bad_filter()
        leaf = attr.split(".")[-1]
        if leaf in TS_ATTRS:
            if op in ("sw", "co") or not isinstance(val, str):
                raise err_bad_filter()
            tv = parse_ts(val)
            if tv is None:
                raise err_bad_filter()
            cmp = {"eq": lambda a: a == tv, "ne": lambda a: a != tv,
                   "gt": lambda a: a > tv, "ge": lambda a: a >= tv,
                   "lt": lambda a: a < tv, "le": lambda a: a <= tv}[op]

            def f(o):
                a = parse_ts(_get_attr(o, attr))
                return a is not None and cmp(a)
            return f
        if op == "sw":
            return lambda o: isinstance(_get_attr(o, attr), str) and _get_attr(o, attr).startswith(str(val))
        if op == "co":
            return lambda o: isinstance(_get_attr(o, attr), str) and str(val).lower() in _get_attr(o, attr).lower()
        if op == "eq":
            return lambda o: _get_attr(o, attr) == val
        if op == "ne":
            return lambda o: _get_attr(o, attr) != val

        def g(o, op=op):
            a = _get_attr(o, attr)
            if a is None or type(a) != type(val):
                return False
            return {"gt": a > val, "ge": a >= val, "lt": a < val, "le": a <= val}[op]
        return g

    pred = p_or()
    if pos[0] != len(toks):
        raise err_bad_filter()
    return pred


# ---------------------------------------------------------------- the data

class Store:
    """The directory: users, groups, memberships, tokens, with the indexes
    that serve a page in O(page).  Every method expects self.lock held by
    the caller (the HTTP and control handlers take it)."""

    def __init__(self, org, base_url):
        self.lock = threading.RLock()
        self.base = base_url
        self.users = {}          # id -> user object (no _links)
        self.user_ids = []       # sorted ids
        self.login_idx = {}      # exact login -> id
        self.groups = {}         # id -> group object (no _links, no members)
        self.group_ids = []
        self.name_idx = {}       # group name -> id
        self.members = {}        # gid -> sorted list of uids
        self.member_set = {}     # gid -> set of uids
        self.user_groups = {}    # uid -> set of gids
        self.ucache = {}         # uid -> serialized JSON (with _links)
        self.gcache = {}
        self.tokens = {}         # token -> None (full rights) or frozenset(gids)
        self.events = []         # the System Log, in the order made (emit())
        self.event_seq = 0
        self.event_lag = 0.0     # set_event_lag: seconds before an event shows
        self.clock = time.time   # main() makes it follow set_clock_skew
        # The org's dicts become the store's own (no copies: a 100,000-user
        # org must load in seconds).
        users = self.users
        user_groups = self.user_groups
        for u in org.get("users", []):
            u.pop("_links", None)
            uid = u["id"]
            users[uid] = u
            self.login_idx[u["profile"]["login"]] = uid
            user_groups[uid] = set()
        self.user_ids = sorted(users)
        for g in org.get("groups", []):
            g.pop("_links", None)
            mem = g.pop("members", None) or []
            gid = g["id"]
            self.groups[gid] = g
            self.name_idx[g["profile"]["name"]] = gid
            ms = {m for m in mem if m in users}
            self.member_set[gid] = ms
            self.members[gid] = sorted(ms)
            for m in ms:
                user_groups[m].add(gid)
        self.group_ids = sorted(self.groups)

    # -- serialization
    def user_json(self, uid):
        b = self.ucache.get(uid)
        if b is None:
            u = dict(self.users[uid])
            u["_links"] = {"self": {"href": "%s/api/v1/users/%s" % (self.base, uid)}}
            b = json.dumps(u, separators=(",", ":"), ensure_ascii=False).encode()
            self.ucache[uid] = b
        return b

    def group_json(self, gid):
        b = self.gcache.get(gid)
        if b is None:
            g = dict(self.groups[gid])
            g["_links"] = {
                "logo": [{"name": "medium", "href": "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/okta-medium.png", "type": "image/png"},
                         {"name": "large", "href": "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/okta-large.png", "type": "image/png"}],
                "users": {"href": "%s/api/v1/groups/%s/users" % (self.base, gid)},
                "apps": {"href": "%s/api/v1/groups/%s/apps" % (self.base, gid)},
            }
            b = json.dumps(g, separators=(",", ":"), ensure_ascii=False).encode()
            self.gcache[gid] = b
        return b

    # -- lookups
    def uid_of(self, login_or_id):
        if login_or_id in self.users:
            return login_or_id
        uid = self.login_idx.get(login_or_id)
        if uid is not None:
            return uid
        low = login_or_id.lower()
        hits = [i for l, i in self.login_idx.items() if l.lower() == low]
        if len(hits) == 1:
            return hits[0]
        raise KeyError("no such user: %r" % (login_or_id,))

    def gid_of(self, name_or_id):
        if name_or_id in self.groups:
            return name_or_id
        gid = self.name_idx.get(name_or_id)
        if gid is None:
            raise KeyError("no such group: %r" % (name_or_id,))
        return gid

    def new_id(self, prefix, taken):
        while True:
            i = prefix + "".join(secrets.choice(ALNUM) for _ in range(17))
            if i not in taken:
                return i

    def touch_user(self, uid):
        self.users[uid]["lastUpdated"] = now_iso()
        self.ucache.pop(uid, None)

    def touch_group_members(self, gid):
        self.groups[gid]["lastMembershipUpdated"] = now_iso()
        self.gcache.pop(gid, None)

    # -- the System Log (served by ApiHandler.logs)
    def user_target(self, uid):
        p = self.users[uid]["profile"]
        name = " ".join(x for x in (p.get("firstName"), p.get("lastName")) if isinstance(x, str))
        return {"id": uid, "type": "User", "alternateId": p.get("login"),
                "displayName": name or p.get("login"), "detailEntry": None}

    def group_target(self, gid):
        name = self.groups[gid]["profile"].get("name")
        return {"id": gid, "type": "UserGroup", "alternateId": name,
                "displayName": name, "detailEntry": None}

    def emit(self, event_type, targets, outcome="SUCCESS", reason=None):
        """Append one LogEvent, published now by the emulator's clock.  It
        is persisted (visible to /api/v1/logs) event_lag seconds later."""
        now = self.clock()
        self.event_seq += 1
        msg, legacy = EVENT_TEXT.get(event_type, (event_type, None))
        ev = {
            "actor": dict(EVENT_ACTOR),
            "client": {"userAgent": {"rawUserAgent": "okta-emulator-control/1.0",
                                     "os": "Unknown", "browser": "UNKNOWN"},
                       "zone": None, "device": "Unknown", "id": None,
                       "ipAddress": "127.0.0.1",
                       "geographicalContext": None},
            "authenticationContext": {"authenticationProvider": None, "credentialProvider": None,
                                      "credentialType": None, "issuer": None,
                                      "interface": None, "authenticationStep": 0,
                                      "externalSessionId": "trs" + secrets.token_urlsafe(16)},
            "displayMessage": msg,
            "eventType": event_type,
            "outcome": {"result": outcome, "reason": reason},
            "published": iso_ms(now),
            "securityContext": {"asNumber": None, "asOrg": None, "isp": None,
                                "domain": None, "isProxy": None},
            "severity": "INFO" if outcome == "SUCCESS" else "WARN",
            "debugContext": {"debugData": {"requestId": secrets.token_hex(16),
                                           "requestUri": "/api/v1/emulator/control",
                                           "url": "/api/v1/emulator/control"}},
            "legacyEventType": legacy,
            "transaction": {"type": "WEB", "id": secrets.token_urlsafe(20), "detail": {}},
            "uuid": str(uuid.uuid4()),
            "version": "0",
            "request": {"ipChain": [{"ip": "127.0.0.1", "geographicalContext": None,
                                     "version": "V4", "source": None}]},
            "target": list(targets),
        }
        # Internal keys (stripped when served): seq, published and
        # persisted time in microseconds, and the event's JSON.
        pub_us = int(now * 1000) * 1000
        self.events.append({"seq": self.event_seq, "pub": pub_us,
                            "vis": int((now + self.event_lag) * 1e6), "ev": ev,
                            "json": json.dumps(ev, separators=(",", ":"), ensure_ascii=False).encode()})
        return ev

    def status_event(self, old, new):
        """The eventType Okta logs for a status change (None: no change)."""
        if old == new:
            return None
        if new == "SUSPENDED":
            return "user.lifecycle.suspend"
        if old == "SUSPENDED" and new == "ACTIVE":
            return "user.lifecycle.unsuspend"
        if new == "DEPROVISIONED":
            return "user.lifecycle.deactivate"
        if new == "LOCKED_OUT":
            return "user.account.lock"
        if old == "LOCKED_OUT" and new == "ACTIVE":
            return "user.account.unlock"
        if new == "PASSWORD_EXPIRED":
            return "user.account.expire_password"
        if new == "RECOVERY":
            return "user.account.reset_password"
        if new in ("ACTIVE", "PROVISIONED") and old in ("STAGED", "DEPROVISIONED"):
            return "user.lifecycle.activate"
        return "user.lifecycle.reactivate"

    def add_event(self, event_type, targets, outcome="SUCCESS", reason=None):
        """An arbitrary event.  targets: [[type, login_or_id_or_name], ...];
        a User or UserGroup that exists becomes its full target, anything
        else is taken as an id as given (unknown or out-of-scope ids)."""
        out = []
        for t in targets or ():
            if isinstance(t, dict):
                out.append(t)
                continue
            typ, ref = t[0], t[1]
            if typ == "User":
                try:
                    out.append(self.user_target(self.uid_of(ref)))
                    continue
                except KeyError:
                    pass
            if typ == "UserGroup":
                try:
                    out.append(self.group_target(self.gid_of(ref)))
                    continue
                except KeyError:
                    pass
            out.append({"id": ref, "type": typ, "alternateId": "unknown",
                        "displayName": "unknown", "detailEntry": None})
        return self.emit(str(event_type), out, str(outcome), reason)["uuid"]

    def touch_users(self, logins, event_type="user.account.update_profile"):
        """Bump each user's lastUpdated and log one event naming it (a burst
        of events in one control call)."""
        uids = [self.uid_of(l) for l in logins]
        for uid in uids:
            self.touch_user(uid)
            self.emit(event_type, [self.user_target(uid)])
        return len(uids)

    # -- control operations (self.lock held)
    def add_token(self, token=None, groups=None, forbidden=False):
        token = token or "00" + "".join(secrets.choice(ALNUM + "-_") for _ in range(40))
        if forbidden:
            self.tokens[token] = FORBIDDEN
        else:
            self.tokens[token] = None if groups is None else frozenset(self.gid_of(g) for g in groups)
        return token

    def revoke_token(self, token):
        if self.tokens.pop(token, 0) == 0:
            raise KeyError("no such token")
        return None

    def add_user(self, login, firstName="First", lastName="Last", status="ACTIVE",
                 profile=None, id=None, groups=()):
        if login in self.login_idx:
            raise ValueError("login exists: %r" % (login,))
        if status not in STATUSES:
            raise ValueError("bad status %r" % (status,))
        uid = id or self.new_id("00u", self.users)
        if uid in self.users:
            raise ValueError("id exists: %r" % (uid,))
        now = now_iso()
        p = {"firstName": firstName, "lastName": lastName, "mobilePhone": None,
             "secondEmail": None, "login": login, "email": login}
        p.update(profile or {})
        pre = status in ("STAGED", "PROVISIONED")
        u = {
            "id": uid, "status": status, "created": now,
            "activated": None if pre else now,
            "statusChanged": None if status == "STAGED" else now,
            "lastLogin": None, "lastUpdated": now,
            "passwordChanged": None if status == "STAGED" else now,
            "type": {"id": "otyemu0000000000000"},
            "profile": p,
            "credentials": {"password": {}, "emails": [{"value": p["email"], "status": "VERIFIED", "type": "PRIMARY"}],
                            "provider": {"type": "OKTA", "name": "OKTA"}},
        }
        self.users[uid] = u
        bisect.insort(self.user_ids, uid)
        self.login_idx[login] = uid
        self.user_groups[uid] = set()
        self.emit("user.lifecycle.create", [self.user_target(uid)])
        if status in ("ACTIVE", "PROVISIONED"):
            self.emit("user.lifecycle.activate", [self.user_target(uid)])
        for g in groups or ():
            self.add_member(g, uid)
        return uid

    def set_status(self, login, status):
        if status not in STATUSES:
            raise ValueError("bad status %r" % (status,))
        uid = self.uid_of(login)
        u = self.users[uid]
        now = now_iso()
        event_type = self.status_event(u["status"], status)
        if u["status"] != status:
            u["status"] = status
            u["statusChanged"] = now
            if status == "ACTIVE" and u.get("activated") is None:
                u["activated"] = now
        self.touch_user(uid)
        if event_type:
            self.emit(event_type, [self.user_target(uid)])
        return uid

    def set_profile(self, login, attrs):
        uid = self.uid_of(login)
        u = self.users[uid]
        p = dict(u["profile"])
        p.update(attrs)
        if p.get("login") != u["profile"]["login"]:
            if not isinstance(p.get("login"), str) or p["login"] in self.login_idx:
                raise ValueError("bad or taken login %r" % (p.get("login"),))
            del self.login_idx[u["profile"]["login"]]
            self.login_idx[p["login"]] = uid
        u["profile"] = p
        self.touch_user(uid)
        self.emit("user.account.update_profile", [self.user_target(uid)])
        return uid

    def set_user(self, login, attrs):
        """Set top-level user fields verbatim (e.g. lastUpdated), no bumping."""
        uid = self.uid_of(login)
        self.users[uid].update(attrs)
        self.ucache.pop(uid, None)
        self.emit("user.account.update_profile", [self.user_target(uid)])
        return uid

    def delete_user(self, login):
        uid = self.uid_of(login)
        target = self.user_target(uid)
        for gid in list(self.user_groups.get(uid, ())):
            self.member_set[gid].discard(uid)
            ms = self.members[gid]
            i = bisect.bisect_left(ms, uid)
            if i < len(ms) and ms[i] == uid:
                del ms[i]
            self.touch_group_members(gid)
        self.user_groups.pop(uid, None)
        u = self.users.pop(uid)
        del self.login_idx[u["profile"]["login"]]
        i = bisect.bisect_left(self.user_ids, uid)
        del self.user_ids[i]
        self.ucache.pop(uid, None)
        self.emit("user.lifecycle.delete", [target])
        return uid

    def add_group(self, name, description=None, type="OKTA_GROUP", id=None):
        if name in self.name_idx:
            raise ValueError("group exists: %r" % (name,))
        gid = id or self.new_id("00g", self.groups)
        now = now_iso()
        self.groups[gid] = {"id": gid, "created": now, "lastUpdated": now,
                            "lastMembershipUpdated": now,
                            "objectClass": ["okta:user_group"], "type": type,
                            "profile": {"name": name, "description": description}}
        bisect.insort(self.group_ids, gid)
        self.name_idx[name] = gid
        self.members[gid] = []
        self.member_set[gid] = set()
        self.emit("group.lifecycle.create", [self.group_target(gid)])
        return gid

    def set_group(self, name, attrs):
        gid = self.gid_of(name)
        g = self.groups[gid]
        p = dict(g["profile"])
        p.update(attrs)
        if p.get("name") != g["profile"]["name"]:
            if p["name"] in self.name_idx:
                raise ValueError("group exists: %r" % (p["name"],))
            del self.name_idx[g["profile"]["name"]]
            self.name_idx[p["name"]] = gid
        g["profile"] = p
        g["lastUpdated"] = now_iso()
        self.gcache.pop(gid, None)
        self.emit("group.profile.update", [self.group_target(gid)])
        return gid

    def delete_group(self, name):
        gid = self.gid_of(name)
        target = self.group_target(gid)
        for uid in self.members.pop(gid):
            self.user_groups[uid].discard(gid)
        del self.member_set[gid]
        g = self.groups.pop(gid)
        del self.name_idx[g["profile"]["name"]]
        del self.group_ids[bisect.bisect_left(self.group_ids, gid)]
        self.gcache.pop(gid, None)
        self.emit("group.lifecycle.delete", [target])
        return gid

    def add_member(self, group, login):
        gid = self.gid_of(group)
        uid = self.uid_of(login)
        if uid not in self.member_set[gid]:
            self.member_set[gid].add(uid)
            bisect.insort(self.members[gid], uid)
            self.user_groups[uid].add(gid)
            self.touch_group_members(gid)
            self.emit("group.user_membership.add", [self.user_target(uid), self.group_target(gid)])
        return gid

    def remove_member(self, group, login):
        gid = self.gid_of(group)
        uid = self.uid_of(login)
        if uid in self.member_set[gid]:
            self.member_set[gid].discard(uid)
            ms = self.members[gid]
            del ms[bisect.bisect_left(ms, uid)]
            self.user_groups[uid].discard(gid)
            self.touch_group_members(gid)
            self.emit("group.user_membership.remove", [self.user_target(uid), self.group_target(gid)])
        return gid

    def get_user(self, login):
        uid = self.uid_of(login)
        u = json.loads(self.user_json(uid))
        u["groups"] = sorted(self.groups[g]["profile"]["name"] for g in self.user_groups[uid])
        return u

    def get_group(self, name):
        gid = self.gid_of(name)
        g = json.loads(self.group_json(gid))
        g["members"] = list(self.members[gid])
        return g

    def counts(self):
        return {"users": len(self.users), "groups": len(self.groups),
                "memberships": sum(len(m) for m in self.members.values())}


def page(ids, after, limit, pred):
    """Up to `limit` ids from the sorted list `ids` that come after `after`
    and satisfy pred (None: all).  Returns (ids, more): more is true when
    at least one further id matches, so a next link never leads to an
    empty page."""
    i = bisect.bisect_right(ids, after) if after else 0
    n = len(ids)
    out = []
    if pred is None:
        out = ids[i:i + limit]
        return out, i + limit < n
    while i < n and len(out) < limit:
        x = ids[i]
        i += 1
        if pred(x):
            out.append(x)
    more = False
    while i < n:
        if pred(ids[i]):
            more = True
            break
        i += 1
    return out, more


def accepts_gzip(ae):
    """True when an Accept-Encoding value allows gzip (gzip or *, q > 0)."""
    for item in ae.split(","):
        fields = [x.strip() for x in item.split(";")]
        if fields[0].lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = 1.0
        for prm in fields[1:]:
            if prm.lower().startswith("q="):
                try:
                    q = float(prm[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            return True
    return False


def encode_cursor(last_id):
    return base64.urlsafe_b64encode(b"emu1:" + last_id.encode()).decode().rstrip("=")


def decode_cursor(s):
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (ValueError, TypeError):
        raw = b""
    if not raw.startswith(b"emu1:"):
        raise ApiError(400, "E0000001", "Api validation failed: after")
    return raw[5:].decode("utf-8", "replace")


def encode_log_cursor(kind, pos):
    """System Log cursor: the kind (p: polling, ordered by persisted time;
    b: bounded, by published) and the position (microseconds, sequence)."""
    return base64.urlsafe_b64encode(("emu1l:%s:%d:%d" % (kind, pos[0], pos[1])).encode()).decode().rstrip("=")


def decode_log_cursor(s, kind):
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode("ascii")
        tag, k, t, seq = raw.split(":")
        if tag != "emu1l" or k != kind:
            raise ValueError(raw)
        return (int(t), int(seq))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ApiError(400, "E0000001", "Api validation failed: after",
                       ["after: The 'after' cursor is not valid for this query."])


# ---------------------------------------------------------------- rate limits, faults, log

class Bucket:
    def __init__(self, limit, window):
        self.limit = limit
        self.window = window
        self.start = None
        self.used = 0
        # After a 429 the bucket refuses everything until the reset it
        # announced (server clock, epoch s), as Okta does: a client that
        # comes back early gets another 429, counted in Runtime.early.
        self.blocked_until = 0

    def state(self, now):
        if self.start is None or now >= self.start + self.window:
            self.start = now
            self.used = 0
        return self.start + self.window


class Runtime:
    """Rate-limit buckets, pending faults, the request log and counters.
    Guarded by Store.lock."""

    def __init__(self, users_limit, groups_limit, window, logs_limit=60):
        self.buckets = {"users": Bucket(users_limit, window), "groups": Bucket(groups_limit, window),
                        "logs": Bucket(logs_limit, window)}
        self.faults = []
        self.log = []
        self.min_remaining = None
        self.count_429 = 0
        self.early = 0           # requests that came before an announced reset
        self.skew = 0.0          # seconds added to Date and x-rate-limit-reset

    def take_fault(self, path, explicit=False):
        """explicit: only a fault that names (part of) this path applies
        (the OAuth endpoints: a fault meant for the API is not eaten by a
        token request)."""
        for f in self.faults:
            if (f["path"] is None and not explicit) or (f["path"] is not None and f["path"] in path):
                f["count"] -= 1
                if f["count"] <= 0:
                    self.faults.remove(f)
                return f
        return None


# ---------------------------------------------------------------- HTTP

class DropConnection(Exception):
    """Abort the connection now, without an answer."""


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 300

    def version_string(self):
        return "nginx"

    def date_time_string(self, timestamp=None):
        # The Date header follows the emulator's (possibly skewed) clock.
        return BaseHTTPRequestHandler.date_time_string(self, time.time() + self.server.rt.skew)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("emulator: " + (fmt % args) + "\n")

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_PUT(self):
        self.serve("PUT")

    def do_DELETE(self):
        self.serve("DELETE")

    def serve(self, method):
        st = self.server.store
        rt = self.server.rt
        n = int(self.headers.get("Content-Length") or 0)
        self.req_body = self.rfile.read(n) if n else b""
        self.extra_headers = []     # OAuth: WWW-Authenticate, DPoP-Nonce
        raw = self.path
        split = urllib.parse.urlsplit(raw)
        path = split.path
        if path.startswith("/api/v1/groups"):
            bucket_name = "groups"
        elif path.startswith("/api/v1/logs"):
            bucket_name = "logs"      # Okta's System Log has its own, small bucket
        else:
            bucket_name = "users"
        with st.lock:
            entry = [method, raw, 0]
            rt.log.append(entry)
            b = rt.buckets[bucket_name]
            if path != OAUTH_TOKEN_PATH and path not in DA_PATHS and time.time() + rt.skew < b.blocked_until:
                # Too early after a 429: refused again, and no pending
                # fault is used up by it.
                rt.early += 1
                rt.count_429 += 1
                early = (b.limit, 0, b.blocked_until)
                fault = None
            else:
                early = None
                fault = rt.take_fault(raw, explicit=path == OAUTH_TOKEN_PATH or path in DA_PATHS)
        kind = fault["kind"] if fault else None
        self.fault_target = fault.get("target") if fault else None
        if kind in ("slow", "reset", "500", "429") and (path == OAUTH_TOKEN_PATH or path in DA_PATHS):
            # Okta failing at sign-in (a broker must not take it for a refusal)
            if kind == "slow":
                time.sleep(fault.get("delay") or 3.0)
            elif kind == "reset":
                self.drop()
                with st.lock:
                    entry[2] = 0
                return
            else:
                e = err_internal() if kind == "500" else err_rate()
                rl = None if kind == "500" else (600, 0, int(time.time() + rt.skew) + int(fault.get("delay") or 2))
                self.send_api(entry, e.status, error_body(e), rl, [])
                return
        if path == OAUTH_TOKEN_PATH:
            self.serve_oauth_token(entry)
            return
        if path in DA_PATHS:
            self.serve_direct(entry, path)
            return
        try:
            if early is not None:
                self.send_api(entry, 429, error_body(err_rate()), early, [])
                return
            if kind == "slow":
                time.sleep(fault.get("delay") or 3.0)
            if kind == "reset":
                raise DropConnection()
            if kind in ("500", "401", "403", "429"):
                e = {"500": err_internal, "401": err_invalid_token,
                     "403": err_forbidden, "429": err_rate}[kind]()
                with st.lock:
                    b = rt.buckets[bucket_name]
                    reset = b.state(time.time())
                    rl = (b.limit, max(0, b.limit - b.used), int(reset + rt.skew + 0.999))
                    if kind == "429":
                        # remaining: what the headers claim is left (a
                        # per-token limit hit while the org's bucket is not)
                        rl = (b.limit, int(fault.get("remaining") or 0),
                              int(time.time() + rt.skew) + int(fault.get("delay") or 2))
                        b.blocked_until = rl[2]
                        rt.count_429 += 1
                self.send_api(entry, e.status, error_body(e), rl, [])
                return
            status, body, links, rl = self.compute(method, raw, split, bucket_name, kind)
            if kind == "content_type":
                body = b"<html><head><title>Okta</title></head><body><h1>Service unavailable</h1></body></html>"
                self.send_api(entry, 200, body, rl, [], ctype="text/html;charset=UTF-8")
                return
            if kind == "link_joined" and links:
                links = [", ".join(links)]
            if kind == "truncated_json" and status == 200:
                body = body[:len(body) // 2]
            self.send_api(entry, status, body, rl, links, truncate=(kind == "truncated"))
        except DropConnection:
            self.drop()
            with st.lock:
                entry[2] = 0
        except (ConnectionError, ssl.SSLError, socket.timeout):
            raise                   # the client went away; nothing to answer
        except Exception:
            # A bug in the emulator: answer like Okta's 500 and say why on
            # stderr (the wrapper's log), rather than dropping the request.
            traceback.print_exc()
            self.send_api(entry, 500, error_body(err_internal()), None, [])

    def drop(self):
        """Close the TCP connection with a RST and no answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    def close_cleanly(self):
        """End the connection in good order (TLS close_notify, then FIN),
        whatever was promised in Content-Length."""
        self.close_connection = True
        c = self.connection
        try:
            c.setblocking(False)
            c.unwrap()              # sends close_notify; no waiting for the peer's
        except (ssl.SSLError, OSError, ValueError):
            pass
        try:
            c.shutdown(socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass

    def compute(self, method, raw, split, bucket_name, kind):
        """Answer one API request: (status, body bytes, link list, rate tuple)."""
        st = self.server.store
        rt = self.server.rt
        with st.lock:
            b = rt.buckets[bucket_name]
            now = time.time()
            reset = b.state(now)
            reset_i = int(reset + rt.skew + 0.999)
            try:
                scope = self.auth()
                if b.used >= b.limit:
                    rt.count_429 += 1
                    b.blocked_until = reset_i
                    return 429, error_body(err_rate()), [], (b.limit, 0, reset_i)
                b.used += 1
                remaining = b.limit - b.used
                if rt.min_remaining is None or remaining < rt.min_remaining:
                    rt.min_remaining = remaining
                rl = (b.limit, remaining, reset_i)
                if method != "GET":
                    raise ApiError(405, "E0000022", "The endpoint does not support the provided HTTP method")
                body, links = self.route(split, raw, scope, kind)
                return 200, body, links, rl
            except ApiError as e:
                if e.status == 429:
                    rt.count_429 += 1
                return e.status, error_body(e), [], (b.limit, max(0, b.limit - b.used), reset_i)

    def auth(self):
        h = self.headers.get("Authorization") or ""
        if h.startswith(("Bearer ", "DPoP ")):
            return self.oauth_auth(h)
        if not h.startswith("SSWS "):
            raise err_invalid_token()
        tok = h[5:].strip()
        st = self.server.store
        if tok not in st.tokens:
            raise err_invalid_token()
        scope = st.tokens[tok]
        if scope == FORBIDDEN:
            raise err_forbidden()
        return scope

    def route(self, split, raw, scope, kind):
        st = self.server.store
        q = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        qv = {k: v[-1] for k, v in q.items()}
        parts = [p for p in split.path.split("/") if p]
        if parts[:2] != ["api", "v1"] or len(parts) < 3:
            raise err_not_found(split.path)
        parts = [urllib.parse.unquote(p) for p in parts[2:]]

        def visible_user(uid):
            return scope is None or not scope.isdisjoint(st.user_groups.get(uid, ()))

        def visible_group(gid):
            return scope is None or gid in scope

        if parts == ["logs"]:
            return self.logs(qv, raw, split)
        if parts[0] == "users":
            if len(parts) == 1:
                flt = qv.get("filter")
                srch = qv.get("search")
                preds = []
                if flt is not None:
                    f = compile_filter(flt, USER_FILTER_ATTRS)
                    preds.append(lambda uid: f(st.users[uid]))
                if srch is not None:
                    s = compile_filter(srch, None)
                    preds.append(lambda uid: s(st.users[uid]))
                if flt is None and srch is None:
                    preds.append(lambda uid: st.users[uid]["status"] != "DEPROVISIONED")
                if scope is not None:
                    preds.append(visible_user)
                return self.listing(st.user_ids, preds, qv, raw, split, st.user_json, kind)
            try:
                uid = st.uid_of(parts[1])
            except KeyError:
                raise err_not_found("%s (User)" % parts[1])
            if not visible_user(uid):
                raise err_not_found("%s (User)" % parts[1])
            if len(parts) == 2:
                return st.user_json(uid), []
            if len(parts) == 3 and parts[2] == "groups":
                gids = sorted(g for g in st.user_groups[uid] if visible_group(g))
                return self.listing(gids, [], qv, raw, split, st.group_json, kind)
            raise err_not_found(split.path)
        if parts[0] == "groups":
            if len(parts) == 1:
                preds = []
                if qv.get("filter") is not None:
                    f = compile_filter(qv["filter"], GROUP_FILTER_ATTRS)
                    preds.append(lambda gid: f(st.groups[gid]))
                if qv.get("search") is not None:
                    s = compile_filter(qv["search"], None)
                    preds.append(lambda gid: s(st.groups[gid]))
                if qv.get("q"):
                    pre = qv["q"].lower()
                    preds.append(lambda gid: st.groups[gid]["profile"]["name"].lower().startswith(pre))
                if scope is not None:
                    preds.append(visible_group)
                return self.listing(st.group_ids, preds, qv, raw, split, st.group_json, kind)
            gid = parts[1]
            if gid not in st.groups:
                raise err_not_found("%s (UserGroup)" % gid)
            if not visible_group(gid):
                raise err_forbidden()
            if len(parts) == 2:
                return st.group_json(gid), []
            if len(parts) == 3 and parts[2] == "users":
                return self.listing(st.members[gid], [], qv, raw, split, st.user_json, kind)
            raise err_not_found(split.path)
        raise err_not_found(split.path)

    def listing(self, ids, preds, qv, raw, split, ser, kind):
        lim = qv.get("limit")
        if lim is None or lim == "":
            limit = DEFAULT_LIMIT
        else:
            try:
                limit = int(lim)
            except ValueError:
                raise ApiError(400, "E0000001", "Api validation failed: limit")
            if limit < 1:
                raise ApiError(400, "E0000001", "Api validation failed: limit")
            limit = min(limit, MAX_LIMIT)
        after = decode_cursor(qv["after"]) if qv.get("after") else None
        if not preds:
            pred = None
        elif len(preds) == 1:
            pred = preds[0]
        else:
            pred = lambda x: all(p(x) for p in preds)
        got, more = page(ids, after, limit, pred)
        if kind == "short_page" and len(got) > 1:
            got = got[:len(got) // 2]
            more = True
        body = b"[" + b",".join(ser(x) for x in got) + b"]"
        base = self.server.store.base
        links = ['<%s%s>; rel="self"' % (base, raw)]
        if kind == "link_loop":
            links.append('<%s%s>; rel="next"' % (base, raw))
        elif more and got:
            rest = [(k, v) for k, v in urllib.parse.parse_qsl(split.query, keep_blank_values=True)
                    if k not in ("after", "limit")]
            qs = urllib.parse.urlencode([("after", encode_cursor(got[-1])), ("limit", str(limit))] + rest)
            if kind == "link_foreign":
                base = self.fault_target or "https://okta-emulator.invalid"
            elif kind == "link_http":
                base = self.fault_target or "http://" + base.split("://", 1)[1]
            links.append('<%s%s?%s>; rel="next"' % (base, split.path, qs))
        return body, links

    def logs(self, qv, raw, split):
        """GET /api/v1/logs.  Without until (and ascending) a polling
        request: events in the order Okta persisted them (published plus
        the event lag), and a rel="next" link always, whose cursor stands
        after the last event returned, or at "now" when none matched, so
        following it yields only events that arrive later.  With until (or
        DESCENDING) a bounded request over published: a next link only
        while more events match."""
        st = self.server.store
        now_us = int(st.clock() * 1e6)

        def bad(param, cause):
            return ApiError(400, "E0000001", "Api validation failed: " + param,
                            ["%s: %s" % (param, cause)])
        lim = qv.get("limit")
        limit = LOGS_DEFAULT_LIMIT
        if lim not in (None, ""):
            try:
                limit = int(lim)
            except ValueError:
                raise bad("limit", "The limit must be an integer between 0 and 1000.")
            if not 0 <= limit <= LOGS_MAX_LIMIT:
                raise bad("limit", "The limit must be an integer between 0 and 1000.")
        order = qv.get("sortOrder") or "ASCENDING"
        if order not in ("ASCENDING", "DESCENDING"):
            raise bad("sortOrder", "The sortOrder must be ASCENDING or DESCENDING.")

        def ts(name):
            v = qv.get(name)
            if v is None or v == "":
                return None
            t = parse_ts(v)
            if t is None:
                raise bad(name, "The date format in your query is not recognized. "
                                "Please enter dates using ISO 8601 string format.")
            return int(round(t * 1e6))
        since, until = ts("since"), ts("until")
        if since is not None and since > now_us:
            raise bad("since", "The 'since' date must not be in the future.")
        if since is not None and until is not None and since >= until:
            raise bad("until", "The 'until' date must be later than the 'since' date.")
        preds = []
        if qv.get("filter") is not None:
            f = compile_filter(qv["filter"], LOG_FILTER_ATTRS)
            if "target." in qv["filter"]:
                # target is an array: a clause on target.x holds when some
                # one target satisfies it.
                preds.append(lambda e: any(f(dict(e["ev"], target=t))
                                           for t in (e["ev"]["target"] or [{}])))
            else:
                preds.append(lambda e: f(e["ev"]))
        if qv.get("q"):
            words = qv["q"].split()
            if len(words) > 10 or any(len(w) > 40 for w in words):
                raise bad("q", "At most 10 keywords of at most 40 characters each.")
            low = [w.lower() for w in words]
            preds.append(lambda e: all(w in e["json"].decode("utf-8", "replace").lower() for w in low))
        polling = until is None and order == "ASCENDING"
        kind = "p" if polling else "b"
        cursor = None
        if qv.get("after"):
            cursor = decode_log_cursor(qv["after"], kind)
        if polling:
            key = lambda e: (e["vis"], e["seq"])
            start = (since if since is not None else now_us - LOGS_DEFAULT_WINDOW * 1000000, -1)
            if cursor is not None and cursor > start:
                start = cursor
            cand = sorted((e for e in st.events
                           if e["vis"] <= now_us and key(e) > start and all(p(e) for p in preds)),
                          key=key)
            got = cand[:limit]
            if got:
                nxt = key(got[-1])
            elif limit == 0:
                nxt = start
            else:
                # Nothing (more) persisted yet: the cursor moves to now,
                # past every event visible so far.
                nxt = max(start, (now_us, st.event_seq))
            more = True
        else:
            key = lambda e: (e["pub"], e["seq"])
            hi = until if until is not None else now_us
            lo = since if since is not None else hi - LOGS_DEFAULT_WINDOW * 1000000
            desc = order == "DESCENDING"

            def inside(e):
                if cursor is not None and (key(e) >= cursor if desc else key(e) <= cursor):
                    return False
                return lo <= e["pub"] < hi and e["vis"] <= now_us and all(p(e) for p in preds)
            cand = sorted((e for e in st.events if inside(e)), key=key, reverse=desc)
            got = cand[:limit]
            more = len(cand) > len(got) and bool(got)
            nxt = key(got[-1]) if got else None
        body = b"[" + b",".join(e["json"] for e in got) + b"]"
        links = ['<%s%s>; rel="self"' % (st.base, raw)]
        if more:
            rest = [(k, v) for k, v in urllib.parse.parse_qsl(split.query, keep_blank_values=True)
                    if k != "after"]
            qs = urllib.parse.urlencode(rest + [("after", encode_log_cursor(kind, nxt))])
            links.append('<%s%s?%s>; rel="next"' % (st.base, split.path, qs))
        return body, links

    def send_api(self, entry, status, body, rl, links, ctype=JSON_CT, truncate=False, cache=None):
        use_gzip = accepts_gzip(self.headers.get("Accept-Encoding") or "")
        if use_gzip and body:
            body = gzip.compress(body, compresslevel=1, mtime=0)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if use_gzip and body:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        if cache:
            self.send_header("Cache-Control", cache)     # the JWKS: cacheable
        else:
            self.send_header("Cache-Control", "no-cache, no-store")
            self.send_header("Expires", "0")
            self.send_header("Pragma", "no-cache")
        for l in links:
            self.send_header("Link", l)
        for k, v in getattr(self, "extra_headers", ()):
            self.send_header(k, v)
        self.send_header("x-okta-request-id", secrets.token_hex(16))
        if rl:
            self.send_header("x-rate-limit-limit", str(rl[0]))
            self.send_header("x-rate-limit-remaining", str(rl[1]))
            self.send_header("x-rate-limit-reset", str(rl[2]))
        with self.server.store.lock:
            entry[2] = status
        # Headers and body leave in one write (one TLS record train): a
        # separate small write for the headers would meet Nagle and the
        # client's delayed ACK and cost 40 ms a request.
        self._headers_buffer.append(b"\r\n")
        if truncate:
            self._headers_buffer.append(body[:len(body) // 2])
            self.flush_headers()
            self.close_cleanly()
            return
        self._headers_buffer.append(body)
        self.flush_headers()


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, ctx, store, rt, verbose=False):
        ThreadingHTTPServer.__init__(self, addr, ApiHandler)
        self.ctx = ctx
        self.store = store
        self.rt = rt
        self.verbose = verbose

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a
        # slow or failing client never holds up accept().
        request.settimeout(300)
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            if self.verbose:
                sys.stderr.write("emulator: TLS handshake failed: %s\n" % e)
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, (ConnectionError, ssl.SSLError, socket.timeout, BrokenPipeError)):
            return
        ThreadingHTTPServer.handle_error(self, request, client_address)


# ---------------------------------------------------------------- OAuth service apps
#
# POST /oauth2/v1/token: the client credentials grant of an API Services app
# authenticated by a private_key_jwt assertion, and DPoP (RFC 9449) as Okta
# enforces it.  Apps are registered through the control op oauth_add_app
# (client_id, public key PEM, granted scopes, dpop_required).  Signatures
# are checked with the openssl command (python3 may lack a crypto module):
# RS256 as is, ES256 after turning the raw r||s into DER.  Access tokens
# are opaque and expire (oauth_set_token_lifetime: seconds, or a number of
# API requests, so that a test can make one expire mid-sync).  API calls
# with "Authorization: Bearer|DPoP" are checked here: the token, its
# scopes (403 E0000006 without okta.groups.read on /api/v1/groups...), and
# for a DPoP-bound token the proof of every call (signature by the bound
# key, htm, htu, iat, jti, ath, and the nonce once oauth_dpop_nonce asked
# the API to require one; rotate_every N rotates it mid-sync).

OAUTH_TOKEN_PATH = "/oauth2/v1/token"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


class OAuthError(Exception):
    def __init__(self, status, error, description, headers=()):
        Exception.__init__(self, error)
        self.status = status
        self.error = error
        self.description = description
        self.headers = list(headers)


def b64url_decode(s):
    if not isinstance(s, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", s):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def split_jwt(jwt):
    """(header dict, claims dict, signing input bytes, signature bytes)."""
    parts = jwt.split(".")
    if len(parts) != 3:
        raise ValueError("not three parts")
    hdr = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    if not isinstance(hdr, dict) or not isinstance(claims, dict):
        raise ValueError("not JSON objects")
    return hdr, claims, (parts[0] + "." + parts[1]).encode(), b64url_decode(parts[2])


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def es256_der(raw):
    if len(raw) != 64:
        raise ValueError("an ES256 signature is 64 bytes")
    body = der_int(raw[:32]) + der_int(raw[32:])
    return b"\x30" + bytes([len(body)]) + body


def pem_of_der(der):
    s = base64.b64encode(der).decode()
    return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(s[i:i + 64] for i in range(0, len(s), 64))
            + "\n-----END PUBLIC KEY-----\n")


def jwk_p256_pem(jwk):
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        raise ValueError("the jwk is not a public EC P-256 key")
    x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
    if len(x) != 32 or len(y) != 32:
        raise ValueError("bad EC coordinates")
    return pem_of_der(P256_SPKI_PREFIX + b"\x04" + x + y)


def openssl_verify(pub_pem, data, sig):
    """Whether sig (DER for EC) over data verifies with the PEM key, by the
    openssl command."""
    with tempfile.TemporaryDirectory(prefix="emu-jws-") as d:
        kp, sp = os.path.join(d, "pub.pem"), os.path.join(d, "sig")
        with open(kp, "w") as f:
            f.write(pub_pem)
        with open(sp, "wb") as f:
            f.write(sig)
        p = subprocess.run(["openssl", "dgst", "-sha256", "-verify", kp, "-signature", sp],
                           input=data, capture_output=True, timeout=30)
        return p.returncode == 0


def key_type(pub_pem):
    """'RSA' or 'EC' for a PEM public key (openssl pkey)."""
    p = subprocess.run(["openssl", "pkey", "-pubin", "-noout", "-text"], input=pub_pem.encode(),
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise ValueError("not a PEM public key: %s" % p.stderr.decode(errors="replace").strip())
    out = p.stdout.decode(errors="replace")
    if "prime256v1" in out or "P-256" in out:
        return "EC"
    if "Modulus" in out or "RSA" in out:
        return "RSA"
    raise ValueError("neither RSA nor EC P-256")


def verify_jws(alg, pub_pem, signing_input, sig):
    if alg == "ES256":
        try:
            sig = es256_der(sig)
        except ValueError:
            return False
    elif alg != "RS256":
        return False
    return openssl_verify(pub_pem, signing_input, sig)


def jwk_thumbprint(jwk):
    """RFC 7638 for an EC key."""
    canon = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]},
                       separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canon.encode()).digest())


class OAuthState:
    """Apps, issued tokens, replay caches and DPoP nonces (under Store.lock)."""

    def __init__(self):
        self.apps = {}
        self.tokens = {}
        self.assertion_jtis = set()
        self.proof_jtis = set()
        self.lifetime = 3600
        self.expire_after_requests = None
        self.as_nonce = secrets.token_urlsafe(16)
        self.api_nonce = None           # None: the API asks for no nonce
        self.rotate_every = 0
        self.api_calls = 0
        self.issued = []                # every access token issued
        self.assertions = []            # every client_assertion received
        self.proofs = []                # every DPoP proof received
        self.events = []                # what happened, for tests' asserts
        self.refusals = []              # (error, description) of each refusal
        self.pem_cache = {}

    def event(self, what):
        self.events.append(what)


def oauth_state(st):
    if getattr(st, "oauth", None) is None:
        st.oauth = OAuthState()
    return st.oauth


def check_dpop_proof(oa, proof, method, htu, token=None, bound=None, nonce=None):
    """Check one DPoP proof; returns its jwk thumbprint or raises
    OAuthError(400, invalid_dpop_proof|use_dpop_nonce)."""
    def bad(desc):
        return OAuthError(400, "invalid_dpop_proof", desc)
    oa.proofs.append(proof)
    try:
        hdr, claims, signing_input, sig = split_jwt(proof)
    except (ValueError, TypeError):
        raise bad("The DPoP proof JWT cannot be parsed.")
    if hdr.get("typ") != "dpop+jwt":
        raise bad("'typ' must be 'dpop+jwt' in the DPoP proof JWT.")
    if hdr.get("alg") != "ES256":
        raise bad("The DPoP proof JWT signature algorithm is invalid.")
    jwk = hdr.get("jwk")
    try:
        key = json.dumps(jwk, sort_keys=True)
        pem = oa.pem_cache.get(key) or jwk_p256_pem(jwk)
        oa.pem_cache[key] = pem
        thumb = jwk_thumbprint(jwk)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise bad("The DPoP proof JWT header has no usable jwk.")
    if not verify_jws("ES256", pem, signing_input, sig):
        raise bad("The DPoP proof JWT signature is invalid.")
    if bound is not None and thumb != bound:
        raise bad("The access_token is not bound to the provided DPoP proof.")
    if claims.get("htm") != method:
        raise bad("'htm' claim in the DPoP proof JWT is invalid.")
    if claims.get("htu") != htu:
        raise bad("'htu' claim in the DPoP proof JWT is invalid.")
    iat = claims.get("iat")
    now = time.time()
    if not isinstance(iat, int):
        raise bad("'iat' claim in the DPoP proof JWT is invalid.")
    if iat > now + 60:
        raise bad("The DPoP proof JWT is issued in the future.")
    if iat < now - 300:
        raise bad("The DPoP proof JWT is issued more than five minutes in the past.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise bad("'jti' claim in the DPoP proof JWT is invalid.")
    if jti in oa.proof_jtis:
        raise bad("The DPoP proof JWT has already been used.")
    oa.proof_jtis.add(jti)
    if token is not None:
        if claims.get("ath") != b64url(hashlib.sha256(token.encode()).digest()):
            raise bad("'ath' claim in the DPoP proof does not match the presented access_token.")
    if nonce is not None and claims.get("nonce") != nonce:
        raise OAuthError(400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.",
                         [("DPoP-Nonce", nonce)])
    return thumb


def _oauth_grant(self, oa):
    """The token endpoint's checks, in Okta's order; returns the JSON answer."""
    st = self.server.store
    token_url = st.base + OAUTH_TOKEN_PATH
    try:
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(
            self.req_body.decode("ascii"), keep_blank_values=True, strict_parsing=False).items()}
    except (UnicodeDecodeError, ValueError):
        raise OAuthError(400, "invalid_request", "The request body is not a form.")
    if form.get("grant_type") in DA_GRANTS:
        return da_token(self, da_state(st), form)     # Direct Authentication section
    if form.get("grant_type") != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", "The authorization grant type is not supported.")
    if form.get("client_assertion_type") != JWT_BEARER:
        raise OAuthError(400, "invalid_request", "The client_assertion_type is invalid.")
    assertion = form.get("client_assertion") or ""
    oa.assertions.append(assertion)
    try:
        hdr, claims, signing_input, sig = split_jwt(assertion)
    except (ValueError, TypeError):
        raise OAuthError(401, "invalid_client", "The parsing of the client_assertion failed.")
    app = oa.apps.get(claims.get("iss"))
    if app is None:
        raise OAuthError(401, "invalid_client", "The issuer claim for client_assertion is not a valid client_id.")
    if claims.get("sub") != claims.get("iss"):
        raise OAuthError(401, "invalid_client", "The subject claim for client_assertion is not a valid client_id.")
    if claims.get("aud") != token_url:
        raise OAuthError(401, "invalid_client", "The audience claim for client_assertion must be the endpoint invoked for the request.")
    now = time.time()
    exp = claims.get("exp")
    if not isinstance(exp, int):
        raise OAuthError(401, "invalid_client", "The client_assertion must contain the 'exp' claim as seconds since epoch.")
    if exp < now:
        raise OAuthError(401, "invalid_client", "The client_assertion token is expired.")
    if exp > now + 300 + 5:
        raise OAuthError(401, "invalid_client", "The client_assertion token has an expiration too far into the future.")
    if isinstance(claims.get("iat"), int) and claims["iat"] > now + 60:
        raise OAuthError(401, "invalid_client", "The client_assertion token must be issued before the current time.")
    want_alg = "RS256" if app["type"] == "RSA" else "ES256"
    if hdr.get("alg") != want_alg:
        raise OAuthError(401, "invalid_client", "The client_assertion JWT signature algorithm is invalid.")
    if app.get("kid") and hdr.get("kid") != app["kid"]:
        raise OAuthError(401, "invalid_client", "The client_assertion JWT kid is invalid.")
    if not verify_jws(want_alg, app["pem"], signing_input, sig):
        raise OAuthError(401, "invalid_client", "The client_assertion signature is invalid.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or jti in oa.assertion_jtis:
        raise OAuthError(401, "invalid_client", "The client_assertion token has already been used.")
    oa.assertion_jtis.add(jti)
    bound = None
    proof = self.headers.get("DPoP")
    if app["dpop_required"]:
        if not proof:
            raise OAuthError(400, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
        try:
            bound = check_dpop_proof(oa, proof, "POST", token_url, nonce=oa.as_nonce)
        except OAuthError as e:
            if e.error == "use_dpop_nonce":
                oa.event("token_nonce_challenge")
            raise
    requested = (form.get("scope") or "").split()
    if not requested:
        raise OAuthError(400, "invalid_scope", "No scopes were requested.")
    granted = [s for s in requested if s in app["scopes"]]
    if not granted:
        raise OAuthError(400, "invalid_scope", "You are not allowed any of the requested scopes.")
    tok = secrets.token_urlsafe(48)
    oa.tokens[tok] = {"client_id": claims["iss"], "scopes": set(granted),
                      "expires": now + oa.lifetime, "bound": bound, "uses": 0,
                      "max_uses": oa.expire_after_requests}
    oa.issued.append(tok)
    oa.event("token_issued")
    return {"token_type": "DPoP" if bound else "Bearer", "expires_in": int(oa.lifetime),
            "access_token": tok, "scope": " ".join(granted)}


def _serve_oauth_token(self, entry):
    st = self.server.store
    extra = []
    with st.lock:
        oa = oauth_state(st)
        try:
            if self.command != "POST":
                raise OAuthError(405, "invalid_request", "The token endpoint takes POST.")
            out, status = _oauth_grant(self, oa), 200
            if self.headers.get("DPoP"):
                extra.append(("DPoP-Nonce", oa.as_nonce))
        except OAuthError as e:
            out, status = {"error": e.error, "error_description": e.description}, e.status
            out.update(getattr(e, "extra", None) or {})     # mfa_required's mfa_token
            extra += e.headers
            oa.event("token_refused:" + e.error)
            oa.refusals.append((e.error, e.description))
    self.extra_headers = extra
    self.send_api(entry, status, json.dumps(out).encode(), None, [], ctype="application/json")


def _oauth_auth(self, h):
    """Authorization: Bearer|DPoP <token> on an API call: None (the app
    sees the whole org) or raise ApiError with Okta's answer."""
    st = self.server.store
    oa = oauth_state(st)
    scheme, _, tok = h.partition(" ")
    tok = tok.strip()
    t = oa.tokens.get(tok)
    split = urllib.parse.urlsplit(self.path)
    challenge = '%s realm="%s", error="%%s", error_description="%%s", resource="%s"' % (
        scheme, st.base, split.path)

    def refuse(error, desc, status=401, extra=()):
        self.extra_headers = [("WWW-Authenticate", challenge % (error, desc))] + list(extra)
        oa.event("api_refused:" + error)
        oa.refusals.append((error, desc))
        if status == 403:
            return err_forbidden()
        return err_invalid_token()
    if t is None:
        raise refuse("invalid_token", "The access token is invalid.")
    if time.time() >= t["expires"] or (t["max_uses"] is not None and t["uses"] >= t["max_uses"]):
        raise refuse("invalid_token", "The token has expired.")
    if t["bound"] is not None:
        if scheme != "DPoP":
            raise refuse("invalid_request", "The resource request must use the DPoP authentication scheme when using a DPoP bound token.")
        proof = self.headers.get("DPoP")
        if not proof:
            raise refuse("invalid_dpop_proof", "The DPoP proof JWT header is missing.")
        try:
            check_dpop_proof(oa, proof, self.command, st.base + split.path, token=tok,
                             bound=t["bound"], nonce=oa.api_nonce)
        except OAuthError as e:
            if e.error == "use_dpop_nonce":
                oa.event("api_nonce_challenge")
                raise refuse("use_dpop_nonce", "Resource server requires nonce in DPoP proof.",
                             extra=e.headers)
            raise refuse("invalid_dpop_proof", e.description)
    elif scheme != "Bearer":
        raise refuse("invalid_token", "The access token is not DPoP bound.")
    t["uses"] += 1
    if split.path.startswith("/api/v1/groups"):
        need = "okta.groups.read"
    elif split.path.startswith("/api/v1/logs"):
        need = "okta.logs.read"
    else:
        need = "okta.users.read"
    if need not in t["scopes"]:
        raise refuse("insufficient_scope", "The access token provided does not contain the required scopes.", 403)
    oa.api_calls += 1
    if oa.api_nonce is not None and oa.rotate_every and oa.api_calls % oa.rotate_every == 0:
        oa.api_nonce = secrets.token_urlsafe(16)
        oa.event("api_nonce_rotated")
    return None


ApiHandler.serve_oauth_token = _serve_oauth_token
ApiHandler.oauth_auth = _oauth_auth


def oauth_control(op, st, a):
    """Control ops of the OAuth section (Control.run hands over oauth_*)."""
    oa = oauth_state(st)
    if op == "oauth_add_app":
        pem = a["public_key_pem"]
        oa.apps[a["client_id"]] = {"pem": pem, "type": key_type(pem),
                                   "scopes": set(a.get("scopes") or ["okta.users.read", "okta.groups.read"]),
                                   "dpop_required": bool(a.get("dpop_required", True)),
                                   "kid": a.get("kid")}
        return None
    if op == "oauth_set_token_lifetime":
        oa.lifetime = float(a.get("seconds", 3600))
        n = a.get("expire_after_requests")
        oa.expire_after_requests = int(n) if n is not None else None
        return None
    if op == "oauth_dpop_nonce":
        # require_on_api: the API asks for a nonce too; rotate_every: a
        # new one every N API calls; as_rotate: a new token-endpoint nonce.
        if a.get("require_on_api"):
            oa.api_nonce = oa.api_nonce or secrets.token_urlsafe(16)
        elif "require_on_api" in a:
            oa.api_nonce = None
        oa.rotate_every = int(a.get("rotate_every") or 0)
        if a.get("as_rotate"):
            oa.as_nonce = secrets.token_urlsafe(16)
        return None
    if op == "oauth_secrets":
        return {"issued": list(oa.issued), "assertions": list(oa.assertions),
                "proofs": list(oa.proofs)}
    if op == "oauth_events":
        return list(oa.events)
    if op == "oauth_refusals":
        return [list(r) for r in oa.refusals]
    raise ValueError("unknown operation %r" % (op,))


# ---------------------------------------------------------------- Direct Authentication
#
# The org authorization server's user sign-in side (issue 11): the Direct
# Authentication grants on POST /oauth2/v1/token (password, mfa-otp,
# mfa-oob, urn:okta:params:oauth:grant-type:otp) and the Device
# Authorization grant, POST /oauth2/v1/challenge (Okta Verify push, with
# number matching), POST /oauth2/v1/device/authorize, GET /oauth2/v1/keys
# (the JWKS, cacheable) and GET /.well-known/openid-configuration.  Native
# apps are registered with auth_add_app (client_id, optional
# client_secret, mfa_required).  Each success returns an RS256 ID token
# signed by an RSA key made (with the openssl command, on first use) by
# this process; auth_forge_next makes the next one broken on purpose.
# Passwords, TOTP secrets (RFC 6238: SHA1, 30 s, 6 digits, +-1 step) and
# Okta Verify push enrolments are per user; pushes are answered through
# the control port (push_respond), device codes approved there
# (device_approve).  Errors are those of Okta's OAuth error table
# (shared/reference/okta-auth/oauth2-error-codes.json): note that its
# per-user rate limit answers 429 with error "invalid_grant".  Ten bad
# passwords in a row lock the user (LOCKED_OUT, user.account.lock).

DA_PASSWORD = "password"
DA_MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
DA_MFA_OOB = "http://auth0.com/oauth/grant-type/mfa-oob"
DA_OTP = "urn:okta:params:oauth:grant-type:otp"
DA_DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
DA_GRANTS = (DA_PASSWORD, DA_MFA_OTP, DA_MFA_OOB, DA_OTP, DA_DEVICE)
DA_PATHS = ("/oauth2/v1/challenge", "/oauth2/v1/device/authorize", "/oauth2/v1/keys",
            "/.well-known/openid-configuration")
DA_OPS = ("set_password", "enroll_totp", "enroll_push", "push_respond", "device_approve",
          "device_deny")
FORGE_KINDS = ("bad_signature", "wrong_aud", "expired", "unknown_kid", "alg_none",
               "other_sub", "wrong_iss")
USER_CODE_CHARS = "BCDFGHJKLMNPQRSTVWXZ"
DA_DEFAULTS = {
    "user_rate_limit": 4,        # token/challenge requests per user per window
    "rate_window": 1.0,          # seconds (Okta: 4 a second per user)
    "lockout_threshold": 10,     # bad passwords in a row -> LOCKED_OUT
    "oob_expires_in": 300,       # a push challenge's life
    "oob_interval": 5,           # its polling interval (slow_down when faster)
    "device_expires_in": 600,
    "device_interval": 5,
    "mfa_token_lifetime": 300,
    "id_token_lifetime": 3600,
    "jwks_max_age": 86400,       # Cache-Control max-age of /oauth2/v1/keys
}


class DAError(OAuthError):
    """An OAuth error answer with extra body members (mfa_token)."""

    def __init__(self, status, error, description, headers=(), extra=None):
        OAuthError.__init__(self, status, error, description, headers)
        self.extra = extra or {}


def err_creds():
    return DAError(400, "invalid_grant", "The credentials provided were invalid.")


def err_da_expired(what):
    return DAError(403, "access_denied", "'%s' has expired. Use a new '%s' and try again." % (what, what))


def err_not_enrolled():
    return DAError(403, "access_denied", "The required authenticator cannot be used. Check if it is "
                   "required by policy and the user is enrolled in the authenticator and try again.")


def err_slow_down():
    return DAError(400, "slow_down", "Slow down the polling frequency. Please try again later.")


def totp_code(secret_b32, step):
    """RFC 6238 (HOTP of RFC 4226 over the 30 s step): SHA1, 6 digits."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def _openssl_run(args, data=None):
    p = subprocess.run(["openssl"] + args, input=data, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (args[0], p.stderr.decode(errors="replace").strip()))
    return p.stdout


class SigningKey:
    """An RSA 2048 key (PEM kept in memory), its public JWK and RFC 7638 kid."""

    def __init__(self):
        self.pem = _openssl_run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        mod = _openssl_run(["rsa", "-noout", "-modulus"], self.pem).decode().strip()
        n = b64url(bytes.fromhex(mod.split("=", 1)[1]))
        canon = json.dumps({"e": "AQAB", "kty": "RSA", "n": n}, separators=(",", ":"), sort_keys=True)
        self.kid = b64url(hashlib.sha256(canon.encode()).digest())
        self.jwk = {"kty": "RSA", "alg": "RS256", "kid": self.kid, "use": "sig", "e": "AQAB", "n": n}

    def sign(self, data):
        with tempfile.TemporaryDirectory(prefix="emu-idt-") as d:
            kp = os.path.join(d, "k.pem")
            with open(os.open(kp, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
                f.write(self.pem)
            return _openssl_run(["dgst", "-sha256", "-sign", kp], data)


class DAState:
    """Apps, per-user credentials, MFA transactions, device codes, keys (under Store.lock)."""

    def __init__(self):
        self.settings = dict(DA_DEFAULTS)
        self.keys = []          # published in the JWKS; the last one signs
        self.rogue = None       # never published (forged unknown_kid)
        self.apps = {}          # client_id -> {"secret", "mfa_required"}
        self.users = {}         # uid -> credentials and failure count
        self.mfa_tokens = {}    # mfa_token -> {"uid", "client_id", "scope", "expires", "auth_time"}
        self.oobs = {}          # oob_code -> push transaction
        self.devices = {}       # device_code -> device transaction
        self.user_codes = {}    # user_code -> device_code
        self.recent = {}        # user key -> monotonic times of recent requests
        self.counts = {}        # user key -> {"token": n, "challenge": n}
        self.forge = []         # pending forgeries: (kind, other uid)
        self.issued = []        # ID tokens, access tokens, mfa tokens, oob and device codes
        self.received = []      # passwords and OTPs received
        self.events = []        # [what, outcome, login]

    def signer(self):
        if not self.keys:
            self.keys.append(SigningKey())
        return self.keys[-1]

    def user(self, uid):
        return self.users.setdefault(uid, {"password": None, "totp": None, "push": False,
                                           "number_matching": False, "mfa": None, "failures": 0})

    def count(self, key, what):
        c = self.counts.setdefault(key, {"token": 0, "challenge": 0})
        c[what] += 1

    def rate(self, key):
        """Okta's per-user limit: user_rate_limit requests per rate_window."""
        now = time.monotonic()
        win = float(self.settings["rate_window"])
        q = [t for t in self.recent.get(key, ()) if now - t < win]
        q.append(now)
        self.recent[key] = q
        limit = int(self.settings["user_rate_limit"])
        if len(q) > limit:
            raise DAError(429, "invalid_grant", "API call exceeded rate limit due to too many requests.",
                          [("x-rate-limit-limit", str(limit)), ("x-rate-limit-remaining", "0"),
                           ("x-rate-limit-reset", str(int(time.time() + win + 0.999)))])

    def mfa(self, tok, cid):
        m = self.mfa_tokens.get(tok or "")
        if m is None or time.time() >= m["expires"]:
            self.mfa_tokens.pop(tok or "", None)
            raise err_da_expired("mfa_token")
        if m["client_id"] != cid:
            raise DAError(401, "invalid_client", "The client_id '%s' does not match the client_id in the "
                          "original request '%s'. Use the original client id and try again." % (cid, m["client_id"]))
        return m


def da_state(st):
    if getattr(st, "da", None) is None:
        st.da = DAState()
    return st.da


def _da_form(self):
    try:
        return {k: v[-1] for k, v in urllib.parse.parse_qs(
            self.req_body.decode("ascii"), keep_blank_values=True).items()}
    except (UnicodeDecodeError, ValueError):
        raise DAError(400, "invalid_request", "The request body is not a form.")


def _da_client(self, da, form):
    """Client authentication of a native app: client_id (+ client_secret by
    POST or HTTP Basic when the app has one).  Returns (client_id, app)."""
    cid, secret = form.get("client_id"), form.get("client_secret")
    h = self.headers.get("Authorization") or ""
    if h.startswith("Basic "):
        try:
            cid, _, secret = base64.b64decode(h[6:].strip()).decode().partition(":")
            cid, secret = urllib.parse.unquote(cid), urllib.parse.unquote(secret)
        except (ValueError, UnicodeDecodeError):
            raise DAError(401, "invalid_client", "Found Authentication header but was not valid client credentials.")
    if not cid:
        raise DAError(401, "invalid_client", "No client credentials found.")
    app = da.apps.get(cid)
    if app is None:
        raise DAError(401, "invalid_client", "Invalid value for 'client_id' parameter.")
    if app["secret"] is not None and not hmac.compare_digest((secret or "").encode(), app["secret"].encode()):
        raise DAError(401, "invalid_client", "The client secret supplied for a confidential client is invalid.")
    return cid, app


def _da_issue(st, da, uid, cid, scope, amr, auth_time):
    """The token response: an opaque access token and an RS256 ID token
    (or the forgery auth_forge_next asked for)."""
    now = int(time.time())
    p = st.users[uid]["profile"]
    name = " ".join(x for x in (p.get("firstName"), p.get("lastName")) if isinstance(x, str))
    claims = {"sub": uid, "name": name, "email": p.get("email"), "ver": 1, "iss": st.base,
              "aud": cid, "iat": now, "exp": now + int(da.settings["id_token_lifetime"]),
              "jti": "ID." + secrets.token_urlsafe(32), "amr": list(amr),
              "idp": "00oemuorg0000000001", "preferred_username": p.get("login"),
              "auth_time": int(auth_time)}
    kind, other = da.forge.pop(0) if da.forge else (None, None)
    key = da.signer()
    hdr = {"kid": key.kid, "alg": "RS256"}
    if kind == "wrong_aud":
        claims["aud"] = "0oaforgedaudience0001"
    elif kind == "expired":
        claims.update(iat=now - 7200, exp=now - 3600, auth_time=now - 7200)
    elif kind == "other_sub":
        claims["sub"] = other
    elif kind == "wrong_iss":
        claims["iss"] = "https://forged.okta-emulator.invalid"
    elif kind == "unknown_kid":
        if da.rogue is None:
            da.rogue = SigningKey()
        key = da.rogue
        hdr["kid"] = key.kid
    elif kind == "alg_none":
        hdr = {"alg": "none"}
    signing = b64url(json.dumps(hdr, separators=(",", ":")).encode()) + "." + \
        b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = b"" if kind == "alg_none" else key.sign(signing.encode())
    if kind == "bad_signature":
        sig = sig[:-1] + bytes([sig[-1] ^ 0x01])
    id_token = signing + "." + b64url(sig)
    access = secrets.token_urlsafe(48)
    da.issued += [id_token, access]
    return {"token_type": "Bearer", "expires_in": 3600, "access_token": access,
            "scope": scope, "id_token": id_token}


def _da_user_ok(st, uid):
    """Only an ACTIVE user signs in; anyone else gets Okta's invalid_grant."""
    if uid not in st.users or st.users[uid]["status"] != "ACTIVE":
        raise err_creds()


def _da_mfa_needed(app, au):
    return au["mfa"] if au["mfa"] is not None else app["mfa_required"]


def _da_poll(obj, now):
    """slow_down when polled faster than the transaction's interval."""
    last = obj["last_poll"]
    obj["last_poll"] = now
    if last is not None and now - last < obj["interval"]:
        raise err_slow_down()


def da_token(self, da, form):
    st = self.server.store
    gt = form["grant_type"]
    cid, app = _da_client(self, da, form)
    now = time.time()
    if gt == DA_DEVICE:
        d = da.devices.get(form.get("device_code") or "")
        if d is None or d["client_id"] != cid:
            raise DAError(400, "invalid_grant", "The device code is invalid or has expired.")
        if d["uid"]:
            da.count(d["uid"], "token")
        if now >= d["expires"]:
            raise DAError(400, "expired_token", "The device code has expired.")
        if d["state"] == "pending":
            _da_poll(d, now)
            raise DAError(400, "authorization_pending", "The device authorization is pending. Please try again later.")
        del da.devices[form["device_code"]]
        da.user_codes.pop(d["user_code"], None)
        if d["state"] == "denied":
            raise DAError(400, "access_denied", "The resource owner or authorization server denied the request.")
        _da_user_ok(st, d["uid"])
        return _da_issue(st, da, d["uid"], cid, d["scope"], ["pwd"], d["approved_at"])
    if gt in (DA_PASSWORD, DA_OTP):
        scope = form.get("scope") or ""
        login = form.get("username" if gt == DA_PASSWORD else "login_hint") or ""
        secret = form.get("password" if gt == DA_PASSWORD else "otp")
        if secret is not None:
            da.received.append(secret)
        try:
            uid = st.uid_of(login) if login else None
        except KeyError:
            uid = None
        key = uid or "login:" + login.lower()
        da.count(key, "token")
        da.rate(key)
        if "openid" not in scope.split():
            raise DAError(400, "invalid_scope", "Requests for ID tokens or access tokens with OpenID "
                          "scopes require the 'openid' scope.")
        if not login or secret is None:
            raise DAError(400, "invalid_request", "The '%s' parameter is required." % (
                ("username" if not login else "password") if gt == DA_PASSWORD else
                ("login_hint" if not login else "otp")))
        if uid is None:
            raise err_creds()
        au = da.user(uid)
        status = st.users[uid]["status"]
        if gt == DA_OTP:
            _da_user_ok(st, uid)
            if not au["totp"] or not _da_totp_ok(au["totp"], secret):
                raise DAError(400, "invalid_grant", "The 'otp' provided is either empty or incorrect. "
                              "Use the correct OTP and try again.")
            return _da_issue(st, da, uid, cid, scope, ["otp"], now)
        if status not in ("ACTIVE", "PASSWORD_EXPIRED"):
            raise err_creds()       # LOCKED_OUT, SUSPENDED, DEPROVISIONED, ...: no failure counted
        if au["password"] is None or not hmac.compare_digest(secret.encode(), au["password"].encode()):
            au["failures"] += 1
            if au["failures"] >= int(da.settings["lockout_threshold"]):
                au["failures"] = 0
                st.set_status(uid, "LOCKED_OUT")     # logs user.account.lock
            raise err_creds()
        au["failures"] = 0
        if status == "PASSWORD_EXPIRED":
            raise DAError(400, "invalid_grant", "Password has expired.")
        if _da_mfa_needed(app, au):
            tok = secrets.token_urlsafe(24)
            da.mfa_tokens[tok] = {"uid": uid, "client_id": cid, "scope": scope, "auth_time": now,
                                  "expires": now + float(da.settings["mfa_token_lifetime"])}
            da.issued.append(tok)
            raise DAError(403, "mfa_required", "Verify with an additional authenticator to complete "
                          "the sign-in process.", extra={"mfa_token": tok})
        return _da_issue(st, da, uid, cid, scope, ["pwd"], now)
    # mfa-otp, mfa-oob: the second factor of an mfa_required transaction
    tok = form.get("mfa_token") or ""
    m = da.mfa(tok, cid)
    uid = m["uid"]
    da.count(uid, "token")
    da.rate(uid)
    _da_user_ok(st, uid)
    au = da.user(uid)
    if gt == DA_MFA_OTP:
        otp = form.get("otp") or ""
        da.received.append(otp)
        if not au["totp"]:
            raise err_not_enrolled()
        if not _da_totp_ok(au["totp"], otp):
            raise DAError(400, "invalid_grant", "The 'otp' provided is either empty or incorrect. "
                          "Use the correct OTP and try again.")
        del da.mfa_tokens[tok]
        return _da_issue(st, da, uid, cid, m["scope"], ["pwd", "otp", "mfa"], m["auth_time"])
    code = form.get("oob_code") or ""
    o = da.oobs.get(code)
    if o is None or o["mfa_token"] != tok:
        raise DAError(400, "invalid_request", "The 'oob_code' and the 'mfa_token' provided are not "
                      "associated with each other. Review the values and try again.")
    if now >= o["expires"]:
        del da.oobs[code]
        raise err_da_expired("oob_code")
    if o["state"] == "pending":
        _da_poll(o, now)
        raise DAError(400, "authorization_pending", "No user response received on the out-of-band "
                      "authenticator yet. Continue polling to wait for a response.")
    del da.oobs[code]
    if o["state"] == "rejected":
        raise DAError(400, "invalid_grant", "User rejected out-of-band authentication prompt.")
    del da.mfa_tokens[tok]
    return _da_issue(st, da, uid, cid, m["scope"], ["pwd", "swk", "mfa"], m["auth_time"])


def _da_totp_ok(secret, otp):
    step = int(time.time()) // 30
    return isinstance(otp, str) and len(otp) == 6 and any(
        hmac.compare_digest(otp, totp_code(secret, step + d)) for d in (-1, 0, 1))


def da_challenge(self, da, form):
    cid, app = _da_client(self, da, form)
    st = self.server.store
    tok = form.get("mfa_token") or ""
    m = da.mfa(tok, cid)
    uid = m["uid"]
    da.count(uid, "challenge")
    da.rate(uid)
    _da_user_ok(st, uid)
    types = (form.get("challenge_types_supported") or "").split()
    for t in types:
        if t not in (DA_MFA_OTP, DA_MFA_OOB):
            raise DAError(400, "invalid_request", "%s is not supported as a 'challenge_type'. "
                          "Try again with another value." % t)
    hint = form.get("channel_hint") or ""
    if hint not in ("", "push", "sms", "voice"):
        raise DAError(400, "invalid_request", "'%s' is not supported as a 'channel_hint'. "
                      "Try again with another value." % hint)
    au = da.user(uid)
    if DA_MFA_OOB in types and hint in ("", "push") and au["push"]:
        now = time.time()
        code = secrets.token_urlsafe(26)
        o = {"uid": uid, "mfa_token": tok, "state": "pending", "last_poll": None,
             "expires": now + float(da.settings["oob_expires_in"]),
             "interval": float(da.settings["oob_interval"]),
             "binding_code": str(10 + secrets.randbelow(90)) if au["number_matching"] else None}
        da.oobs[code] = o
        da.issued.append(code)
        out = {"challenge_type": DA_MFA_OOB, "oob_code": code, "channel": "push",
               "binding_method": "transfer" if o["binding_code"] else "none",
               "expires_in": int(math.ceil(float(da.settings["oob_expires_in"]))),
               "interval": int(math.ceil(o["interval"]))}
        if o["binding_code"]:
            out["binding_code"] = o["binding_code"]
        return out
    if DA_MFA_OTP in types and hint == "" and au["totp"]:
        return {"challenge_type": DA_MFA_OTP}
    raise err_not_enrolled()


def da_device_authorize(self, da, form):
    cid, app = _da_client(self, da, form)
    st = self.server.store
    scope = form.get("scope") or ""
    if not scope.split():
        raise DAError(400, "invalid_scope", "No scopes were requested.")
    if "openid" not in scope.split():
        raise DAError(400, "invalid_scope", "Requests for ID tokens or access tokens with OpenID "
                      "scopes require the 'openid' scope.")
    dc = str(uuid.uuid4())
    while True:
        uc = "".join(secrets.choice(USER_CODE_CHARS) for _ in range(8))
        if uc not in da.user_codes:
            break
    life = float(da.settings["device_expires_in"])
    da.devices[dc] = {"user_code": uc, "client_id": cid, "scope": scope, "state": "pending",
                      "uid": None, "last_poll": None, "expires": time.time() + life,
                      "interval": float(da.settings["device_interval"]), "approved_at": None}
    da.user_codes[uc] = dc
    da.issued.append(dc)
    return {"device_code": dc, "user_code": uc, "verification_uri": st.base + "/activate",
            "verification_uri_complete": st.base + "/activate?user_code=" + uc,
            "expires_in": int(math.ceil(life)),
            "interval": int(math.ceil(float(da.settings["device_interval"])))}


def _serve_direct(self, entry, path):
    st = self.server.store
    cache = None
    extra = []
    with st.lock:
        da = da_state(st)
        try:
            if path == "/oauth2/v1/keys" or path == "/.well-known/openid-configuration":
                if self.command != "GET":
                    raise DAError(405, "invalid_request", "The endpoint takes GET.")
                if path == "/oauth2/v1/keys":
                    da.signer()
                    out = {"keys": [k.jwk for k in da.keys]}
                    cache = "max-age=%d, must-revalidate" % int(da.settings["jwks_max_age"])
                else:
                    b = st.base
                    out = {"issuer": b, "authorization_endpoint": b + "/oauth2/v1/authorize",
                           "token_endpoint": b + OAUTH_TOKEN_PATH, "jwks_uri": b + "/oauth2/v1/keys",
                           "userinfo_endpoint": b + "/oauth2/v1/userinfo",
                           "device_authorization_endpoint": b + "/oauth2/v1/device/authorize",
                           "response_types_supported": ["code", "id_token", "code id_token"],
                           "grant_types_supported": ["authorization_code", "refresh_token", "password",
                                                     DA_DEVICE, DA_OTP, DA_MFA_OTP, DA_MFA_OOB],
                           "subject_types_supported": ["public"],
                           "id_token_signing_alg_values_supported": ["RS256"],
                           "scopes_supported": ["openid", "email", "profile", "offline_access", "groups"],
                           "token_endpoint_auth_methods_supported": [
                               "client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
                           "claims_supported": ["iss", "sub", "aud", "iat", "exp", "auth_time", "amr",
                                                "preferred_username", "name", "email", "jti"]}
            else:
                if self.command != "POST":
                    raise DAError(405, "invalid_request", "The endpoint takes POST.")
                form = _da_form(self)
                if path == "/oauth2/v1/challenge":
                    out = da_challenge(self, da, form)
                else:
                    out = da_device_authorize(self, da, form)
            status = 200
        except OAuthError as e:
            out, status = {"error": e.error, "error_description": e.description}, e.status
            out.update(getattr(e, "extra", None) or {})
            extra += e.headers
            da.events.append([path, e.error, None])
    self.extra_headers = extra
    self.send_api(entry, status, json.dumps(out).encode(), None, [], ctype="application/json",
                  cache=cache)


ApiHandler.serve_direct = _serve_direct


def da_control(op, st, a):
    """Control ops of the Direct Authentication section."""
    da = da_state(st)
    if op == "auth_add_app":
        da.apps[a["client_id"]] = {"secret": a.get("client_secret"),
                                   "mfa_required": bool(a.get("mfa_required"))}
        return None
    if op == "auth_settings":
        for k, v in (a.get("settings") or {}).items():
            if k not in DA_DEFAULTS:
                raise ValueError("unknown setting %r (known: %s)" % (k, ", ".join(DA_DEFAULTS)))
            da.settings[k] = float(v)
        return dict(da.settings)
    if op == "auth_forge_next":
        kind = a["kind"]
        if kind not in FORGE_KINDS:
            raise ValueError("unknown forgery %r (known: %s)" % (kind, ", ".join(FORGE_KINDS)))
        other = st.uid_of(a["other"]) if kind == "other_sub" else None
        da.forge.append((kind, other))
        return None
    if op == "auth_rotate_key":
        da.signer()
        da.keys.append(SigningKey())
        return da.keys[-1].kid
    if op == "auth_counts":
        if a.get("login") is None:
            return {k: dict(v) for k, v in da.counts.items()}
        try:
            key = st.uid_of(a["login"])
        except KeyError:
            key = "login:" + a["login"].lower()
        return dict(da.counts.get(key, {"token": 0, "challenge": 0}))
    if op == "auth_reset_counts":
        da.counts = {}
        return None
    if op == "auth_secrets":
        return {"issued": list(da.issued), "received": list(da.received)}
    if op == "auth_failures":
        return da.user(st.uid_of(a["login"]))["failures"]
    if op == "auth_require_mfa":
        r = a.get("required", True)
        da.user(st.uid_of(a["login"]))["mfa"] = None if r is None else bool(r)
        return None
    if op == "set_password":
        da.user(st.uid_of(a["login"]))["password"] = str(a["password"])
        return None
    if op == "enroll_totp":
        secret = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
        da.user(st.uid_of(a["login"]))["totp"] = secret
        return secret
    if op == "enroll_push":
        au = da.user(st.uid_of(a["login"]))
        au["push"] = bool(a.get("enrolled", True))
        au["number_matching"] = bool(a.get("number_matching"))
        return None
    if op == "push_respond":
        uid = st.uid_of(a["login"])
        now = time.time()
        pend = [o for o in da.oobs.values() if o["uid"] == uid and o["state"] == "pending"
                and now < o["expires"]]
        if not pend:
            raise KeyError("no pending push for %r" % (a["login"],))
        o = pend[-1]
        action = a["action"]
        if action not in ("approve", "reject"):
            raise ValueError("action must be approve or reject")
        code = a.get("code")
        if action == "approve" and o["binding_code"] is not None and (
                code is None or str(code).strip() != o["binding_code"]):
            action = "reject"       # the wrong number tapped: Okta Verify denies
        o["state"] = "approved" if action == "approve" else "rejected"
        return o["state"]
    if op in ("device_approve", "device_deny"):
        dc = da.user_codes.get(str(a["user_code"]).upper().replace("-", ""))
        d = da.devices.get(dc or "")
        if d is None or time.time() >= d["expires"]:
            raise KeyError("no such pending user_code %r" % (a["user_code"],))
        if op == "device_deny":
            d["state"] = "denied"
            return None
        uid = st.uid_of(a["login"])
        if st.users[uid]["status"] != "ACTIVE":
            raise ValueError("user %r is not ACTIVE" % (a["login"],))
        d.update(state="approved", uid=uid, approved_at=time.time())
        return uid
    if op == "auth_events":
        return list(da.events)
    raise ValueError("unknown operation %r" % (op,))



# ---------------------------------------------------------------- control

class Control:
    """The operations of the control interface: name -> function(store, rt, args)."""

    @staticmethod
    def run(op, st, rt, a):
        if op.startswith("oauth_"):
            return oauth_control(op, st, a)
        if op.startswith("auth_") or op in DA_OPS:
            return da_control(op, st, a)
        if op == "add_token":
            return st.add_token(a.get("token"), a.get("groups"), bool(a.get("forbidden")))
        if op == "revoke_token":
            return st.revoke_token(a["token"])
        if op == "add_user":
            return st.add_user(a["login"], a.get("firstName", "First"), a.get("lastName", "Last"),
                               a.get("status", "ACTIVE"), a.get("profile"), a.get("id"),
                               a.get("groups") or ())
        if op == "set_status":
            return st.set_status(a["login"], a["status"])
        if op == "set_profile":
            return st.set_profile(a["login"], a.get("attrs") or {})
        if op == "set_user":
            return st.set_user(a["login"], a.get("attrs") or {})
        if op == "delete_user":
            return st.delete_user(a["login"])
        if op == "add_group":
            return st.add_group(a["name"], a.get("description"), a.get("type", "OKTA_GROUP"), a.get("id"))
        if op == "set_group":
            return st.set_group(a["name"], a.get("attrs") or {})
        if op == "delete_group":
            return st.delete_group(a["name"])
        if op == "add_member":
            return st.add_member(a["group"], a["login"])
        if op == "remove_member":
            return st.remove_member(a["group"], a["login"])
        if op == "get_user":
            return st.get_user(a["login"])
        if op == "get_group":
            return st.get_group(a["name"])
        if op == "counts":
            return st.counts()
        if op == "fault":
            kind = str(a["kind"])
            if kind not in FAULT_KINDS:
                raise ValueError("unknown fault kind %r (known: %s)" % (kind, ", ".join(FAULT_KINDS)))
            count = int(a.get("count", 1))
            if count > 0:
                rt.faults.append({"kind": kind, "path": a.get("path"), "count": count,
                                  "delay": a.get("delay"), "target": a.get("target"),
                                  "remaining": a.get("remaining")})
            return None
        if op == "clear_faults":
            rt.faults = []
            return None
        if op == "set_rate_limit":
            names = [a["bucket"]] if a.get("bucket") else list(rt.buckets)
            for n in names:
                b = rt.buckets[n]
                b.limit = int(a["limit"])
                b.window = float(a.get("window", 60))
                b.start = None
                b.used = 0
                b.blocked_until = 0
            return None
        if op == "requests":
            return [list(e) for e in rt.log]
        if op == "reset_requests":
            rt.log = []
            rt.min_remaining = None
            rt.count_429 = 0
            rt.early = 0
            return None
        if op == "stats":
            return {"min_remaining": rt.min_remaining, "count_429": rt.count_429,
                    "early": rt.early,
                    "requests": len(rt.log), "faults_pending": len(rt.faults)}
        if op == "set_clock_skew":
            rt.skew = float(a.get("seconds", 0))
            return None
        if op == "events":
            return [e["ev"] for e in st.events]
        if op == "set_event_lag":
            st.event_lag = float(a.get("seconds", 0))
            return None
        if op == "add_event":
            return st.add_event(a["event_type"], a.get("targets") or [], a.get("outcome", "SUCCESS"),
                                a.get("reason"))
        if op == "touch_users":
            return st.touch_users(a["logins"], a.get("event_type") or "user.account.update_profile")
        if op == "ping":
            return "pong"
        raise ValueError("unknown operation %r" % (op,))


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        op = self.path.strip("/")
        st = self.server.store
        try:
            args = json.loads(self.rfile.read(n) or b"{}")
            with st.lock:
                res = Control.run(op, st, self.server.rt, args)
            code, out = 200, {"result": res}
        except (KeyError, ValueError, TypeError) as e:
            code, out = 400, {"error": "%s: %s" % (type(e).__name__, e)}
        body = json.dumps(out).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


# ---------------------------------------------------------------- main

def watch(pid):
    """Exit when process pid (the test that started us) is gone, so that a
    killed test never leaves an emulator behind.  A pidfd becomes readable
    when the process exits: no polling."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(0)
    select.select([fd], [], [])
    os._exit(0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="org JSON file ({users, groups}); default: empty org")
    ap.add_argument("--generate", metavar="JSON",
                    help="build the org in-process with tests/lib/orgdata.make_org(**JSON)")
    ap.add_argument("--cert", required=True, help="server certificate chain (PEM)")
    ap.add_argument("--key", required=True, help="server private key (PEM)")
    ap.add_argument("--token", action="append", default=[], help="a full-rights SSWS token (repeatable)")
    ap.add_argument("--port-file", required=True, help="written once both listeners are up")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--domain", help="host[:port] for links (default localhost:PORT)")
    ap.add_argument("--rate-limit-users", type=int, default=600)
    ap.add_argument("--rate-limit-groups", type=int, default=500)
    ap.add_argument("--rate-limit-logs", type=int, default=60)
    ap.add_argument("--rate-window", type=float, default=60.0)
    ap.add_argument("--watch-pid", type=int, help="exit when this process is gone")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    org = {}
    if args.generate:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
        import orgdata
        org = orgdata.make_org(**json.loads(args.generate))
    elif args.data:
        with open(args.data, encoding="utf-8") as f:
            org = json.load(f)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    rt = Runtime(args.rate_limit_users, args.rate_limit_groups, args.rate_window, args.rate_limit_logs)
    api = ApiServer((args.host, args.port), ctx, None, rt, args.verbose)
    port = api.server_address[1]
    domain = args.domain or "localhost:%d" % port
    store = Store(org, "https://" + domain)
    store.clock = lambda: time.time() + rt.skew
    del org
    api.store = store
    for t in args.token:
        store.add_token(t, None)
    ctl = ControlServer(("127.0.0.1", args.control_port), ControlHandler)
    ctl.store = store
    ctl.rt = rt
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    if args.watch_pid:
        threading.Thread(target=watch, args=(args.watch_pid,), daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"port": port, "control_port": ctl.server_address[1], "pid": os.getpid()}, f)
    os.rename(tmp, args.port_file)
    try:
        api.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
