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
from oktatest import case, main  # noqa: E402
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


if __name__ == "__main__":
    try:
        main()
    finally:
        if _emu is not None:
            _emu.stop()
