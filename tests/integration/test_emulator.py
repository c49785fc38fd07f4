#!/usr/bin/env python3
"""test_emulator.py - the Okta emulator itself behaves like real Okta.

Every other integration test trusts tests/emulator/okta_emulator.py, so this
file checks it over real HTTPS (http.client + the test CA): Link headers,
paging, DEPROVISIONED handling, filters, scoped tokens, rate limits, error
bodies, each injected fault, gzip, keep-alive, the control interface and
the org generators.
"""
import gzip
import http.client
import json
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import case, main, wait_until  # noqa: E402
from emulator import (Emulator, make_org, make_hostile_org, HOSTILE_USERS,  # noqa: E402
                      HOSTILE_GROUPS, find_user, find_group)

ORG = make_org(nusers=120, ngroups=6, seed=3)
_emu = None


def emu():
    """One emulator shared by the read-only cases (started on first use)."""
    global _emu
    if _emu is None:
        _emu = Emulator(ORG, rate_limit=1000000)   # many cases share it
    return _emu


class Client:
    """A keep-alive HTTPS client on one connection, verifying the test CA."""

    def __init__(self, e, cafile=None, timeout=30):
        self.e = e
        ctx = ssl.create_default_context(cafile=cafile or e.ca_file)
        self.conn = http.client.HTTPSConnection("localhost", e.port, context=ctx, timeout=timeout)

    def get(self, path, token=None, gz=True, headers=None):
        h = {"Accept": "application/json",
             "Authorization": "SSWS " + (token or self.e.token)}
        if gz:
            h["Accept-Encoding"] = "gzip"
        h.update(headers or {})
        self.conn.request("GET", path, headers=h)
        r = self.conn.getresponse()
        raw = r.read()
        body = gzip.decompress(raw) if r.getheader("Content-Encoding") == "gzip" else raw
        return r, body

    def json(self, path, token=None, expect=200):
        r, body = self.get(path, token)
        assert r.status == expect, (r.status, body)
        return r, json.loads(body)

    def close(self):
        self.conn.close()


def next_link(e, r):
    """The path of the rel="next" Link, or None."""
    for v in r.headers.get_all("Link") or []:
        if v.endswith('rel="next"'):
            url = v[v.index("<") + 1:v.index(">")]
            assert url.startswith(e.base_url + "/"), url
            return url[len(e.base_url):]
    return None


def crawl(c, path, token=None):
    """All items of a listing, following next links; returns (items, pages)."""
    items, pages = [], 0
    while path:
        r, data = c.json(path, token)
        items.extend(data)
        pages += 1
        assert pages < 10000
        path = next_link(c.e, r)
    return items, pages


def active_ids(org):
    return sorted(u["id"] for u in org["users"] if u["status"] != "DEPROVISIONED")


def check_error(r, body, status, code):
    assert r.status == status, (r.status, body)
    assert r.getheader("Content-Type") == "application/json;charset=UTF-8", r.getheader("Content-Type")
    d = json.loads(body)
    assert set(d) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}, d
    assert d["errorCode"] == code, d
    assert d["errorCauses"] == []
    return d


