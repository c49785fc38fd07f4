#!/usr/bin/env python3
"""make_seeds.py - (re)write the seed corpora of the Okta-facing fuzz targets
from the recorded Okta traffic (and the config seeds from the example
config).

    tests/fuzz/make_seeds.py [RECORDED_DIR]

RECORDED_DIR defaults to ../shared/reference/okta-recorded next to the
repository: the okta-sdk-python cassettes (YAML; Apache-2.0, copyright
Okta Inc.).  The seeds are committed, so the fuzzers run anywhere; run this
again only when the recordings or an input format below change.  Each
directory it writes is emptied of its generated files (rec-*, cfg-*) first;
hand-made regression inputs (crash-*, other names) are left alone.

Input formats (the fuzz_*.c headers say the same):
  corpus_ingest   byte 0 picks a config (fuzz_ingest.c); the rest is the
                  Okta answers to the listings a full sync makes, in order
                  (users, DEPROVISIONED users, groups, then the members of
                  each staged group by okta_id), separated by "\\n@@\\n";
                  inside one listing, pages are separated by "\\n@+\\n".
  corpus_page     byte 0: bits 0-1 a config, bits 2-3 the listing (0
                  users, 1 groups, 2 members); the rest one page.
  corpus_link     one Link header value.
  corpus_headers  line 1: the request URL; then the response's header
                  lines as libcurl hands them over (the status line, then
                  "Name: value"); a blank line starts another response.
  corpus_error    one response body (Okta's error bodies, and others).
  corpus_config   one okta-sync.conf.
"""
import glob
import hashlib
import json
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEP_LISTING = b"\n@@\n"
SEP_PAGE = b"\n@+\n"
# Headers that only make the seeds large (policy text nobody parses).
NOISE = ("content-security-policy", "public-key-pins", "report-to",
         "strict-transport-security", "set-cookie", "x-xss-protection")


def load(recorded):
    """Every interaction: (cassette, index, method, uri, status, headers
    as a list of (name, value), body bytes)."""
    out = []
    for path in sorted(glob.glob(os.path.join(recorded, "*.yaml"))):
        doc = yaml.safe_load(open(path, encoding="utf-8"))
        name = os.path.basename(path)[:-5]
        for i, it in enumerate(doc["interactions"]):
            r = it["response"]
            hdrs = []
            for k, v in r["headers"].items():
                for one in (v if isinstance(v, list) else [v]):
                    hdrs.append((k, str(one)))
            body = (r["body"].get("string") or "")
            if isinstance(body, str):
                body = body.encode("utf-8")
            out.append((name, i, it["request"]["method"], it["request"]["uri"],
                        r["status"]["code"], hdrs, body))
    return out


def write(d, name, data, written):
    os.makedirs(d, exist_ok=True)
    h = hashlib.sha1(data).hexdigest()[:10]
    fn = os.path.join(d, "%s-%s" % (name, h))
    if fn in written:
        return
    with open(fn, "wb") as f:
        f.write(data)
    written.add(fn)


def clean(d):
    for fn in glob.glob(os.path.join(d, "rec-*")) + \
            glob.glob(os.path.join(d, "cfg-*")):
        os.unlink(fn)


def pages_of(ia, kind):
    """The GET list bodies whose path is a listing of kind."""
    res = []
    for (_, _, m, uri, st, _, body) in ia:
        path = uri.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]
        if m != "GET" or st != 200 or not body.startswith(b"["):
            continue
        if kind == "users" and path == "api/v1/users":
            res.append(body)
        elif kind == "groups" and path in ("api/v1/groups",) or \
                kind == "groups" and path.endswith("/groups"):
            res.append(body)
        elif kind == "members" and path.endswith("/users") and "groups/" in path:
            res.append(body)
    return res


def objects(ia, prefix):
    """Single objects answered to POSTs (a created user or group)."""
    return [b for (_, _, m, uri, st, _, b) in ia
            if m == "POST" and st == 200 and b.startswith(b"{") and
            b'"id":"' + prefix.encode() in b]


def slim(page):
    """page without the parts of each object the sync never reads
    (_links, credentials, type): smaller seeds, the same paths."""
    v = json.loads(page)
    for o in (v if isinstance(v, list) else [v]):
        for k in ("_links", "credentials", "type", "_embedded"):
            o.pop(k, None)
    return json.dumps(v, separators=(",", ":")).encode()


def ingest_seeds(ia, d, written):
    users = pages_of(ia, "users")
    groups = pages_of(ia, "groups")
    members = pages_of(ia, "members")
    created_u = objects(ia, "00u")
    created_g = objects(ia, "00g")
    made_users = b"[" + b",".join(created_u) + b"]"
    made_groups = b"[" + b",".join(created_g) + b"]"
    member_page = members[0] if members else b"[]"
    # The users the member page names must also be listed as users for
    # the membership to be staged: a listing of every user object seen.
    all_users = b"[" + b",".join(created_u + [u[1:-1] for u in users
                                              if u != b"[]"]) + b"]"
    combos = [
        [b"\n".join([users[0]]), b"[]", groups[0] if groups else b"[]"],
        [SEP_PAGE.join(users), b"[]", b"[]"],
        [made_users, b"[]", made_groups, member_page, member_page],
        [all_users, made_users, SEP_PAGE.join(groups) if groups else b"[]",
         member_page, member_page, member_page],
        # A member listing answers user objects: the users listed are
        # members of every group, so memberships are staged.
        [all_users, b"[]", groups[0] if groups else b"[]"] + [all_users] * 4,
    ]
    # Small ones, quick to run and to mutate: one user object of each
    # status seen, one group, that user as the group's member.
    one_users = [b"[" + slim(u) + b"]" for u in created_u[:3]]
    one_group = b"[" + slim(created_g[0]) + b"]" if created_g else b"[]"
    for u in one_users:
        combos.append([u, b"[]", one_group, u])
    for i, c in enumerate(combos):
        if i >= 2:   # the first ones as recorded, then slimmed
            combos[i] = [SEP_PAGE.join(slim(p) for p in x.split(SEP_PAGE))
                         for x in c]
    for cfg in range(4):
        for i, c in enumerate(combos):
            if (cfg + i) % 2 and cfg:
                continue   # a few configs per combination are enough
            write(d, "rec-cfg%d-%d" % (cfg, i),
                  bytes([cfg]) + SEP_LISTING.join(c), written)


