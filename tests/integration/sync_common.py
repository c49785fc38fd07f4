"""sync_common - helpers shared by the test_sync*.py integration tests.

Not a test itself (tests/run.sh runs test_*.py only).  Everything here runs
the real build/okta-sync against the emulator and reads back what it wrote:
the JSON plan it prints, the snapshot (through build/tests/snapdump, which
uses the real reader) and cache.db (with Python's sqlite3, read-only).
"""
import hashlib
import json
import os
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

import oktatest  # noqa: E402
from oktaconf import write_config  # noqa: E402

SNAPDUMP = os.path.join(oktatest.BUILD, "tests", "snapdump")

LOCAL_PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
alice:x:1000:1000:Alice Local:/home/alice:/bin/bash
"""
LOCAL_GROUP = """root:x:0:
daemon:x:1:
bin:x:2:
sudo:x:27:alice
users:x:100:
nogroup:x:65534:
alice:x:1000:
"""


def setup(tmp, emu, extra_passwd="", extra_group="", **sections):
    """Write local passwd/group files and the config; returns the config
    path.  sections: sync={...}, posix={...}, okta={...}, token=..."""
    os.makedirs(tmp, exist_ok=True)
    pw = os.path.join(tmp, "passwd")
    gr = os.path.join(tmp, "group")
    with open(pw, "w") as f:
        f.write(LOCAL_PASSWD + extra_passwd)
    with open(gr, "w") as f:
        f.write(LOCAL_GROUP + extra_group)
    posix = {"local_passwd": pw, "local_group": gr}
    posix.update(sections.pop("posix", None) or {})
    return write_config(tmp, emu, posix=posix, **sections)


def cache_dir(conf):
    return os.path.join(os.path.dirname(conf), "cache")


def okta_sync(conf, *args, timeout=300):
    return oktatest.run([oktatest.OKTA_SYNC, "-c", conf, "sync"] + list(args),
                        timeout=timeout)


def plan(conf, *args, expect_rc=0):
    """Run sync --json (plus args); return the parsed document."""
    p = okta_sync(conf, "--json", *args)
    if p.returncode != expect_rc:
        raise AssertionError("okta-sync sync --json %s exited %d (expected %d)\n"
                             "stdout:\n%s\nstderr:\n%s" % (" ".join(args), p.returncode,
                                                          expect_rc, p.stdout[-3000:],
                                                          p.stderr[-3000:]))
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise AssertionError("not JSON:\n%s\nstderr:\n%s" % (p.stdout[-3000:], p.stderr))


# A failed sync records why in this file (runlog.h), next to the cache it
# must leave untouched: "unchanged" is about the cache and the snapshot.
ERRORS_LOG = "sync-errors.log"


def hash_dir(d, keep_errors_log=False):
    """{relative path: sha256 of the bytes} of every file under d (and the
    mode), so that "byte-for-byte unchanged" can be asserted.  The failure
    log is left out unless keep_errors_log."""
    out = {}
    if not os.path.isdir(d):
        return out
    for root, _, files in os.walk(d):
        for n in files:
            if n == ERRORS_LOG and not keep_errors_log:
                continue
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d)] = (hashlib.sha256(f.read()).hexdigest(),
                                              os.stat(p).st_mode)
    return out


def snapshot(conf):
    """The published snapshot as {"meta", "users", "groups"} (snapdump)."""
    path = os.path.join(cache_dir(conf), "snapshot.cdb")
    p = oktatest.run([SNAPDUMP, path], check=True)
    return json.loads(p.stdout)


def snap_users(snap):
    return {u["name"]: u for u in snap["users"]}


def snap_groups(snap):
    return {g["name"]: g for g in snap["groups"]}


def db_rows(conf, sql, args=()):
    """Rows of a query on cache.db, opened read-only (immutable: no -shm
    or -wal file is created, so the directory stays as it was)."""
    path = os.path.join(cache_dir(conf), "cache.db")
    con = sqlite3.connect("file:%s?mode=ro&immutable=1" % path, uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def username(login):
    """The name okta-sync makes from a login (no strip_domain: the local
    part, lower-cased)."""
    return login.split("@")[0].lower()


def check_snapshot_safe(snap, uid_min=2000000000, uid_max=2099999999,
                        local_users=("root", "daemon", "bin", "nobody", "alice"),
                        local_groups=("root", "daemon", "bin", "sudo", "users",
                                      "nogroup", "alice"),
                        local_ids=(0, 1, 2, 27, 100, 1000, 65534),
                        shells=None):
    """Assert DESIGN.md rules 1-3 on every field of a snapshot."""
    import re
    name_re = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
    for u in snap["users"]:
        assert name_re.match(u["name"]), u
        assert u["name"] not in local_users, u
        assert uid_min <= u["uid"] <= uid_max, u
        assert u["uid"] not in local_ids and u["gid"] not in local_ids, u
        for field in ("gecos", "dir", "shell"):
            v = u[field]
            assert ":" not in v and "\n" not in v and all(ord(ch) >= 32 for ch in v), (field, u)
        assert "," not in u["gecos"] and "=" not in u["gecos"], u
        assert u["dir"] == "/home/" + u["name"], u
        if shells is not None:
            assert u["shell"] in shells, u
    for g in snap["groups"]:
        assert name_re.match(g["name"]), g
        assert g["name"] not in local_groups, g
        assert uid_min <= g["gid"] <= uid_max, g
        for m in g["members"]:
            assert name_re.match(m), g