@case
def link_headers_and_paging():
    e = emu()
    c = Client(e)
    try:
        r, data = c.json("/api/v1/users?limit=7")
        assert len(data) == 7
        links = r.headers.get_all("Link")
        assert len(links) == 2, links       # separate header fields
        assert links[0] == '<%s/api/v1/users?limit=7>; rel="self"' % e.base_url, links
        nxt = next_link(e, r)
        assert "after=" in nxt and "limit=7" in nxt, nxt
        cursor = nxt.split("after=")[1].split("&")[0]
        assert not any(u["id"] in cursor for u in ORG["users"]), cursor   # opaque
        assert r.getheader("Content-Type") == "application/json;charset=UTF-8"
        assert r.getheader("Date")
        items, pages = crawl(c, "/api/v1/users?limit=7")
        ids = [u["id"] for u in items]
        assert sorted(ids) == active_ids(ORG), "every user exactly once"
        assert len(ids) == len(set(ids))
        assert pages == -(-len(ids) // 7), pages     # no empty trailing page
        # the last page has only rel="self"
        r, data = c.json(nxt)
        assert r.headers.get_all("Link")[0].startswith("<%s%s>" % (e.base_url, nxt))
    finally:
        c.close()


@case
def limits_default_and_clamped():
    e = emu()
    big = make_org(450, 2, seed=9)
    with Emulator(big) as e2:
        c = Client(e2)
        try:
            r, data = c.json("/api/v1/users")
            assert len(data) == 200 and next_link(e2, r)
            r, data = c.json("/api/v1/users?limit=1000")
            assert len(data) == 200
            assert "limit=200" in next_link(e2, r)
            r, data = c.json("/api/v1/groups/%s/users?limit=500" % big["groups"][0]["id"])
            assert len(data) == 200, len(data)
            r, body = c.get("/api/v1/users?limit=abc")
            check_error(r, body, 400, "E0000001")
            r, body = c.get("/api/v1/users?after=not-a-cursor")
            check_error(r, body, 400, "E0000001")
        finally:
            c.close()
    assert e.running()


@case
def user_and_group_objects():
    e = emu()
    c = Client(e)
    try:
        r, data = c.json("/api/v1/users?limit=1")
        u = data[0]
        for k in ("id", "status", "created", "activated", "statusChanged", "lastLogin",
                  "lastUpdated", "passwordChanged", "type", "profile", "credentials", "_links"):
            assert k in u, k
        assert u["id"].startswith("00u") and len(u["id"]) == 20
        for k in ("firstName", "lastName", "mobilePhone", "secondEmail", "login", "email"):
            assert k in u["profile"], k
        assert u["lastUpdated"].endswith(".000Z")
        assert u["_links"]["self"]["href"] == "%s/api/v1/users/%s" % (e.base_url, u["id"])
        r, one = c.json("/api/v1/users/%s" % u["id"])
        assert one["id"] == u["id"]
        r, one = c.json("/api/v1/users/%s" % u["profile"]["login"])
        assert one["id"] == u["id"]
        r, groups = c.json("/api/v1/groups")
        assert [g["profile"]["name"] for g in groups] == sorted(
            [g["profile"]["name"] for g in ORG["groups"]], key=lambda n: find_group(ORG, n)["id"])
        g = groups[0]
        for k in ("id", "created", "lastUpdated", "lastMembershipUpdated", "objectClass", "type", "profile", "_links"):
            assert k in g, k
        assert "members" not in g
        assert g["type"] == "OKTA_GROUP" and g["objectClass"] == ["okta:user_group"]
        assert g["_links"]["users"]["href"] == "%s/api/v1/groups/%s/users" % (e.base_url, g["id"])
        members, _ = crawl(c, "/api/v1/groups/%s/users?limit=10" % g["id"])
        assert [m["id"] for m in members] == find_group(ORG, g["profile"]["name"])["members"]
        uid = members[0]["id"]
        r, ugroups = c.json("/api/v1/users/%s/groups" % uid)
        want = sorted(x["id"] for x in ORG["groups"] if uid in x["members"])
        assert [x["id"] for x in ugroups] == want
        r, body = c.get("/api/v1/users/00uNOSUCHUSER0000000")
        check_error(r, body, 404, "E0000007")
        r, body = c.get("/api/v1/groups/00gNOSUCHGROUP000000/users")
        check_error(r, body, 404, "E0000007")
    finally:
        c.close()


@case
def deprovisioned_hidden_unless_filtered():
    e = emu()
    c = Client(e)
    try:
        dep = sorted(u["id"] for u in ORG["users"] if u["status"] == "DEPROVISIONED")
        assert dep, "the org has DEPROVISIONED users"
        items, _ = crawl(c, "/api/v1/users")
        assert not [u for u in items if u["status"] == "DEPROVISIONED"]
        items, _ = crawl(c, '/api/v1/users?filter=status+eq+%22DEPROVISIONED%22')
        assert sorted(u["id"] for u in items) == dep
        items, _ = crawl(c, '/api/v1/users?search=status+eq+%22DEPROVISIONED%22')
        assert sorted(u["id"] for u in items) == dep
        # any filter includes them: lastUpdated gt the epoch covers everyone
        items, _ = crawl(c, '/api/v1/users?filter=lastUpdated+gt+%222000-01-01T00:00:00.000Z%22&limit=50')
        assert sorted(u["id"] for u in items) == sorted(u["id"] for u in ORG["users"])
    finally:
        c.close()


def q(s):
    import urllib.parse
    return urllib.parse.quote(s)


@case
def filters():
    org = make_org(60, 4, seed=5)
    with Emulator(org) as e:
        c = Client(e)
        try:
            def ids(path):
                return sorted(u["id"] for u in crawl(c, path)[0])

            susp = sorted(u["id"] for u in org["users"] if u["status"] == "SUSPENDED")
            assert susp and ids("/api/v1/users?filter=" + q('status eq "SUSPENDED"')) == susp
            both = sorted(u["id"] for u in org["users"] if u["status"] in ("SUSPENDED", "DEPROVISIONED"))
            assert ids("/api/v1/users?filter=" + q('status eq "SUSPENDED" or status eq "DEPROVISIONED"')) == both
            ts = sorted(u["lastUpdated"] for u in org["users"])
            mid = ts[len(ts) // 2]
            for op, f in (("gt", lambda a: a > mid), ("ge", lambda a: a >= mid),
                          ("lt", lambda a: a < mid), ("le", lambda a: a <= mid)):
                want = sorted(u["id"] for u in org["users"] if f(u["lastUpdated"]))
                got = ids("/api/v1/users?filter=" + q('lastUpdated %s "%s"' % (op, mid)))
                assert got == want, op
            want = sorted(u["id"] for u in org["users"] if u["lastUpdated"] > mid and u["status"] == "ACTIVE")
            assert ids("/api/v1/users?filter=" + q('lastUpdated gt "%s" and status eq "ACTIVE"' % mid)) == want
            # one-second resolution: a change shows up for "gt" the old max
            newest = ts[-1]
            assert ids("/api/v1/users?filter=" + q('lastUpdated gt "%s"' % newest)) == []
            login = org["users"][0]["profile"]["login"]
            e.set_profile(login, department="Changed")
            got = crawl(c, "/api/v1/users?filter=" + q('lastUpdated gt "%s"' % newest))[0]
            assert [u["profile"]["login"] for u in got] == [login]
            assert got[0]["profile"]["department"] == "Changed"
            assert got[0]["lastUpdated"].endswith(".000Z")
            # groups
            gids = sorted(g["id"] for g in org["groups"])
            assert ids("/api/v1/groups?filter=" + q('type eq "OKTA_GROUP"')) == gids
            assert ids("/api/v1/groups?filter=" + q('type eq "BUILT_IN"')) == []
            gmax = max(g["lastMembershipUpdated"] for g in org["groups"])
            assert ids("/api/v1/groups?filter=" + q('lastMembershipUpdated gt "%s"' % gmax)) == []
            outsider = [u for u in org["users"] if u["id"] not in find_group(org, "Sales")["members"]][0]
            e.add_member("Sales", outsider["profile"]["login"])
            want = [find_group(org, "Sales")["id"]]
            assert ids("/api/v1/groups?filter=" + q('lastMembershipUpdated gt "%s"' % gmax)) == want
            assert ids("/api/v1/groups?filter=" + q('lastUpdated gt "%s" or lastMembershipUpdated gt "%s"'
                                                   % (gmax, gmax))) == want
            assert ids("/api/v1/groups?filter=" + q('type eq "OKTA_GROUP" and lastMembershipUpdated gt "%s"'
                                                   % gmax)) == want
            for bad in ('status eq', 'status eq "ACTIVE" and', 'lastUpdated gt "yesterday"',
                        'nosuchattr eq "x"', '(status eq "ACTIVE"', 'status foo "ACTIVE"'):
                r, body = c.get("/api/v1/users?filter=" + q(bad))
                d = check_error(r, body, 400, "E0000031")
                assert d["errorSummary"] == "Invalid search criteria.", d
            r, body = c.get("/api/v1/groups?filter=" + q('status eq "ACTIVE"'))
            check_error(r, body, 400, "E0000031")
        finally:
            c.close()


@case
def scoped_token():
    e = emu()
    c = Client(e)
    try:
        tok = e.add_token(groups=["Engineering"])
        eng = find_group(ORG, "Engineering")
        items, _ = crawl(c, "/api/v1/users?limit=5", tok)
        want = sorted(i for i in eng["members"] if find_user_by_id(i)["status"] != "DEPROVISIONED")
        assert sorted(u["id"] for u in items) == want
        r, groups = c.json("/api/v1/groups", tok)
        assert [g["id"] for g in groups] == [eng["id"]]
        members, _ = crawl(c, "/api/v1/groups/%s/users" % eng["id"], tok)
        assert [m["id"] for m in members] == eng["members"]
        other = find_group(ORG, "Sales")
        r, body = c.get("/api/v1/groups/%s/users" % other["id"], tok)
        check_error(r, body, 403, "E0000006")
        outsider = [u for u in ORG["users"] if u["id"] not in eng["members"]][0]
        r, body = c.get("/api/v1/users/%s" % outsider["id"], tok)
        check_error(r, body, 404, "E0000007")
        # the full token still sees everyone
        items, _ = crawl(c, "/api/v1/users", e.token)
        assert len(items) == len(active_ids(ORG))
    finally:
        c.close()


def find_user_by_id(uid):
    for u in ORG["users"]:
        if u["id"] == uid:
            return u
    raise KeyError(uid)


@case
def auth_errors():
    e = emu()
    c = Client(e)
    try:
        r, body = c.get("/api/v1/users", token="00notavalidtoken")
        d = check_error(r, body, 401, "E0000011")
        assert d["errorSummary"] == "Invalid token provided"
        assert d["errorLink"] == "E0000011" and d["errorId"]
        r, body = c.get("/api/v1/users", headers={"Authorization": "Bearer " + e.token})
        check_error(r, body, 401, "E0000011")
        r, body = c.get("/api/v1/nosuchthing")
        check_error(r, body, 404, "E0000007")
        tok = e.add_token(forbidden=True)
        r, body = c.get("/api/v1/users", token=tok)
        d = check_error(r, body, 403, "E0000006")
        assert d["errorSummary"] == "You do not have permission to perform the requested action"
        tok = e.add_token()
        assert c.get("/api/v1/groups", token=tok)[0].status == 200
        e.revoke_token(tok)
        r, body = c.get("/api/v1/groups", token=tok)
        check_error(r, body, 401, "E0000011")
    finally:
        c.close()


@case
def rate_limits():
    with Emulator(ORG) as e:
        c = Client(e)
        try:
            r, _ = c.get("/api/v1/users?limit=1")
            assert r.getheader("x-rate-limit-limit") == "600"
            assert r.getheader("x-rate-limit-remaining") == "599"
            r, _ = c.get("/api/v1/groups?limit=1")
            assert r.getheader("x-rate-limit-limit") == "500"
            assert r.getheader("x-rate-limit-remaining") == "499"
            e.set_rate_limit(3, 60)
            e.reset_requests()
            seen = []
            for _ in range(3):
                r, _ = c.get("/api/v1/users?limit=1")
                assert r.status == 200
                seen.append(int(r.getheader("x-rate-limit-remaining")))
                reset = int(r.getheader("x-rate-limit-reset"))
                date = email_date(r.getheader("Date"))
                assert date <= reset <= date + 61, (date, reset)
            assert seen == [2, 1, 0], seen
            r, body = c.get("/api/v1/users?limit=1")
            d = check_error(r, body, 429, "E0000047")
            assert d["errorSummary"] == "API call exceeded rate limit due to too many requests."
            assert r.getheader("x-rate-limit-remaining") == "0"
            assert int(r.getheader("x-rate-limit-reset")) >= email_date(r.getheader("Date"))
            # the groups bucket is separate
            r, _ = c.get("/api/v1/groups")
            assert r.status == 200 and r.getheader("x-rate-limit-remaining") == "2"
            assert e.min_remaining() == 0
            assert e.count_429() == 1
            assert [s for (_, _, s) in e.requests()] == [200, 200, 200, 429, 200]
            # a short window opens again once it is over
            e.set_rate_limit(1, 1)
            r, _ = c.get("/api/v1/users?limit=1")
            assert r.status == 200
            r, _ = c.get("/api/v1/users?limit=1")
            if r.status == 429:
                reset = int(r.getheader("x-rate-limit-reset"))
                wait_for_epoch(reset)
                r, _ = c.get("/api/v1/users?limit=1")
            assert r.status == 200
        finally:
            c.close()


def email_date(s):
    import email.utils
    return int(email.utils.parsedate_to_datetime(s).timestamp())


def wait_for_epoch(t):
    from oktatest import wait_until
    wait_until(lambda: time.time() >= t, timeout=5, what="rate-limit window end")


@case
def faults():
    with Emulator(ORG) as e:
        c = Client(e)
        try:
            e.fault("500")
            r, body = c.get("/api/v1/users")
            check_error(r, body, 500, "E0000009")
            r, body = c.get("/api/v1/users")
            assert r.status == 200, "a fault applies to `count` requests only"

            e.fault("401", path="/groups")
            r, body = c.get("/api/v1/users?limit=1")
            assert r.status == 200, "path filter"
            r, body = c.get("/api/v1/groups")
            check_error(r, body, 401, "E0000011")
            e.fault("403")
            r, body = c.get("/api/v1/groups")
            check_error(r, body, 403, "E0000006")

            e.fault("429", delay=2)
            r, body = c.get("/api/v1/users")
            check_error(r, body, 429, "E0000047")
            date = email_date(r.getheader("Date"))
            reset = int(r.getheader("x-rate-limit-reset"))
            assert date + 1 <= reset <= date + 4, (date, reset)
            assert r.getheader("x-rate-limit-remaining") == "0"
            # Until that reset the bucket refuses everything, as Okta's
            # does, and counts the early request (test_sync_faults relies
            # on it to show that the client waited).
            r, body = c.get("/api/v1/users?limit=1")
            check_error(r, body, 429, "E0000047")
            assert int(r.getheader("x-rate-limit-reset")) == reset
            assert e.early_requests() == 1, e.stats()
            e.set_rate_limit(600, 60, bucket="users")   # a fresh window, unblocked

            e.fault("content_type", count=2)
            for _ in range(2):
                r, body = c.get("/api/v1/users")
                assert r.status == 200 and r.getheader("Content-Type").startswith("text/html"), r.getheader("Content-Type")
                assert body.startswith(b"<html")

            e.fault("link_loop", path="/api/v1/users")
            r, data = c.json("/api/v1/users?limit=5")
            assert next_link(e, r) == "/api/v1/users?limit=5"
            r, data = c.json("/api/v1/users?limit=5")
            assert next_link(e, r) != "/api/v1/users?limit=5"

            e.fault("short_page")
            r, data = c.json("/api/v1/users?limit=10")
            assert len(data) == 5 and next_link(e, r), "short page, still a next link"
            r, data2 = c.json(next_link(e, r))
            assert len(data2) == 10 and data2[0]["id"] > data[-1]["id"], "nothing skipped"

            e.fault("link_joined")
            r, data = c.json("/api/v1/users?limit=10")
            links = r.headers.get_all("Link")
            assert len(links) == 1 and 'rel="self", <' in links[0] and links[0].endswith('rel="next"'), links

            for kind, prefix in (("link_foreign", "<https://okta-emulator.invalid/api/v1/users?after="),
                                 ("link_http", "<http://%s/api/v1/users?after=" % e.domain)):
                e.fault(kind)
                r, data = c.json("/api/v1/users?limit=10")
                links = r.headers.get_all("Link")
                assert links[1].startswith(prefix), links

            e.set_clock_skew(3600)
            r, _ = c.get("/api/v1/users?limit=1")
            date = email_date(r.getheader("Date"))
            assert date >= time.time() + 3500
            assert date <= int(r.getheader("x-rate-limit-reset")) <= date + 61
            e.set_clock_skew(0)

            e.fault("slow", delay=1.0)
            t = time.monotonic()
            r, body = c.get("/api/v1/users?limit=1")
            assert r.status == 200 and time.monotonic() - t >= 0.9
            c.close()

            e.fault("reset")
            c = Client(e)
            try:
                c.get("/api/v1/users")
                raise AssertionError("expected the connection to be reset")
            except (ConnectionError, http.client.RemoteDisconnected, ssl.SSLError, OSError):
                pass
            c.close()

            e.fault("truncated")
            c = Client(e)
            for gz in (True, False):
                if not gz:
                    e.fault("truncated")
                c.close()
                c = Client(e)
                c.conn.request("GET", "/api/v1/users", headers={
                    "Authorization": "SSWS " + e.token,
                    "Accept-Encoding": "gzip" if gz else "identity"})
                r = c.conn.getresponse()
                assert r.status == 200
                want = int(r.getheader("Content-Length"))
                try:
                    got = r.read()
                    raise AssertionError("read %d of %d bytes without error" % (len(got), want))
                except http.client.IncompleteRead as ex:
                    assert 0 < len(ex.partial) < want
            c.close()

            for gz in (True, False):
                e.fault("truncated_json")
                c = Client(e)
                r, body = c.get("/api/v1/users", gz=gz)
                assert r.status == 200 and body.startswith(b"[")
                try:
                    json.loads(body)
                    raise AssertionError("truncated_json gave valid JSON")
                except ValueError:
                    pass
                c.close()

            statuses = [s for (_, _, s) in e.requests()]
            assert 0 in statuses, "the reset request is logged with status 0"
            assert e.count_429() == 2, "the 429 fault and the early request after it"
            c = Client(e)
            r, _ = c.get("/api/v1/users")
            assert r.status == 200, "no fault left over"
            e.fault("500", count=3)
            e.clear_faults()
            r, _ = c.get("/api/v1/users")
            assert r.status == 200
        finally:
            c.close()
        try:
            e.fault("bogus")
            raise AssertionError("bad fault kind accepted")
        except ValueError:
            pass


@case
def gzip_only_when_asked():
    e = emu()
    c = Client(e)
    try:
        r, body = c.get("/api/v1/users", gz=True)
        assert r.getheader("Content-Encoding") == "gzip"
        assert "Accept-Encoding" in r.getheader("Vary")
        n = len(json.loads(body))
        r, body = c.get("/api/v1/users", gz=False)
        assert r.getheader("Content-Encoding") is None
        assert len(json.loads(body)) == n
        r, body = c.get("/api/v1/users", gz=False, headers={"Accept-Encoding": "gzip;q=0, identity"})
        assert r.getheader("Content-Encoding") is None
    finally:
        c.close()


@case
def keep_alive():
    e = emu()
    c = Client(e)
    try:
        c.get("/api/v1/users?limit=1")
        sock = c.conn.sock
        assert sock is not None
        for p in ("/api/v1/groups", "/api/v1/users?limit=3", "/api/v1/users/nosuch", "/api/v1/groups?limit=2"):
            c.get(p)
            assert c.conn.sock is sock, "the connection was reused"
    finally:
        c.close()


@case
def concurrent_clients_and_aborts():
    """Parallel keep-alive clients get consistent answers; clients that
    give up mid-answer or mid-handshake do not disturb the emulator."""
    import threading
    e = emu()
    results, errors = {}, []

    def worker(n):
        c = Client(e)
        try:
            for g in ORG["groups"]:
                items, _ = crawl(c, "/api/v1/groups/%s/users?limit=3" % g["id"])
                results.setdefault(n, []).append([u["id"] for u in items])
        except Exception as ex:  # reported below
            errors.append(ex)
        finally:
            c.close()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    want = [g["members"] for g in ORG["groups"]]
    assert all(results[n] == want for n in range(6))
    # a client that times out during a slow answer, and one that never
    # finishes its TLS handshake
    e.fault("slow", delay=1.5)
    c = Client(e, timeout=0.3)
    try:
        c.get("/api/v1/users")
        raise AssertionError("expected a timeout")
    except (socket.timeout, TimeoutError):
        pass
    finally:
        c.close()
    raw = socket.create_connection(("127.0.0.1", e.port))
    raw.sendall(b"GET / HTTP/1.1\r\n\r\n")    # not TLS at all
    raw.close()
    from oktatest import wait_until
    c = Client(e)
    try:
        wait_until(lambda: c.get("/api/v1/groups")[0].status == 200, timeout=10, what="emulator answers")
    finally:
        c.close()
    assert "Traceback" not in e.log(), e.log()


@case
def tls_verification():
    e = emu()
    for cafile in (e.make_other_ca(), None):
        ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
        conn = http.client.HTTPSConnection("localhost", e.port, context=ctx, timeout=10)
        try:
            conn.request("GET", "/api/v1/users")
            raise AssertionError("TLS accepted an unknown CA")
        except ssl.SSLCertVerificationError:
            pass
        finally:
            conn.close()
    # the certificate is valid for 127.0.0.1 too
    ctx = ssl.create_default_context(cafile=e.ca_file)
    conn = http.client.HTTPSConnection("127.0.0.1", e.port, context=ctx, timeout=10)
    conn.request("GET", "/api/v1/users", headers={"Authorization": "SSWS " + e.token})
    assert conn.getresponse().status == 200
    conn.close()
    # the emulator survives failed handshakes
    assert Client(e).json("/api/v1/groups")[0].status == 200


@case
def control_changes():
    org = make_org(40, 3, seed=11)
    with Emulator(org) as e:
        c = Client(e)
        try:
            uid = e.add_user("new.person@example.com", firstName="New", lastName="Person",
                             department="Ops", groups=["Sales"])
            u = e.user("new.person@example.com")
            assert u["id"] == uid and u["profile"]["department"] == "Ops" and u["groups"] == ["Sales"]
            items, _ = crawl(c, "/api/v1/users")
            assert uid in [x["id"] for x in items]
            sales = find_group(org, "Sales")["id"]
            members, _ = crawl(c, "/api/v1/groups/%s/users" % sales)
            assert uid in [m["id"] for m in members]
            victim = org["users"][0]
            login = victim["profile"]["login"]
            e.set_status(login, "SUSPENDED")
            r, one = c.json("/api/v1/users/%s" % victim["id"])
            assert one["status"] == "SUSPENDED" and one["lastUpdated"] > victim["lastUpdated"]
            assert one["statusChanged"] > victim["statusChanged"]
            e.set_status(login, "DEPROVISIONED")
            items, _ = crawl(c, "/api/v1/users")
            assert victim["id"] not in [x["id"] for x in items]
            e.set_profile(login, firstName="Renamed", uidNumber=2000001234)
            r, one = c.json("/api/v1/users/%s" % victim["id"])
            assert one["profile"]["firstName"] == "Renamed" and one["profile"]["uidNumber"] == 2000001234
            # membership
            g = [x for x in org["groups"] if x["members"]][0]
            m = g["members"][0]
            mlogin = [x for x in org["users"] if x["id"] == m][0]["profile"]["login"]
            before = e.group(g["profile"]["name"])["lastMembershipUpdated"]
            e.remove_member(g["profile"]["name"], mlogin)
            members, _ = crawl(c, "/api/v1/groups/%s/users" % g["id"])
            assert m not in [x["id"] for x in members]
            assert e.group(g["profile"]["name"])["lastMembershipUpdated"] > before
            r, ug = c.json("/api/v1/users/%s/groups" % m)
            assert g["id"] not in [x["id"] for x in ug]
            # delete
            dl = org["users"][2]
            groups_of = [x for x in org["groups"] if dl["id"] in x["members"]]
            e.delete_user(dl["profile"]["login"])
            r, body = c.get("/api/v1/users/%s" % dl["id"])
            check_error(r, body, 404, "E0000007")
            items, _ = crawl(c, '/api/v1/users?filter=status+eq+%22ACTIVE%22')
            assert dl["id"] not in [x["id"] for x in items]
            for x in groups_of:
                members, _ = crawl(c, "/api/v1/groups/%s/users" % x["id"])
                assert dl["id"] not in [y["id"] for y in members]
                assert e.group(x["profile"]["name"])["lastMembershipUpdated"] > x["lastMembershipUpdated"]
            gid = e.add_group("New Team", description="made in a test")
            r, groups = c.json("/api/v1/groups")
            assert gid in [x["id"] for x in groups]
            assert e.counts()["users"] == 40
            for bad in (lambda: e.set_status("nobody@example.com", "ACTIVE"),
                        lambda: e.add_member("No Such Group", login),
                        lambda: e.set_status(login, "BOGUS")):
                try:
                    bad()
                    raise AssertionError("accepted")
                except Exception as ex:
                    assert type(ex).__name__ == "EmulatorError", ex
            e.reset_requests()
            c.get("/api/v1/users?limit=2")
            assert e.requests() == [("GET", "/api/v1/users?limit=2", 200)]
        finally:
            c.close()


@case
def org_generators():
    a = make_org(300, 12, seed=4)
    assert a == make_org(300, 12, seed=4), "deterministic"
    assert a != make_org(300, 12, seed=5)
    logins = [u["profile"]["login"] for u in a["users"]]
    assert len(set(logins)) == 300
    assert all(l == l.lower() and l.endswith("@example.com") and "." in l.split("@")[0] for l in logins)
    ids = [u["id"] for u in a["users"]] + [g["id"] for g in a["groups"]]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 20 for i in ids)
    st = [u["status"] for u in a["users"]]
    assert st.count("ACTIVE") > 250 and "DEPROVISIONED" in st and "SUSPENDED" in st
    assert a["groups"][0]["profile"]["name"] == "Engineering"
    assert sum(len(g["members"]) for g in a["groups"]) == 600
    h = make_hostile_org(big_members=10000)
    assert h == make_hostile_org(big_members=10000)
    for key, (login, _, _, extra) in HOSTILE_USERS.items():
        u = find_user(h, login)
        assert u is not None, key
        for k, v in extra.items():
            assert u["profile"][k] == v, key
    assert len(find_group(h, HOSTILE_GROUPS["big"])["members"]) == 10000
    for name in HOSTILE_GROUPS.values():
        assert find_group(h, name) is not None, name
    assert find_user(h, "root@example.com")
    with Emulator(h, rate_limit=(100000, 100000)) as e:
        c = Client(e)
        try:
            big = find_group(h, "Big Group")
            members, pages = crawl(c, "/api/v1/groups/%s/users" % big["id"])
            assert len(members) == 10000 and pages == 50
            r, one = c.json("/api/v1/users/%s" % find_user(h, "gecos.evil@example.com")["id"])
            assert one["profile"]["lastName"] == "Evil\nroot::0:0::/:/bin/sh"
            r, one = c.json("/api/v1/users/%s" % find_user(h, "j\u00fcrgen.m\u00fcller@example.com")["id"])
            assert one["profile"]["firstName"] == "J\u00fcrgen"
        finally:
            c.close()


@case
def generated_in_process():
    """Emulator(generate=...) serves exactly make_org(**the same args)."""
    args = dict(nusers=70, ngroups=4, seed=8, memberships_per_user=3)
    org = make_org(**args)
    with Emulator(generate=args) as e:
        c = Client(e)
        try:
            items, _ = crawl(c, "/api/v1/users?limit=30")
            assert sorted(u["id"] for u in items) == active_ids(org)
            want = {u["id"]: u for u in org["users"]}
            for u in items:
                u = dict(u)
                del u["_links"]
                assert u == want[u["id"]]
            r, groups = c.json("/api/v1/groups")
            assert sorted(g["id"] for g in groups) == sorted(g["id"] for g in org["groups"])
            assert e.counts() == {"users": 70, "groups": 4, "memberships": 210}
        finally:
            c.close()


@case
def stop_kills_the_process():
    e = Emulator(make_org(5, 1))
    pid = e.proc.pid
    port = e.port
    e.stop()
    assert e.proc.poll() is not None
    e.stop()
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive or e.proc.returncode is not None
    s = socket.socket()
    try:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    finally:
        s.close()
    try:
        with Emulator(make_org(5, 1)) as e2:
            p2 = e2.proc
            raise KeyError("boom")
    except KeyError:
        pass
    assert p2.poll() is not None, "__exit__ on an exception stops the emulator"


@case
def orphan_exits_when_test_dies():
    """An emulator whose test process was killed exits by itself."""
    code = ("import sys, os; sys.path.insert(0, %r); from emulator import Emulator;"
            "e = Emulator(); print(e.proc.pid, e.tmpdir, flush=True); os._exit(0)"
            % os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
    import subprocess
    from oktatest import wait_until
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    pid, tmp = out.stdout.split()
    pid = int(pid)

    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] == "Z"
    wait_until(gone, timeout=10, what="the orphaned emulator to exit")
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- System Log

LOG_ORG = make_org(nusers=30, ngroups=3, seed=21)
ISO_MS = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


def log_emu(**kw):
    """A fresh emulator for System Log cases (its log starts empty)."""
    kw.setdefault("logs_rate_limit", 100000)
    return Emulator(LOG_ORG, rate_limit=100000, **kw)


def iso_at(t):
    ms = int(round(t * 1000))       # t from parse_iso() is a whole ms: no float truncation
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def logs(c, path, expect=200):
    """GET a System Log page: (events, next path or None, response)."""
    r, data = c.json(path, expect=expect)
    return data, next_link(c.e, r), r


def check_error_causes(r, body, param):
    """Okta's 400 for a bad parameter: E0000001, one errorCause naming it."""
    assert r.status == 400, (r.status, body)
    assert r.getheader("Content-Type") == "application/json;charset=UTF-8"
    d = json.loads(body)
    assert set(d) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}, d
    assert d["errorCode"] == "E0000001" and d["errorLink"] == "E0000001", d
    assert d["errorSummary"] == "Api validation failed: " + param, d
    assert len(d["errorCauses"]) == 1 and d["errorCauses"][0]["errorSummary"].startswith(param + ": "), d
    return d


