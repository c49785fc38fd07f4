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
  POST /oauth2/v1/token             client credentials, private_key_jwt, DPoP
                                    (the OAuth section; Bearer/DPoP tokens
                                    are then accepted on the API too)

- SSWS tokens: the full token, plus group-scoped tokens that see only the
  members of their groups (and only those groups).
- Paging: limit (default 200, clamped to 200), an opaque `after` cursor
  (base64url of the last id served), `Link` headers as separate fields:
  rel="self" always, rel="next" while more entries match.  Stable order (id).
- DEPROVISIONED users are left out of /users unless filter or search is set.
- Filters: `attr op "value"` with eq/gt/ge/lt/le/sw/pr, `and`, `or`,
  parentheses; timestamps compare at one-second resolution.
- Rate limits per bucket (users, groups): lower-case x-rate-limit-limit,
  -remaining, -reset (epoch seconds) on every API response; 429 E0000047.
- Okta error bodies (errorCode, errorSummary, errorLink, errorId,
  errorCauses).  gzip when Accept-Encoding allows it.  HTTP/1.1 keep-alive.
- Injected faults: 500, slow, reset, truncated, content_type, link_loop,
  429, 401, 403, and truncated_json, short_page, link_joined, link_foreign,
  link_http (see tests/lib/emulator.py, Emulator.fault).

A second listener (plain HTTP on 127.0.0.1) is the control interface:
POST /<operation> with a JSON object of arguments, answering
{"result": ...} or, with status 400, {"error": "..."}.  Operations: see
Control.run (and README.md).  tests/lib/emulator.py wraps all of this.

Usage:
  okta_emulator.py {--data ORG.json | --generate MAKE_ORG_KWARGS_JSON}
                   --cert CERT.pem --key KEY.pem
                   --token TOKEN --port-file FILE [--port N] [--control-port N]
                   [--host 127.0.0.1] [--rate-limit-users 600]
                   [--rate-limit-groups 500] [--rate-window 60]
                   [--domain HOST:PORT] [--watch-pid PID] [--verbose]
When both listeners are up it writes FILE atomically:
{"port": N, "control_port": M, "pid": P}.
"""
import argparse
import base64
import bisect
import gzip
import hashlib
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


class ApiError(Exception):
    """An Okta error answer: HTTP status, errorCode, errorSummary."""

    def __init__(self, status, code, summary):
        Exception.__init__(self, summary)
        self.status = status
        self.code = code
        self.summary = summary


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
        "errorCauses": [],
    }, separators=(",", ":")).encode()


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


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
            "passwordChanged", "lastMembershipUpdated")
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
        for g in groups or ():
            self.add_member(g, uid)
        return uid

    def set_status(self, login, status):
        if status not in STATUSES:
            raise ValueError("bad status %r" % (status,))
        uid = self.uid_of(login)
        u = self.users[uid]
        now = now_iso()
        if u["status"] != status:
            u["status"] = status
            u["statusChanged"] = now
            if status == "ACTIVE" and u.get("activated") is None:
                u["activated"] = now
        self.touch_user(uid)
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
        return uid

    def set_user(self, login, attrs):
        """Set top-level user fields verbatim (e.g. lastUpdated), no bumping."""
        uid = self.uid_of(login)
        self.users[uid].update(attrs)
        self.ucache.pop(uid, None)
        return uid

    def delete_user(self, login):
        uid = self.uid_of(login)
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
        return gid

    def delete_group(self, name):
        gid = self.gid_of(name)
        for uid in self.members.pop(gid):
            self.user_groups[uid].discard(gid)
        del self.member_set[gid]
        g = self.groups.pop(gid)
        del self.name_idx[g["profile"]["name"]]
        del self.group_ids[bisect.bisect_left(self.group_ids, gid)]
        self.gcache.pop(gid, None)
        return gid

    def add_member(self, group, login):
        gid = self.gid_of(group)
        uid = self.uid_of(login)
        if uid not in self.member_set[gid]:
            self.member_set[gid].add(uid)
            bisect.insort(self.members[gid], uid)
            self.user_groups[uid].add(gid)
            self.touch_group_members(gid)
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

    def __init__(self, users_limit, groups_limit, window):
        self.buckets = {"users": Bucket(users_limit, window), "groups": Bucket(groups_limit, window)}
        self.faults = []
        self.log = []
        self.min_remaining = None
        self.count_429 = 0
        self.early = 0           # requests that came before an announced reset
        self.skew = 0.0          # seconds added to Date and x-rate-limit-reset

    def take_fault(self, path):
        for f in self.faults:
            if f["path"] is None or f["path"] in path:
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
        bucket_name = "groups" if path.startswith("/api/v1/groups") else "users"
        with st.lock:
            entry = [method, raw, 0]
            rt.log.append(entry)
            b = rt.buckets[bucket_name]
            if path != OAUTH_TOKEN_PATH and time.time() + rt.skew < b.blocked_until:
                # Too early after a 429: refused again, and no pending
                # fault is used up by it.
                rt.early += 1
                rt.count_429 += 1
                early = (b.limit, 0, b.blocked_until)
                fault = None
            else:
                early = None
                fault = rt.take_fault(raw)
        kind = fault["kind"] if fault else None
        self.fault_target = fault.get("target") if fault else None
        if path == OAUTH_TOKEN_PATH:
            self.serve_oauth_token(entry)
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

    def send_api(self, entry, status, body, rl, links, ctype=JSON_CT, truncate=False):
        use_gzip = accepts_gzip(self.headers.get("Accept-Encoding") or "")
        if use_gzip and body:
            body = gzip.compress(body, compresslevel=1, mtime=0)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if use_gzip and body:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
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
    need = "okta.groups.read" if split.path.startswith("/api/v1/groups") else "okta.users.read"
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


# ---------------------------------------------------------------- control

class Control:
    """The operations of the control interface: name -> function(store, rt, args)."""

    @staticmethod
    def run(op, st, rt, a):
        if op.startswith("oauth_"):
            return oauth_control(op, st, a)
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
    rt = Runtime(args.rate_limit_users, args.rate_limit_groups, args.rate_window)
    api = ApiServer((args.host, args.port), ctx, None, rt, args.verbose)
    port = api.server_address[1]
    domain = args.domain or "localhost:%d" % port
    store = Store(org, "https://" + domain)
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