def header_block(uri, status, hdrs):
    lines = [uri.encode(), b"HTTP/1.1 %d" % status]
    for k, v in hdrs:
        if k.lower().startswith(NOISE):
            continue
        lines.append(("%s: %s" % (k, v)).encode("utf-8", "replace"))
    return b"\n".join(lines) + b"\n"


def main():
    recorded = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(ROOT), "shared", "reference", "okta-recorded")
    ia = load(recorded)
    written = set()
    dirs = {t: os.path.join(HERE, "corpus_" + t)
            for t in ("ingest", "page", "link", "headers", "error", "config")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
        clean(d)

    ingest_seeds(ia, dirs["ingest"], written)
    # One page: byte 0 = config | listing << 2 (0 users, 1 groups, 2 members).
    for kind, listing in (("users", 0), ("groups", 1), ("members", 2)):
        for i, page in enumerate(pages_of(ia, kind)):
            cfg = i % 4
            write(dirs["page"], "rec-%s" % kind, bytes([cfg | listing << 2]) + page,
                  written)

    gets = [x for x in ia if x[2] == "GET"]
    for (name, i, m, uri, st, hdrs, body) in ia:
        links = [v for k, v in hdrs if k.lower() == "link"]
        for v in links:
            write(dirs["link"], "rec-link", v.encode(), written)
        if len(links) > 1:
            write(dirs["link"], "rec-link", ", ".join(links).encode(), written)
        if st >= 400 or (body.startswith(b"{") and len(body) < 4096):
            write(dirs["error"], "rec-body", body, written)
    # Headers: each GET response alone, and each cassette's GETs in one
    # input (the buckets carry state from one response to the next).
    by_file = {}
    for (name, i, m, uri, st, hdrs, body) in gets:
        blk = header_block(uri, st, hdrs)
        write(dirs["headers"], "rec-resp", blk, written)
        by_file.setdefault(name, []).append(blk)
    for name, blks in by_file.items():
        if len(blks) > 1:
            write(dirs["headers"], "rec-multi", b"\n".join(blks), written)

    # Config: the example, and one using every key (values from the man
    # page's examples).
    ex = open(os.path.join(ROOT, "packaging", "okta-sync.conf.example"), "rb").read()
    write(dirs["config"], "cfg-example", ex, written)
    write(dirs["config"], "cfg-every-key", b"""[okta]
domain = dev-123456.okta.com:8443
token_file = /etc/okta-sync/token
ca_file = /etc/ssl/certs/ca-certificates.crt
timeout = 30
[cache]
dir = /var/lib/okta-sync
[sync]
groups = Engineering Team, ops,"quoted, name"
members_only = yes
schedule = */15 * * * *
full_sync_schedule = 0 3 * * 1-5
max_delete = 10%,50
rate_limit_reserve = 20%
max_concurrency = 4
deprovisioned = remove
metrics_file = /var/lib/prometheus/node-exporter/okta-sync.prom
[posix]
uid_min = 2000000000
uid_max = 2099999999
gid_min = 2000000000
gid_max = 2099999999
home = /srv/home/%u%%
default_shell = /bin/bash
allowed_shells = /bin/bash, /bin/sh, /usr/bin/zsh
username = attribute:unixName
uid_attribute = uidNumber
gid_attribute = gidNumber
shell_attribute = loginShell
primary_group = 2000
local_passwd = /etc/passwd
local_group = /etc/group
[pam]
allowed_groups = eng, ops
max_cache_age = 7d
stale_policy = deny
""", written)
    write(dirs["config"], "cfg-minimal", b"""[okta]
domain = a.okta.com
token_file = /t
[posix]
uid_min = 1000
gid_min = 1000
""", written)
    write(dirs["config"], "cfg-login", b"""[okta]
domain = example.okta.com  # ours
token_file = /etc/okta-sync/token
[posix]
username = login
strip_domain = @example.com
primary_group = user-private
[sync]
max_delete = none
""", written)
    write(dirs["config"], "cfg-broken", b"""domain = outside
[okta
[unknown]
key
[sync]
schedule = 61 * * * *
rate_limit_reserve = 95%
max_delete = 10%,20%,3
[posix]
uid_min = 0
uid_max = -1
home = relative/%x
default_shell = /bin/nope
""", written)
    total = sum(os.path.getsize(f) for f in written)
    print("wrote %d seeds, %d bytes" % (len(written), total))


if __name__ == "__main__":
    main()