def login_of(i):
    return LOG_ORG["users"][i]["profile"]["login"]


@case
def logs_polling_next_link_always():
    """A request without until is a polling request: rel="next" on every
    page, also an empty one; following it returns only newer events; the
    request log shows the after= cursor a client followed."""
    with log_emu() as e:
        c = Client(e)
        try:
            path = "/api/v1/logs?sortOrder=ASCENDING&limit=2"
            evs, nxt, r = logs(c, path)
            assert evs == [], evs
            links = r.headers.get_all("Link")
            assert links[0] == '<%s%s>; rel="self"' % (e.base_url, path), links
            assert nxt and "after=" in nxt and "limit=2" in nxt, links
            assert r.getheader("x-rate-limit-limit") == "100000"
            # an empty page again: still a next link, the cursor moves on
            evs, nxt2, _ = logs(c, nxt)
            assert evs == [] and nxt2 and "after=" in nxt2
            a, b, d = login_of(0), login_of(1), login_of(2)
            e.set_status(a, "SUSPENDED")
            e.set_status(b, "SUSPENDED")
            e.set_status(d, "SUSPENDED")
            evs, nxt3, _ = logs(c, nxt2)
            assert [x["target"][0]["alternateId"] for x in evs] == [a, b], evs   # limit=2, in order
            evs, nxt4, _ = logs(c, nxt3)
            assert [x["target"][0]["alternateId"] for x in evs] == [d], evs
            evs, nxt5, _ = logs(c, nxt4)
            assert evs == [] and nxt5, "nothing new, yet a next link"
            e.set_status(a, "ACTIVE")
            e.reset_requests()
            evs, nxt6, _ = logs(c, nxt5)
            assert [x["eventType"] for x in evs] == ["user.lifecycle.unsuspend"], evs
            assert e.requests() == [("GET", nxt5, 200)], e.requests()
            cursor = nxt5.split("after=")[1].split("&")[0]
            assert not any(ch in cursor for ch in ":-") and "00u" not in cursor, cursor  # opaque
            # the whole log from the start (no since: the last 7 days)
            evs, _, _ = logs(c, "/api/v1/logs?limit=1000")
            assert [x["uuid"] for x in evs] == [x["uuid"] for x in e.events()]
            assert len(evs) == 4
            # since = a moment after all of that: empty, a cursor at "now",
            # and only later events come through it
            t = parse_iso(evs[-1]["published"])
            wait_until(lambda: time.time() > t + 0.01, timeout=5, what="the clock to pass the last event")
            evs, nxt7, _ = logs(c, "/api/v1/logs?since=%s" % iso_at(t + 0.005))
            assert evs == [] and nxt7, evs
            e.set_status(b, "ACTIVE")
            evs, _, _ = logs(c, nxt7)
            assert [(x["eventType"], x["target"][0]["alternateId"]) for x in evs] == \
                [("user.lifecycle.unsuspend", b)], evs
        finally:
            c.close()


def parse_iso(s):
    import calendar
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + int(s[20:23]) / 1000.0


@case
def logs_bounded_since_until_limit_filter():
    """With until: a bounded request over published, a next link only
    while more match; limit default 100, at most 1000; DESCENDING; the
    filter (eventType eq ... or ..., target.id eq ...) and q."""
    with log_emu() as e:
        c = Client(e)
        try:
            t0 = time.time() - 1
            n = e.touch_users([u["profile"]["login"] for u in LOG_ORG["users"]])   # 30 events
            assert n == 30
            suspended = login_of(5)
            e.set_status(suspended, "SUSPENDED")
            g = LOG_ORG["groups"][0]
            newbie = e.add_user("log.newbie@example.com", groups=[g["profile"]["name"]])
            all_ev = e.events()
            assert len(all_ev) == 34, [x["eventType"] for x in all_ev]
            t1 = parse_iso(all_ev[-1]["published"]) + 0.001
            wait_until(lambda: time.time() > t1, timeout=5, what="the clock to pass the events")
            rng = "since=%s&until=%s" % (iso_at(t0), iso_at(t1))
            evs, nxt, r = logs(c, "/api/v1/logs?" + rng)
            assert len(evs) == 34 and nxt is None, (len(evs), r.headers.get_all("Link"))
            assert [x["uuid"] for x in evs] == [x["uuid"] for x in all_ev]
            # paging a bounded request: next only while more match
            got, path, pages = [], "/api/v1/logs?%s&limit=10" % rng, 0
            while path:
                evs, path, _ = logs(c, path)
                got += evs
                pages += 1
            assert pages == 4 and [x["uuid"] for x in got] == [x["uuid"] for x in all_ev], pages
            # DESCENDING
            evs, _, _ = logs(c, "/api/v1/logs?%s&sortOrder=DESCENDING&limit=3" % rng)
            assert [x["uuid"] for x in evs] == [x["uuid"] for x in all_ev[::-1][:3]]
            # until excludes: until = the suspend's published drops it and what follows
            cut = all_ev[30]["published"]
            evs, _, _ = logs(c, "/api/v1/logs?since=%s&until=%s" % (iso_at(t0), cut))
            assert all(x["eventType"] == "user.account.update_profile" for x in evs) and len(evs) == 30
            # filter: eventType eq ... or eventType eq ...
            flt = q('eventType eq "user.lifecycle.suspend" or eventType eq "group.user_membership.add"')
            evs, nxt, _ = logs(c, "/api/v1/logs?filter=" + flt)
            assert [x["eventType"] for x in evs] == ["user.lifecycle.suspend",
                                                     "group.user_membership.add"], evs
            assert nxt, "a polling request with a filter still has its next link"
            # target.id: any target of the event
            evs, _, _ = logs(c, "/api/v1/logs?filter=" + q('target.id eq "%s"' % g["id"]))
            assert [x["eventType"] for x in evs] == ["group.user_membership.add"], evs
            flt = q('eventType eq "user.lifecycle.create" and target.id eq "%s"' % newbie)
            evs, _, _ = logs(c, "/api/v1/logs?filter=" + flt)
            assert len(evs) == 1 and evs[0]["target"][0]["id"] == newbie, evs
            evs, _, _ = logs(c, "/api/v1/logs?filter=" + q('outcome.result eq "FAILURE"'))
            assert evs == []
            r, body = c.get("/api/v1/logs?filter=" + q('eventType eq'))
            check_error(r, body, 400, "E0000031")
            # q: case-insensitive keywords
            evs, _, _ = logs(c, "/api/v1/logs?q=" + q("SUSPEND " + suspended.upper()))
            assert [x["eventType"] for x in evs] == ["user.lifecycle.suspend"], evs
            # limit: default 100, up to 1000
            e.touch_users([u["profile"]["login"] for u in LOG_ORG["users"]] * 3)    # 90 more
            evs, nxt, _ = logs(c, "/api/v1/logs")
            assert len(evs) == 100 and nxt
            evs, _, _ = logs(c, "/api/v1/logs?limit=1000")
            assert len(evs) == 124, len(evs)
            evs, nxt, _ = logs(c, "/api/v1/logs?limit=0")
            assert evs == [] and nxt
            evs, _, _ = logs(c, nxt.replace("limit=0", "limit=100"))
            assert len(evs) == 100, "limit=0 does not move the cursor past anything"
        finally:
            c.close()


@case
def logs_bad_parameters():
    """Okta's 400 E0000001 with an errorCause for a since that is not ISO
    8601, a since in the future, until before since, a limit out of range,
    a bad sortOrder, a forged or foreign after cursor."""
    with log_emu() as e:
        c = Client(e)
        try:
            e.set_status(login_of(0), "SUSPENDED")
            future = iso_at(time.time() + 3600)
            for path, param in (("/api/v1/logs?since=yesterday", "since"),
                                ("/api/v1/logs?since=2026-13-01T00:00:00Z", "since"),
                                ("/api/v1/logs?since=1700000000", "since"),
                                ("/api/v1/logs?until=soon", "until"),
                                ("/api/v1/logs?since=" + future, "since"),
                                ("/api/v1/logs?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until"),
                                ("/api/v1/logs?limit=1001", "limit"),
                                ("/api/v1/logs?limit=-1", "limit"),
                                ("/api/v1/logs?limit=ten", "limit"),
                                ("/api/v1/logs?sortOrder=UP", "sortOrder"),
                                ("/api/v1/logs?after=bm90LWEtY3Vyc29y", "after")):
                r, body = c.get(path)
                check_error_causes(r, body, param)
            assert "ISO 8601" in json.dumps(check_error_causes(*c.get("/api/v1/logs?since=x"), "since"))
            # a polling cursor is not a bounded request's cursor
            _, nxt, _ = logs(c, "/api/v1/logs")
            after = nxt.split("after=")[1].split("&")[0]
            r, body = c.get("/api/v1/logs?until=%s&after=%s" % (iso_at(time.time()), after))
            check_error_causes(r, body, "after")
            # offsets are ISO 8601 too
            evs, _, _ = logs(c, "/api/v1/logs?since=" + q(time.strftime("%Y-%m-%dT%H:%M:%S+01:00",
                                                                      time.gmtime(time.time() + 3600 - 600))))
            assert len(evs) == 1
            r, body = c.get("/api/v1/logs", token="00nottherighttoken00000000000000000000000")
            check_error(r, body, 401, "E0000011")
        finally:
            c.close()


@case
def logs_rate_limit_bucket():
    """/api/v1/logs has its own bucket (default 60 a minute): its 429 is
    Okta's E0000047 and leaves the users bucket alone."""
    with Emulator(LOG_ORG) as e:
        c = Client(e)
        try:
            r, _ = c.get("/api/v1/logs")
            assert r.getheader("x-rate-limit-limit") == "60" and r.getheader("x-rate-limit-remaining") == "59"
            e.set_rate_limit(3, 60, bucket="logs")
            seen = []
            for _ in range(3):
                r, _ = c.get("/api/v1/logs")
                assert r.status == 200
                seen.append(r.getheader("x-rate-limit-remaining"))
                assert int(r.getheader("x-rate-limit-reset")) >= email_date(r.getheader("Date"))
            assert seen == ["2", "1", "0"], seen
            r, body = c.get("/api/v1/logs")
            check_error(r, body, 429, "E0000047")
            assert r.getheader("x-rate-limit-limit") == "3" and r.getheader("x-rate-limit-remaining") == "0"
            r, _ = c.get("/api/v1/users?limit=1")
            assert r.status == 200 and r.getheader("x-rate-limit-limit") == "600"
            assert r.getheader("x-rate-limit-remaining") == "599", "the users bucket is separate"
            assert e.count_429() == 1
        finally:
            c.close()


def shape_ok(ev):
    """A LogEvent as Okta's OpenAPI document (LogEvent, LogActor,
    LogTarget, LogOutcome, LogSeverity) describes it."""
    import re
    for k in ("uuid", "published", "eventType", "version", "severity", "displayMessage",
              "actor", "client", "outcome", "target", "transaction", "debugContext",
              "legacyEventType", "authenticationContext", "securityContext", "request"):
        assert k in ev, (k, ev)
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", ev["uuid"]), ev["uuid"]
    assert re.match(ISO_MS, ev["published"]), ev["published"]
    assert ev["version"] == "0" and ev["severity"] in ("DEBUG", "ERROR", "INFO", "WARN")
    assert ev["outcome"]["result"] in ("SUCCESS", "FAILURE", "SKIPPED", "ALLOW", "DENY", "CHALLENGE")
    a = ev["actor"]
    assert a["type"] == "User" and a["id"].startswith("00u") and "@" in a["alternateId"] and a["displayName"]
    assert isinstance(ev["target"], list)
    for t in ev["target"]:
        assert set(t) >= {"id", "type", "alternateId", "displayName"}, t
    assert ev["transaction"]["type"] == "WEB" and ev["transaction"]["id"]
    assert isinstance(ev["debugContext"]["debugData"], dict)


@case
def logs_events_for_control_changes():
    """Every control-port change logs the event Okta would, with the User
    (and UserGroup) targets; published follows the emulator's clock."""
    with log_emu() as e:
        c = Client(e)
        try:
            u = LOG_ORG["users"][3]
            login, uid = u["profile"]["login"], u["id"]
            g = [x for x in LOG_ORG["groups"] if uid not in x["members"]][0]
            gname, gid = g["profile"]["name"], g["id"]
            ops = [
                (lambda: e.set_status(login, "SUSPENDED"), [("user.lifecycle.suspend", [("User", uid)])]),
                (lambda: e.set_status(login, "SUSPENDED"), []),         # no change, no event
                (lambda: e.set_status(login, "ACTIVE"), [("user.lifecycle.unsuspend", [("User", uid)])]),
                (lambda: e.set_status(login, "LOCKED_OUT"), [("user.account.lock", [("User", uid)])]),
                (lambda: e.set_status(login, "ACTIVE"), [("user.account.unlock", [("User", uid)])]),
                (lambda: e.set_status(login, "DEPROVISIONED"), [("user.lifecycle.deactivate", [("User", uid)])]),
                (lambda: e.set_status(login, "ACTIVE"), [("user.lifecycle.activate", [("User", uid)])]),
                (lambda: e.set_profile(login, department="Ops"), [("user.account.update_profile", [("User", uid)])]),
                (lambda: e.set_user(login, lastUpdated="2020-01-01T00:00:00.000Z"),
                 [("user.account.update_profile", [("User", uid)])]),
                (lambda: e.add_member(gname, login),
                 [("group.user_membership.add", [("User", uid), ("UserGroup", gid)])]),
                (lambda: e.add_member(gname, login), []),
                (lambda: e.remove_member(gname, login),
                 [("group.user_membership.remove", [("User", uid), ("UserGroup", gid)])]),
                (lambda: e.set_group(gname, description="changed"), [("group.profile.update", [("UserGroup", gid)])]),
                (lambda: e.delete_user(login), [("user.lifecycle.delete", [("User", uid)])]),
            ]
            seen = 0
            for op, want in ops:
                op()
                evs = e.events()[seen:]
                seen += len(evs)
                assert [(x["eventType"], [(t["type"], t["id"]) for t in x["target"]]) for x in evs] == want, \
                    (want, evs)
                for x in evs:
                    shape_ok(x)
                    assert x["outcome"] == {"result": "SUCCESS", "reason": None}
            evs = e.events()
            assert evs[0]["target"][0]["alternateId"] == login
            name = "%s %s" % (u["profile"]["firstName"], u["profile"]["lastName"])
            assert evs[0]["target"][0]["displayName"] == name
            assert evs[-1]["target"][0]["alternateId"] == login, "a deleted user's event still names them"
            newid = e.add_user("log.person@example.com", groups=[gname])
            gid2 = e.add_group("Log Team")
            e.delete_group("Log Team")
            tail = [(x["eventType"], [t["id"] for t in x["target"]]) for x in e.events()[seen:]]
            assert tail == [("user.lifecycle.create", [newid]), ("user.lifecycle.activate", [newid]),
                            ("group.user_membership.add", [newid, gid]),
                            ("group.lifecycle.create", [gid2]), ("group.lifecycle.delete", [gid2])], tail
            e.add_user("staged@example.com", status="STAGED")
            assert [x["eventType"] for x in e.events()[-1:]] == ["user.lifecycle.create"]
            # what /api/v1/logs serves is what events() holds, uuid unique
            served, _, _ = logs(c, "/api/v1/logs?limit=1000")
            assert served == e.events()
            assert len({x["uuid"] for x in served}) == len(served)
            # published by the emulator's clock, skew included
            e.set_clock_skew(3600)
            before = time.time()
            e.set_status(login_of(4), "SUSPENDED")
            pub = parse_iso(e.events()[-1]["published"])
            assert before + 3600 - 1 <= pub <= time.time() + 3600 + 1, (before, pub)
        finally:
            c.close()


@case
def logs_add_event_and_touch_users():
    """add_event logs an arbitrary event (unknown ids, FAILURE);
    touch_users makes a burst of 500 events in one call and bumps those
    users' lastUpdated so an incremental sync sees them."""
    org = make_org(nusers=520, ngroups=2, seed=5)
    with Emulator(org, logs_rate_limit=1000) as e:
        c = Client(e)
        try:
            uid = e.add_event("user.lifecycle.suspend", [("User", "00unosuchuser0000001")])
            ev = e.events()[-1]
            assert ev["uuid"] == uid and ev["target"][0]["id"] == "00unosuchuser0000001", ev
            assert ev["target"][0]["type"] == "User"
            known = org["users"][0]
            e.add_event("user.lifecycle.suspend", [("User", known["profile"]["login"])],
                        outcome="FAILURE", reason="INSUFFICIENT_PERMISSIONS")
            ev = e.events()[-1]
            assert ev["target"][0]["id"] == known["id"] and ev["target"][0]["alternateId"] == known["profile"]["login"]
            assert ev["outcome"] == {"result": "FAILURE", "reason": "INSUFFICIENT_PERMISSIONS"}
            shape_ok(ev)
            mark = max(u["lastUpdated"] for u in org["users"])
            wait_until(lambda: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()) > mark, timeout=5,
                       what="a new second")
            logins = [u["profile"]["login"] for u in org["users"][:500]]
            e.reset_requests()
            assert e.touch_users(logins) == 500
            evs = e.events()[2:]
            assert len(evs) == 500
            assert [x["target"][0]["alternateId"] for x in evs] == logins
            assert {x["eventType"] for x in evs} == {"user.account.update_profile"}
            items, _ = crawl(c, "/api/v1/users?filter=" + q('lastUpdated gt "%s"' % mark))
            assert sorted(x["id"] for x in items) == sorted(u["id"] for u in org["users"][:500])
            got, _, _ = logs(c, "/api/v1/logs?limit=1000&filter=" + q('eventType eq "user.account.update_profile"'))
            assert len(got) == 500
            e.touch_users(logins[:2], event_type="user.account.reset_password")
            assert [x["eventType"] for x in e.events()[-2:]] == ["user.account.reset_password"] * 2
        finally:
            c.close()


@case
def logs_event_lag():
    """set_event_lag: an event reaches /api/v1/logs only `lag` seconds
    after its published, and a polling cursor taken in between still
    yields it (polling follows the time Okta persisted the event)."""
    lag = 2.0
    with log_emu() as e:
        c = Client(e)
        try:
            e.set_event_lag(lag)
            e.set_status(login_of(0), "SUSPENDED")
            held = e.events()
            assert len(held) == 1
            pub = parse_iso(held[0]["published"])
            _, nxt, _ = logs(c, "/api/v1/logs?since=%s" % iso_at(pub - 60))
            st = {"next": nxt}

            def shows():
                evs, n2, _ = logs(c, st["next"])
                st["at"] = time.time()
                st["next"] = n2
                st["events"] = evs
                return evs
            wait_until(shows, timeout=lag + 30, interval=0.1, what="the lagging event to show")
            assert st["at"] >= pub + lag, "the event showed before its lag was over"
            assert [x["uuid"] for x in st["events"]] == [held[0]["uuid"]]
            # a long lag hides an event from polling and bounded requests
            # alike; events() has it
            e.set_event_lag(3600)
            e.set_status(login_of(2), "SUSPENDED")
            assert e.events()[-1]["target"][0]["alternateId"] == login_of(2)
            evs, nxt, _ = logs(c, st["next"])
            assert evs == [], evs
            evs, _, _ = logs(c, "/api/v1/logs?since=%s&until=%s" % (iso_at(pub - 60), iso_at(time.time())))
            assert [x["target"][0]["alternateId"] for x in evs] == [login_of(0)], evs
            # without lag an event shows at once
            e.set_event_lag(0)
            e.set_status(login_of(1), "SUSPENDED")
            evs, _, _ = logs(c, nxt)
            assert [x["target"][0]["alternateId"] for x in evs] == [login_of(1)], evs
        finally:
            c.close()


def rs256_token(e, scopes, granted):
    """An access token for a new RS256 service app (no DPoP) granted
    `granted`, asking for `scopes`; signed with the openssl command."""
    import base64
    import secrets as pysecrets
    import subprocess
    import urllib.parse
    key = os.path.join(e.tmpdir, "app-%s.key" % pysecrets.token_hex(4))
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", key], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "pkey", "-in", key, "-pubout"], check=True,
                         capture_output=True, text=True).stdout
    cid = "0oa" + pysecrets.token_hex(8)
    e.oauth_add_app(cid, pub, scopes=granted, dpop_required=False)

    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    now = int(time.time())
    signing = b64({"alg": "RS256", "typ": "JWT"}) + "." + b64(
        {"iss": cid, "sub": cid, "aud": e.base_url + "/oauth2/v1/token", "iat": now,
         "exp": now + 60, "jti": pysecrets.token_hex(16)})
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing.encode(),
                         check=True, capture_output=True).stdout
    jwt = signing + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    form = urllib.parse.urlencode({
        "grant_type": "client_credentials", "scope": " ".join(scopes),
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": jwt})
    ctx = ssl.create_default_context(cafile=e.ca_file)
    conn = http.client.HTTPSConnection("localhost", e.port, context=ctx, timeout=30)
    try:
        conn.request("POST", "/oauth2/v1/token", body=form,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        d = json.loads(r.read())
        assert r.status == 200, d
        return d["access_token"]
    finally:
        conn.close()


@case
def logs_oauth_needs_logs_scope():
    """An OAuth access token reads the System Log only with okta.logs.read
    (403 E0000006 otherwise), as Okta's listLogEvents requires."""
    with log_emu() as e:
        c = Client(e)
        try:
            e.set_status(login_of(0), "SUSPENDED")
            with_logs = rs256_token(e, ["okta.users.read", "okta.logs.read"],
                                    ["okta.users.read", "okta.groups.read", "okta.logs.read"])
            without = rs256_token(e, ["okta.users.read", "okta.groups.read"],
                                  ["okta.users.read", "okta.groups.read"])
            r, body = c.get("/api/v1/logs", headers={"Authorization": "Bearer " + with_logs})
            assert r.status == 200 and len(json.loads(body)) == 1, (r.status, body)
            r, body = c.get("/api/v1/logs", headers={"Authorization": "Bearer " + without})
            check_error(r, body, 403, "E0000006")
            r, body = c.get("/api/v1/users?limit=1", headers={"Authorization": "Bearer " + without})
            assert r.status == 200, (r.status, body)
        finally:
            c.close()



# ---------------------------------------------------------------- Direct Authentication (issue 11)
#
# The org authorization server's sign-in side, driven over HTTPS with
# urllib as a broker would: the password, mfa-otp, mfa-oob and device_code
# grants, /challenge (push, number matching), /device/authorize, /keys and
# ID tokens verified with the JWKS by the openssl command.

TOKEN = "/oauth2/v1/token"
CHALLENGE = "/oauth2/v1/challenge"
G_MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
G_MFA_OOB = "http://auth0.com/oauth/grant-type/mfa-oob"
G_DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
APP = "0oanativeapp0000001"
MFA_APP = "0oanativemfa0000001"
BAD_CREDS = ("invalid_grant", "The credentials provided were invalid.")
_da = None
_da_n = [0]


def da_emu():
    """One emulator for the Direct Authentication cases: two native apps
    (APP: no MFA; MFA_APP: MFA for everyone), polling intervals of 0 and
    the per-user rate limit out of the way (the rate-limit case sets it)."""
    global _da
    if _da is None:
        _da = Emulator(make_org(nusers=3, ngroups=1, seed=11))
        _da.auth_add_app(APP)
        _da.auth_add_app(MFA_APP, mfa_required=True)
        _da.auth_settings(**DA_TEST_SETTINGS)
    return _da


DA_TEST_SETTINGS = dict(user_rate_limit=100000, rate_window=1, oob_interval=0, device_interval=0,
                        oob_expires_in=300, device_expires_in=600)


def da_user(e, password="Corr3ct horse!", **kw):
    """A fresh ACTIVE user with a password; returns (login, id)."""
    _da_n[0] += 1
    login = "da.user%d@example.com" % _da_n[0]
    uid = e.add_user(login, **kw)
    if password is not None:
        e.set_password(login, password)
    return login, uid


def da_req(e, path, form=None, headers=None):
    """POST a form (or GET when form is None) with urllib; returns
    (status, JSON body, headers)."""
    import urllib.error
    import urllib.parse
    import urllib.request
    ctx = ssl.create_default_context(cafile=e.ca_file)
    h = {"Accept": "application/json"}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    h.update(headers or {})
    req = urllib.request.Request(e.base_url + path, data=data, headers=h,
                                 method="GET" if form is None else "POST")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return r.status, json.loads(r.read()), r.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), err.headers


def password_grant(e, login, password, client_id=APP, scope="openid profile", **extra):
    form = {"grant_type": "password", "client_id": client_id, "username": login,
            "password": password, "scope": scope}
    form.update(extra)
    return da_req(e, TOKEN, form)


def check_oauth_error(got, status, error, description=None):
    st, body, _ = got
    assert st == status and body.get("error") == error, (st, body)
    if description is not None:
        assert body.get("error_description") == description, body
    return body


def b64d(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _der(tag, body):
    n = len(body)
    ln = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + ln + body


def _der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    return _der(2, b"\0" + b if b[0] & 0x80 else b)


def jwk_to_pem(jwk):
    """PEM SubjectPublicKeyInfo of an RSA JWK (n, e)."""
    import base64
    rsa = _der(0x30, _der_int(b64d(jwk["n"])) + _der_int(b64d(jwk["e"])))
    spki = _der(0x30, _der(0x30, _der(6, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
                + _der(3, b"\0" + rsa))
    return "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % base64.encodebytes(spki).decode().strip()


def jwks(e):
    st, body, h = da_req(e, "/oauth2/v1/keys")
    assert st == 200, (st, body)
    return body["keys"], h


def verify_id_token(e, tok):
    """(header, claims, signature_ok): the signature checked by `openssl
    dgst -sha256 -verify` with the JWKS key the header's kid names
    (False when there is no such key or alg is not RS256)."""
    import subprocess
    import tempfile
    parts = tok.split(".")
    assert len(parts) == 3, tok
    hdr, claims = json.loads(b64d(parts[0])), json.loads(b64d(parts[1]))
    keys, _ = jwks(e)
    key = [k for k in keys if k.get("kid") == hdr.get("kid")]
    if hdr.get("alg") != "RS256" or not key:
        return hdr, claims, False
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "pub.pem"), "w") as f:
            f.write(jwk_to_pem(key[0]))
        with open(os.path.join(d, "sig"), "wb") as f:
            f.write(b64d(parts[2]))
        p = subprocess.run(["openssl", "dgst", "-sha256", "-verify", os.path.join(d, "pub.pem"),
                            "-signature", os.path.join(d, "sig")],
                           input=(parts[0] + "." + parts[1]).encode(), capture_output=True)
    return hdr, claims, p.returncode == 0


def check_good_id_token(e, tok, uid, login, client_id=APP):
    hdr, c, ok = verify_id_token(e, tok)
    assert ok, ("signature does not verify with the JWKS", hdr)
    assert hdr["alg"] == "RS256", hdr
    now = time.time()
    assert c["iss"] == e.base_url and c["aud"] == client_id, c
    assert c["sub"] == uid and c["preferred_username"] == login, c
    assert c["iat"] <= now + 5 and c["exp"] > now and c["auth_time"] <= now + 5, c
    return c


@case
def da_password_ok_id_token_verifies():
    """The password grant for a user without MFA: 200 with an RS256 ID
    token that verifies with /oauth2/v1/keys (cacheable), for the right
    iss, aud, sub and preferred_username; one token request counted."""
    e = da_emu()
    login, uid = da_user(e)
    e.auth_reset_counts()
    st, body, _ = password_grant(e, login, "Corr3ct horse!")
    assert st == 200, (st, body)
    assert body["token_type"] == "Bearer" and body["access_token"] and body["scope"] == "openid profile", body
    c = check_good_id_token(e, body["id_token"], uid, login)
    assert "pwd" in c["amr"], c
    assert e.auth_counts(login) == {"token": 1, "challenge": 0}, e.auth_counts(login)
    keys, h = jwks(e)
    assert h["Cache-Control"].startswith("max-age=86400"), h["Cache-Control"]
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" and "d" not in k
               for k in keys), keys
    st, meta, _ = da_req(e, "/.well-known/openid-configuration")
    assert st == 200 and meta["issuer"] == e.base_url and meta["jwks_uri"] == e.base_url + "/oauth2/v1/keys", meta
    # openid is required; the client must be a registered native app
    check_oauth_error(password_grant(e, login, "Corr3ct horse!", scope="profile"), 400, "invalid_scope")
    check_oauth_error(password_grant(e, login, "Corr3ct horse!", client_id="0oanosuchapp"), 401,
                      "invalid_client", "Invalid value for 'client_id' parameter.")
    # a confidential native app: its secret by POST or Basic
    import base64
    e.auth_add_app("0oasecretapp", client_secret="s3cret")
    check_oauth_error(password_grant(e, login, "Corr3ct horse!", client_id="0oasecretapp",
                                     client_secret="wrong"), 401, "invalid_client")
    st, body, _ = da_req(e, TOKEN, {"grant_type": "password", "username": login,
                                    "password": "Corr3ct horse!", "scope": "openid"},
                         headers={"Authorization": "Basic " + base64.b64encode(b"0oasecretapp:s3cret").decode()})
    assert st == 200, (st, body)
    check_good_id_token(e, body["id_token"], uid, login, client_id="0oasecretapp")


@case
def da_bad_password_invalid_grant_counted_once():
    """A wrong password: 400 invalid_grant "The credentials provided were
    invalid.", exactly one token request counted; an unknown user gets
    the same answer (no user enumeration)."""
    e = da_emu()
    login, uid = da_user(e)
    e.auth_reset_counts()
    check_oauth_error(password_grant(e, login, "wrong"), 400, *BAD_CREDS)
    assert e.auth_counts(login) == {"token": 1, "challenge": 0}, e.auth_counts(login)
    assert e.auth_failures(login) == 1
    check_oauth_error(password_grant(e, "nobody@example.com", "x"), 400, *BAD_CREDS)
    assert e.auth_counts("nobody@example.com")["token"] == 1


def mfa_token_for(e, login, password="Corr3ct horse!", client_id=MFA_APP):
    body = check_oauth_error(password_grant(e, login, password, client_id=client_id), 403, "mfa_required",
                             "Verify with an additional authenticator to complete the sign-in process.")
    assert body.get("mfa_token"), body
    return body["mfa_token"]


def wrong_otp(secret):
    from emulator import totp
    near = {totp(secret, step_offset=d) for d in (-2, -1, 0, 1, 2)}
    return next("%06d" % i for i in range(1000000) if "%06d" % i not in near)


@case
def da_mfa_required_then_mfa_otp():
    """MFA by the app's policy or per user: the password grant answers 403
    mfa_required with an mfa_token; mfa-otp with a wrong code is 400
    invalid_grant (the mfa_token survives), with the RFC 6238 code it
    gives an ID token (amr otp), and the mfa_token is then spent."""
    from emulator import totp
    e = da_emu()
    login, uid = da_user(e)
    secret = e.enroll_totp(login)
    assert len(secret) == 32 and secret.isalnum(), secret
    tok = mfa_token_for(e, login)                      # the app's policy
    st, body, _ = da_req(e, CHALLENGE, {"client_id": MFA_APP, "mfa_token": tok,
                                        "challenge_types_supported": G_MFA_OTP})
    assert st == 200 and body == {"challenge_type": G_MFA_OTP}, (st, body)
    form = {"grant_type": G_MFA_OTP, "client_id": MFA_APP, "mfa_token": tok, "otp": wrong_otp(secret)}
    check_oauth_error(da_req(e, TOKEN, form), 400, "invalid_grant",
                      "The 'otp' provided is either empty or incorrect. Use the correct OTP and try again.")
    form["otp"] = totp(secret)
    st, body, _ = da_req(e, TOKEN, form)
    assert st == 200, (st, body)
    c = check_good_id_token(e, body["id_token"], uid, login, client_id=MFA_APP)
    assert "otp" in c["amr"] and "mfa" in c["amr"], c
    check_oauth_error(da_req(e, TOKEN, form), 403, "access_denied")    # spent
    # per user, on an app without MFA; not enrolled in TOTP: refused
    login2, _ = da_user(e)
    e.auth_require_mfa(login2)
    tok2 = mfa_token_for(e, login2, client_id=APP)
    check_oauth_error(da_req(e, TOKEN, {"grant_type": G_MFA_OTP, "client_id": APP, "mfa_token": tok2,
                                        "otp": "123456"}), 403, "access_denied")


def push_challenge(e, login, client_id=MFA_APP):
    tok = mfa_token_for(e, login, client_id=client_id)
    st, ch, _ = da_req(e, CHALLENGE, {"client_id": client_id, "mfa_token": tok, "channel_hint": "push",
                                      "challenge_types_supported": G_MFA_OOB + " " + G_MFA_OTP})
    assert st == 200, (st, ch)
    assert ch["challenge_type"] == G_MFA_OOB and ch["channel"] == "push" and ch["oob_code"], ch
    return tok, ch


def poll_oob(e, tok, ch, client_id=MFA_APP, timeout=20):
    """Poll mfa-oob until the answer is no longer authorization_pending."""
    form = {"grant_type": G_MFA_OOB, "client_id": client_id, "mfa_token": tok, "oob_code": ch["oob_code"]}

    def answer():
        got = da_req(e, TOKEN, form)
        return None if got[1].get("error") == "authorization_pending" else got
    return wait_until(answer, timeout=timeout, what="the push to be answered")


@case
def da_push_approved():
    """/challenge for a push: oob_code, expires_in 300, binding_method
    none; mfa-oob polls authorization_pending until the control port
    approves, then an ID token (amr swk, mfa)."""
    e = da_emu()
    login, uid = da_user(e)
    e.enroll_push(login)
    tok, ch = push_challenge(e, login)
    assert ch["binding_method"] == "none" and "binding_code" not in ch and ch["expires_in"] == 300, ch
    form = {"grant_type": G_MFA_OOB, "client_id": MFA_APP, "mfa_token": tok, "oob_code": ch["oob_code"]}
    check_oauth_error(da_req(e, TOKEN, form), 400, "authorization_pending",
                      "No user response received on the out-of-band authenticator yet. "
                      "Continue polling to wait for a response.")
    assert e.push_respond(login, "approve") == "approved"
    st, body, _ = poll_oob(e, tok, ch)
    assert st == 200, (st, body)
    c = check_good_id_token(e, body["id_token"], uid, login, client_id=MFA_APP)
    assert "mfa" in c["amr"], c


@case
def da_push_rejected():
    """A push rejected in Okta Verify: 400 invalid_grant "User rejected
    out-of-band authentication prompt."."""
    e = da_emu()
    login, _ = da_user(e)
    e.enroll_push(login)
    tok, ch = push_challenge(e, login)
    assert e.push_respond(login, "reject") == "rejected"
    check_oauth_error(poll_oob(e, tok, ch), 400, "invalid_grant",
                      "User rejected out-of-band authentication prompt.")


@case
def da_push_timed_out():
    """A push nobody answers: once expires_in has passed, polling answers
    403 access_denied "'oob_code' has expired..."; push_respond finds
    nothing pending."""
    e = da_emu()
    login, _ = da_user(e)
    e.enroll_push(login)
    e.auth_settings(oob_expires_in=1)
    try:
        tok, ch = push_challenge(e, login)
        assert ch["expires_in"] == 1, ch
    finally:
        e.auth_settings(**DA_TEST_SETTINGS)
    check_oauth_error(poll_oob(e, tok, ch), 403, "access_denied",
                      "'oob_code' has expired. Use a new 'oob_code' and try again.")
    try:
        e.push_respond(login, "approve")
    except Exception as x:
        assert "no pending push" in str(x), x
    else:
        raise AssertionError("an expired push was approved")


@case
def da_push_number_matching():
    """Number matching: binding_method transfer with a two-digit
    binding_code; approving with that code gives a token, with any other
    code the push is rejected (invalid_grant)."""
    e = da_emu()
    login, uid = da_user(e)
    e.enroll_push(login, number_matching=True)
    tok, ch = push_challenge(e, login)
    assert ch["binding_method"] == "transfer" and len(ch["binding_code"]) == 2 \
        and ch["binding_code"].isdigit(), ch
    assert e.push_respond(login, "approve", code=int(ch["binding_code"])) == "approved"
    st, body, _ = poll_oob(e, tok, ch)
    assert st == 200, (st, body)
    check_good_id_token(e, body["id_token"], uid, login, client_id=MFA_APP)
    tok, ch = push_challenge(e, login)
    wrong = "%02d" % ((int(ch["binding_code"]) + 1) % 100)
    assert e.push_respond(login, "approve", code=wrong) == "rejected"
    check_oauth_error(poll_oob(e, tok, ch), 400, "invalid_grant",
                      "User rejected out-of-band authentication prompt.")


@case
def da_push_slow_down():
    """Polling mfa-oob faster than the challenge's interval: 400 slow_down."""
    e = da_emu()
    login, _ = da_user(e)
    e.enroll_push(login)
    e.auth_settings(oob_interval=30)
    try:
        tok, ch = push_challenge(e, login)
    finally:
        e.auth_settings(**DA_TEST_SETTINGS)
    assert ch["interval"] == 30, ch
    form = {"grant_type": G_MFA_OOB, "client_id": MFA_APP, "mfa_token": tok, "oob_code": ch["oob_code"]}
    check_oauth_error(da_req(e, TOKEN, form), 400, "authorization_pending")
    check_oauth_error(da_req(e, TOKEN, form), 400, "slow_down",
                      "Slow down the polling frequency. Please try again later.")


@case
def da_device_flow():
    """/device/authorize, then device_code polling: authorization_pending,
    slow_down when faster than interval, and after device_approve an ID
    token whose sub is the approving user; a denied code is
    access_denied, an expired one expired_token, an unknown one
    invalid_grant."""
    e = da_emu()
    login, uid = da_user(e)
    e.auth_settings(device_interval=30)
    try:
        st, d, _ = da_req(e, "/oauth2/v1/device/authorize", {"client_id": APP, "scope": "openid profile"})
    finally:
        e.auth_settings(**DA_TEST_SETTINGS)
    assert st == 200, (st, d)
    assert d["verification_uri"] == e.base_url + "/activate", d
    assert d["verification_uri_complete"] == e.base_url + "/activate?user_code=" + d["user_code"], d
    assert d["expires_in"] == 600 and d["interval"] == 30 and len(d["user_code"]) == 8, d
    form = {"grant_type": G_DEVICE, "client_id": APP, "device_code": d["device_code"]}
    check_oauth_error(da_req(e, TOKEN, form), 400, "authorization_pending",
                      "The device authorization is pending. Please try again later.")
    check_oauth_error(da_req(e, TOKEN, form), 400, "slow_down")
    assert e.device_approve(d["user_code"], login) == uid
    st, body, _ = da_req(e, TOKEN, form)
    assert st == 200, (st, body)
    check_good_id_token(e, body["id_token"], uid, login)
    check_oauth_error(da_req(e, TOKEN, form), 400, "invalid_grant",
                      "The device code is invalid or has expired.")        # spent
    # denied
    st, d, _ = da_req(e, "/oauth2/v1/device/authorize", {"client_id": APP, "scope": "openid"})
    e.device_deny(d["user_code"])
    check_oauth_error(da_req(e, TOKEN, dict(form, device_code=d["device_code"])), 400, "access_denied")
    # expired
    e.auth_settings(device_expires_in=1)
    try:
        st, d, _ = da_req(e, "/oauth2/v1/device/authorize", {"client_id": APP, "scope": "openid"})
    finally:
        e.auth_settings(**DA_TEST_SETTINGS)
    f2 = dict(form, device_code=d["device_code"])
    got = wait_until(lambda: (lambda g: g if g[1].get("error") != "authorization_pending" else None)(
        da_req(e, TOKEN, f2)), timeout=20, what="the device code to expire")
    check_oauth_error(got, 400, "expired_token", "The device code has expired.")


@case
def da_forged_id_tokens():
    """auth_forge_next makes the next ID token broken in exactly the way
    named, everything else as usual."""
    e = da_emu()
    login, uid = da_user(e)
    other, other_uid = da_user(e)
    kids = {k["kid"] for k in jwks(e)[0]}

    def forged(kind, **kw):
        e.auth_forge_next(kind, **kw)
        st, body, _ = password_grant(e, login, "Corr3ct horse!")
        assert st == 200, (st, body)
        return body["id_token"], verify_id_token(e, body["id_token"])
    tok, (hdr, c, ok) = forged("bad_signature")
    assert not ok and hdr["kid"] in kids and c["sub"] == uid and c["aud"] == APP, (hdr, c)
    tok, (hdr, c, ok) = forged("wrong_aud")
    assert ok and c["aud"] != APP and c["sub"] == uid, c
    tok, (hdr, c, ok) = forged("expired")
    assert ok and c["exp"] < time.time() - 60 and c["aud"] == APP, c
    tok, (hdr, c, ok) = forged("unknown_kid")
    assert not ok and hdr["alg"] == "RS256" and hdr["kid"] not in {k["kid"] for k in jwks(e)[0]}, hdr
    tok, (hdr, c, ok) = forged("alg_none")
    assert hdr["alg"] == "none" and tok.endswith(".") and not ok and c["sub"] == uid, (hdr, tok)
    tok, (hdr, c, ok) = forged("wrong_iss")
    assert ok and c["iss"] != e.base_url, c
    tok, (hdr, c, ok) = forged("other_sub", other=other)
    assert ok and c["sub"] == other_uid and c["preferred_username"] == login and c["aud"] == APP, c
    # the queue is empty again: the next one is good
    st, body, _ = password_grant(e, login, "Corr3ct horse!")
    check_good_id_token(e, body["id_token"], uid, login)
    # a rotated key: published, and it signs from now on
    kid = e.auth_rotate_key()
    st, body, _ = password_grant(e, login, "Corr3ct horse!")
    hdr, c, ok = verify_id_token(e, body["id_token"])
    assert ok and hdr["kid"] == kid and kids < {k["kid"] for k in jwks(e)[0]}, hdr


@case
def da_lockout_after_ten_bad_passwords():
    """Ten bad passwords in a row lock the user: LOCKED_OUT on the
    management API, a user.account.lock event, and even the right password
    is refused (invalid_grant); a right password before the tenth resets
    the count; an admin unlock lets the user in again."""
    e = da_emu()
    login, uid = da_user(e)
    for _ in range(9):
        check_oauth_error(password_grant(e, login, "wrong"), 400, *BAD_CREDS)
    assert password_grant(e, login, "Corr3ct horse!")[0] == 200      # resets the count
    for i in range(10):
        assert e.user(login)["status"] == "ACTIVE", i
        check_oauth_error(password_grant(e, login, "wrong"), 400, *BAD_CREDS)
    c = Client(e)
    try:
        r, u = c.json("/api/v1/users/" + uid)
    finally:
        c.close()
    assert u["status"] == "LOCKED_OUT", u["status"]
    locks = [x for x in e.events() if x["eventType"] == "user.account.lock"
             and x["target"][0]["id"] == uid]
    assert len(locks) == 1, locks
    check_oauth_error(password_grant(e, login, "Corr3ct horse!"), 400, *BAD_CREDS)
    e.set_status(login, "ACTIVE")
    assert password_grant(e, login, "Corr3ct horse!")[0] == 200


@case
def da_inactive_users_refused():
    """A SUSPENDED, DEPROVISIONED or LOCKED_OUT user gets invalid_grant
    even with the right password, and no failure is counted."""
    e = da_emu()
    for status in ("SUSPENDED", "DEPROVISIONED", "LOCKED_OUT"):
        login, _ = da_user(e)
        assert password_grant(e, login, "Corr3ct horse!")[0] == 200
        e.set_status(login, status)
        check_oauth_error(password_grant(e, login, "Corr3ct horse!"), 400, *BAD_CREDS)
        assert e.auth_failures(login) == 0, status


@case
def da_per_user_rate_limit():
    """More than user_rate_limit token requests for one user in the window:
    429 (Okta's table: error invalid_grant, "API call exceeded rate limit
    due to too many requests."); the password is not even checked, and
    another user is unaffected.  Okta's own figure, 4 a second, is the
    default."""
    e = da_emu()
    login, _ = da_user(e)
    login2, _ = da_user(e)
    e.auth_settings(user_rate_limit=4, rate_window=600)
    try:
        for _ in range(4):
            check_oauth_error(password_grant(e, login, "wrong"), 400, *BAD_CREDS)
        st, body, h = password_grant(e, login, "Corr3ct horse!")
        assert st == 429 and body == {"error": "invalid_grant", "error_description":
                                      "API call exceeded rate limit due to too many requests."}, (st, body)
        assert h["x-rate-limit-remaining"] == "0", dict(h)
        assert e.auth_failures(login) == 4
        assert password_grant(e, login2, "Corr3ct horse!")[0] == 200
        assert e.auth_counts(login)["token"] >= 5
    finally:
        e.auth_settings(**DA_TEST_SETTINGS)
    with Emulator() as fresh:
        s = fresh.auth_settings()
        assert s["user_rate_limit"] == 4 and s["rate_window"] == 1 and s["lockout_threshold"] == 10, s



@case
def da_faults_on_auth_endpoints():
    """A fault that names an OAuth path hits it (500 E0000009, 429
    E0000047, a reset), and the next request is served; a fault without a
    path is not used up by token requests (it waits for the API)."""
    import urllib.error
    e = da_emu()
    login, _ = da_user(e)
    e.fault("500", path="/oauth2/v1/token")
    st, body, _ = password_grant(e, login, "Corr3ct horse!")
    assert st == 500 and body["errorCode"] == "E0000009", (st, body)
    e.fault("429", path="/oauth2/v1/challenge")
    st, body, h = da_req(e, CHALLENGE, {"client_id": MFA_APP, "mfa_token": "x",
                                        "challenge_types_supported": G_MFA_OOB})
    assert st == 429 and body["errorCode"] == "E0000047" and h["x-rate-limit-remaining"] == "0", (st, body)
    e.fault("reset", path="/oauth2/v1/token", count=2)
    for _ in range(2):
        try:
            password_grant(e, login, "Corr3ct horse!")
        except (urllib.error.URLError, ConnectionError, OSError) as x:
            assert not isinstance(x, urllib.error.HTTPError), x
        else:
            raise AssertionError("the reset fault answered")
    assert password_grant(e, login, "Corr3ct horse!")[0] == 200
    e.fault("500")
    try:
        assert password_grant(e, login, "Corr3ct horse!")[0] == 200
        c = Client(e)
        try:
            r, body = c.get("/api/v1/users?limit=1")
            assert r.status == 500, r.status
        finally:
            c.close()
    finally:
        e.clear_faults()


if __name__ == "__main__":
    try:
        main()
    finally:
        if _emu is not None:
            _emu.stop()
        if _da is not None:
            _da.stop()
