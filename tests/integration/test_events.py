"""test_events - okta-syncd follows Okta's System Log between scheduled
syncs (issue 15, Done-when 1-6).

Every case runs the real okta-syncd against the emulator with `[sync]
events = yes`, a short event_interval and a cron schedule twelve hours
away, so that nothing but the event follower can bring a change between
the daemon's start-up sync and the end of the case.  What a user would see
is asserted: pam_okta's verdict through Debian's real account stack
(copied /etc/pam.d, pamtester, glibc NSS "files okta" in a private mount
namespace), `id`, `okta-sync status`, the Prometheus textfile.  How the
daemon got there is read from the emulator's request log (one System Log
poll per interval, user fetches by id, where it resumed) and the daemon's
log lines (doc: issue 15's shared spec).

Scope (Done-when 5) is `groups` with `members_only = yes`: without it
every user the token sees is synced and `groups` only picks the groups.

Quick mutant: OKTA_EVENTS_MUTANT=1 runs every case with `events = no`;
each case must then FAIL.  The NSS and PAM modules are loaded into
system binaries (id, pamtester), so against an ASan build only the
daemon-side assertions can hold: run it against the normal build.
"""
import datetime
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from sync_common import oktatest  # noqa: E402
from oktatest import OKTA_SYNC, OKTA_SYNCD, case, main, tmpdir, wait_until  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

BUILD = oktatest.BUILD
MODULE = os.path.join(BUILD, "pam_okta.so")
ENV = {"TZ": "UTC"}
EVENTS = "no" if os.environ.get("OKTA_EVENTS_MUTANT") else "yes"
PAM_CONTROL = "[success=ok user_unknown=ignore ignore=ignore default=bad]"
MSG_SUSPENDED = "Your account is suspended in Okta. Contact your administrator."
SCHEDULED_SYNC = r"sync ok \((?:incremental|full)\)"


def far_schedule():
    """A daily incremental and full schedule twelve hours from now: the
    only scheduled sync during a case is the start-up one."""
    h = (datetime.datetime.now(datetime.timezone.utc).hour + 12) % 24
    return "0 %d * * *" % h, "30 %d * * *" % h


def setup(tmp, emu, sync=None):
    """The config: the real /etc/passwd and /etc/group as the local files
    (the namespace's NSS reads them), events on, a 1 s event interval."""
    inc, full = far_schedule()
    s = {"schedule": inc, "full_sync_schedule": full, "events": EVENTS,
         "event_interval": "1s"}
    s.update(sync or {})
    return sc.setup(tmp, emu, posix={"local_passwd": "/etc/passwd",
                                     "local_group": "/etc/group"}, sync=s)


class Daemon:
    """okta-syncd in the foreground, its stderr in a file.  stop() sends
    SIGTERM (and kills it if it does not go); a context manager."""

    started = 0

    def __init__(self, conf):
        # The log lives next to the config, in the case's directory.
        Daemon.started += 1
        self.log_path = os.path.join(os.path.dirname(conf), "okta-syncd-%d.log" % Daemon.started)
        e = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "OKTA_SYNCD_TEST_INTERVAL"):
            e.pop(k, None)
        e.update(ENV)
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([OKTA_SYNCD, "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT, env=e)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if not self.log_file.closed:
            self.log_file.close()
        return self.proc.returncode

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout=60, count=1):
        def found():
            hits = re.findall(pattern, self.log())
            if self.proc.poll() is not None and len(hits) < count:
                raise AssertionError("okta-syncd exited %s:\n%s" % (self.proc.returncode, self.log()))
            return hits if len(hits) >= count else None
        try:
            return wait_until(found, timeout=timeout, interval=0.05,
                              what="log %r x%d" % (pattern, count))
        except AssertionError as e:
            raise AssertionError("%s\nlog:\n%s" % (e, self.log())) from None

    def scheduled_syncs(self):
        return len(re.findall(SCHEDULED_SYNC, self.log()))


def polls(emu):
    """The System Log requests in the emulator's request log, in order."""
    return [r for r in emu.requests() if urllib.parse.urlsplit(r[1]).path == "/api/v1/logs"]


def listings(reqs):
    """User and group listing requests (what a sync makes; the event
    follower fetches by id)."""
    return [r for r in reqs if urllib.parse.urlsplit(r[1]).path in ("/api/v1/users", "/api/v1/groups")]


def user_fetches(reqs):
    """GET /api/v1/users/{id} (not /groups, not the listing)."""
    return [r for r in reqs if re.fullmatch(r"/api/v1/users/[^/?]+",
                                            urllib.parse.urlsplit(r[1]).path)]


def wait_polls(emu, d, n=2, timeout=30):
    """Until the follower has polled the System Log n times since the
    request log was last reset: the poll before the last one's batch is
    then fully handled (one poll at a time)."""
    def ok():
        if d.proc.poll() is not None:
            raise AssertionError("okta-syncd exited %s:\n%s" % (d.proc.returncode, d.log()))
        return len(polls(emu)) >= n
    try:
        wait_until(ok, timeout=timeout, interval=0.05, what="%d System Log polls" % n)
    except AssertionError as e:
        raise AssertionError("%s\nlog:\n%s" % (e, d.log())) from None


def started(emu, d):
    """Wait for the daemon's start-up sync and for the follower to have
    handled what the System Log held until then."""
    d.wait_log(SCHEDULED_SYNC)
    emu.reset_requests()
    wait_polls(emu, d, 2)


def status(conf):
    p = oktatest.run([OKTA_SYNC, "-c", conf, "status", "--json"], env=ENV)
    assert p.returncode == 0, "okta-sync status --json exited %d: %s" % (p.returncode, p.stderr)
    return json.loads(p.stdout)


def ev_status(conf):
    doc = status(conf)
    assert "events" in doc, "status --json has no \"events\" object:\n%s" % json.dumps(doc, indent=1)
    return doc["events"]


def epoch(iso):
    """Seconds since the epoch of an ISO 8601 UTC time ("...Z", with or
    without fractional seconds)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", iso)
    assert m, "not an ISO 8601 UTC time: %r" % (iso,)
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp() + float(m.group(2) or 0)


def generation(conf):
    return sc.snapshot(conf)["meta"]["generation"]


def stored_cursor(conf):
    """The System Log next link okta-syncd keeps in cache.db, wherever it
    keeps it (any text value naming /api/v1/logs)."""
    path = os.path.join(sc.cache_dir(conf), "cache.db")
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        found = []
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            cols = [r[1] for r in con.execute("PRAGMA table_info(\"%s\")" % table)]
            for c in cols:
                for (v,) in con.execute("SELECT \"%s\" FROM \"%s\"" % (c, table)):
                    if isinstance(v, str) and "/api/v1/logs" in v:
                        found.append(v)
        return found
    finally:
        con.close()


def real_stack(tmp):
    """A copy of /etc/pam.d with pam-auth-update's pam_okta line in
    common-account and a service okta-test that includes it; plus an
    nsswitch.conf "files okta".  Returns (pam.d dir, nsswitch path)."""
    pamd = os.path.join(tmp, "etc-pam.d")
    shutil.copytree("/etc/pam.d", pamd, symlinks=True)
    ca = os.path.join(pamd, "common-account")
    with open(ca) as f:
        text = f.read()
    assert "# end of pam-auth-update config" in text, text
    with open(ca, "w") as f:
        f.write(text.replace("# end of pam-auth-update config",
                             "account\t%s\t%s\n# end of pam-auth-update config"
                             % (PAM_CONTROL, MODULE)))
    with open(os.path.join(pamd, "okta-test"), "w") as f:
        f.write("@include common-account\n")
    return pamd, oktatest.write_nsswitch(os.path.join(tmp, "nsswitch.conf"))


def pam_acct(conf, stack, user):
    """pamtester USER acct_mgmt through the real stack; (rc, output)."""
    pamd, nss = stack
    p = oktatest.ns_run("pamtester okta-test %s acct_mgmt 2>&1; echo rc=$?" % user,
                        sc.cache_dir(conf), nsswitch=nss,
                        extra_binds=[(pamd, "/etc/pam.d")], timeout=60)
    out = p.stdout + p.stderr
    m = re.search(r"rc=(\d+)\s*$", out)
    assert m, out
    return int(m.group(1)), out


def nss(conf, script):
    """Run script with glibc NSS "files okta" over this case's snapshot."""
    nssw = oktatest.write_nsswitch(os.path.join(os.path.dirname(conf), "nsswitch.conf"))
    return oktatest.ns_run(script, sc.cache_dir(conf), nsswitch=nssw, timeout=60)


def id_groups(conf, user):
    """`id -Gn USER` as a set of names (None: no such user)."""
    p = nss(conf, "id -Gn %s" % user)
    if p.returncode != 0:
        assert "no such user" in p.stderr, "id -Gn %s failed: %s" % (user, p.stderr)
        return None
    return set(p.stdout.split())


def logins_in(org, *names, not_in=()):
    """Logins of the org's users in every group of names and in none of not_in."""
    gid = {g["profile"]["name"]: set(g["members"]) for g in org["groups"]}
    out = []
    for u in org["users"]:
        if all(u["id"] in gid[n] for n in names) and not any(u["id"] in gid[n] for n in not_in):
            out.append(u["profile"]["login"])
    return out


def run_case(body, org, sync=None):
    """Emulator with org, config, daemon started and settled; body(emu,
    conf, d, tmp); everything stopped afterwards."""
    oktatest.need(OKTA_SYNCD, OKTA_SYNC, sc.SNAPDUMP, "pamtester")
    tmp = tmpdir("okta-events-")
    try:
        sync = {k: v.replace("@TMP@", tmp) for k, v in (sync or {}).items()}
        with Emulator(org) as emu:
            conf = setup(tmp, emu, sync)
            with Daemon(conf) as d:
                body(emu, conf, d, tmp)
                rc = d.stop()
                assert rc == 0, "okta-syncd exited %s on SIGTERM:\n%s" % (rc, d.log())
                assert emu.token not in d.log(), "okta-syncd logged the API token"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def small_org(seed=15, nusers=40):
    return make_org(nusers=nusers, ngroups=3, seed=seed, statuses=False)


@case
def suspended_user_refused_before_next_sync():
    """Done-when 1: a user suspended in Okta is refused by pam_okta through
    Debian's account stack, with no scheduled sync in between: only the
    System Log poll and the fetch of that user by id reached Okta."""
    org = small_org()
    login = org["users"][3]["profile"]["login"]
    name = sc.username(login)

    def body(emu, conf, d, tmp):
        stack = real_stack(tmp)
        started(emu, d)
        rc, out = pam_acct(conf, stack, name)
        assert rc == 0 and "account management done" in out, out
        next_sync = status(conf)["next_sync_epoch"]
        syncs = d.scheduled_syncs()
        emu.reset_requests()
        emu.set_status(login, "SUSPENDED")

        def refused():
            rc, out = pam_acct(conf, stack, name)
            return out if rc == 1 else None
        try:
            out = wait_until(refused, timeout=30, interval=0.2,
                             what="pam_okta to refuse the suspended %s" % name)
        except AssertionError as e:
            raise AssertionError("%s\nlog:\n%s" % (e, d.log())) from None
        assert MSG_SUSPENDED in out and "pamtester: Permission denied" in out, out
        assert time.time() < next_sync, (time.time(), next_sync)
        reqs = emu.requests()
        assert d.scheduled_syncs() == syncs, "a scheduled sync ran:\n" + d.log()
        assert not listings(reqs), "a listing (a sync) reached Okta: %r" % listings(reqs)
        uid = emu.user_id(login)
        assert any(urllib.parse.urlsplit(r[1]).path == "/api/v1/users/" + uid
                   for r in user_fetches(reqs)), "no GET /api/v1/users/%s in %r" % (uid, reqs)
        assert re.search(r"events: \d+ new \(\d+ applied\)", d.log()), d.log()
        # root still passes the same stack.
        rc, out = pam_acct(conf, stack, "root")
        assert rc == 0, out
    run_case(body, org)


@case
def membership_change_seen_by_id():
    """Done-when 2: a user removed from a synced group is out of it for
    `id` after the next event poll; a user added to it is in."""
    org = small_org(seed=16)
    # groups = Engineering,Operations: the leaver stays in scope through
    # Operations; the joiner is in Operations (and Sales) only.
    leaver = logins_in(org, "Engineering", "Operations")[0]
    joiner = logins_in(org, "Operations", not_in=("Engineering",))[0]

    def body(emu, conf, d, tmp):
        started(emu, d)
        lname, jname = sc.username(leaver), sc.username(joiner)
        assert id_groups(conf, lname) is not None, \
            "libnss_okta.so.2 does not resolve %s after the start-up sync" % lname
        assert "engineering" in id_groups(conf, lname), id_groups(conf, lname)
        assert "engineering" not in id_groups(conf, jname), id_groups(conf, jname)
        syncs = d.scheduled_syncs()
        emu.reset_requests()
        emu.remove_member("Engineering", leaver)
        emu.add_member("Engineering", joiner)

        def changed():
            lg, jg = id_groups(conf, lname), id_groups(conf, jname)
            return lg is not None and jg is not None and \
                "engineering" not in lg and "engineering" in jg
        try:
            wait_until(changed, timeout=30, interval=0.2, what="id to show the membership changes")
        except AssertionError as e:
            raise AssertionError("%s\nid %s: %s\nid %s: %s\nlog:\n%s"
                                 % (e, lname, id_groups(conf, lname), jname,
                                    id_groups(conf, jname), d.log())) from None
        assert "operations" in id_groups(conf, lname), id_groups(conf, lname)
        assert d.scheduled_syncs() == syncs, "a scheduled sync ran:\n" + d.log()
        assert not listings(emu.requests()), listings(emu.requests())
    run_case(body, org, {"groups": "Engineering,Operations"})


@case
def restart_resumes_from_stored_cursor():
    """Done-when 3: okta-syncd is stopped, three events happen, it starts
    again: the first System Log request is the stored next link (after=,
    not a fresh since=), and it counts exactly those three events."""
    org = small_org(seed=17)
    users = [u["profile"]["login"] for u in org["users"]]
    first, suspended, renamed = users[1], users[2], users[3]
    joiner = [x for x in logins_in(org, "Operations", not_in=("Engineering",))
              if x not in (first, suspended, renamed)][0]
    tmp = tmpdir("okta-events-")
    oktatest.need(OKTA_SYNCD, OKTA_SYNC, sc.SNAPDUMP)
    try:
        with Emulator(org) as emu:
            conf = setup(tmp, emu)
            with Daemon(conf) as d:
                started(emu, d)
                # An event before the stop: it must not be read again.
                emu.set_profile(first, firstName="Before")
                wait_until(lambda: sc.snap_users(sc.snapshot(conf))[sc.username(first)]["gecos"]
                           .startswith("Before "), timeout=30, interval=0.1,
                           what="the event before the stop to be applied")
                n = len(polls(emu))
                wait_polls(emu, d, n + 1)
                ev = ev_status(conf)
                assert d.stop() == 0, d.log()
            cursors = stored_cursor(conf)
            assert cursors, "no System Log next link stored in cache.db"
            before = len(emu.events())
            emu.set_status(suspended, "SUSPENDED")
            emu.set_profile(renamed, firstName="Moved")
            emu.add_member("Engineering", joiner)
            new = emu.events()[before:]
            assert len(new) == 3, new
            emu.reset_requests()
            with Daemon(conf) as d:
                d.wait_log(SCHEDULED_SYNC)
                try:
                    wait_until(lambda: ev_status(conf)["seen"] >= ev["seen"] + 3, timeout=30,
                               interval=0.1, what="3 more events seen")
                except AssertionError as e:
                    raise AssertionError("%s\n%s\nlog:\n%s" % (e, ev_status(conf), d.log())) from None
                wait_polls(emu, d, len(polls(emu)) + 1)
                after = ev_status(conf)
                reqs = polls(emu)
                first_poll = reqs[0][1]
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(first_poll).query)
                # Okta's next link keeps the first request's since= and adds
                # the after= cursor: a fresh start would send a since= of
                # its own and no after=.
                assert "after" in q, \
                    "the first System Log request after the restart is %s" % first_poll
                assert any(c.endswith(first_poll) for c in cursors), \
                    "resumed at %s, the stored cursor is %s" % (first_poll, cursors)
                assert after["seen"] == ev["seen"] + 3, (ev, after, d.log())
                assert after["applied"] == ev["applied"] + 3, (ev, after, d.log())
                assert after["last_event"]["uuid"] == new[-1]["uuid"], (after, new[-1])
                snap = sc.snapshot(conf)
                u = sc.snap_users(snap)
                assert u[sc.username(suspended)]["status"] == "SUSPENDED", u[sc.username(suspended)]
                assert u[sc.username(renamed)]["gecos"].startswith("Moved "), u[sc.username(renamed)]
                assert sc.username(joiner) in sc.snap_groups(snap)["engineering"]["members"]
                assert d.stop() == 0, d.log()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def burst_of_500_users_runs_one_incremental_sync():
    """Done-when 4: events naming 500 users in one batch: one incremental
    sync (a listing), not 500 fetches by id."""
    org = make_org(nusers=700, ngroups=3, seed=18, statuses=False)
    logins = [u["profile"]["login"] for u in org["users"]][:500]

    def body(emu, conf, d, tmp):
        started(emu, d)
        ev = ev_status(conf)
        emu.reset_requests()
        emu.touch_users(logins)
        try:
            wait_until(lambda: ev_status(conf)["seen"] >= ev["seen"] + 500, timeout=60,
                       interval=0.2, what="500 more events seen")
        except AssertionError as e:
            raise AssertionError("%s\n%s\nlog:\n%s" % (e, ev_status(conf), d.log())) from None
        wait_polls(emu, d, len(polls(emu)) + 1)
        reqs = emu.requests()
        fetches = user_fetches(reqs)
        assert len(fetches) < 50, "%d user fetches by id" % len(fetches)
        lists = [r for r in listings(reqs) if urllib.parse.urlsplit(r[1]).path == "/api/v1/users"]
        assert lists, "no user listing: %r" % reqs[:20]
        bursts = re.findall(r"events: \d+ events name 500 users, running an incremental "
                            r"sync instead", d.log())
        assert len(bursts) == 1, d.log()
    run_case(body, org)


@case
def event_outside_scope_changes_nothing():
    """Done-when 5: an event about a user outside [sync] groups (with
    members_only = yes, the groups are the scope): nothing is published,
    the user stays unknown to the host."""
    org = small_org(seed=19)
    outsider = "outside.user@example.com"

    def body(emu, conf, d, tmp):
        emu.add_user(outsider, "Outside", "User", groups=["Sales"])
        emu.set_profile(outsider, firstName="Outside2")
        started(emu, d)
        gen = generation(conf)
        ev = ev_status(conf)
        emu.set_status(outsider, "SUSPENDED")
        try:
            wait_until(lambda: ev_status(conf)["seen"] >= ev["seen"] + 1, timeout=30,
                       interval=0.1, what="the event to be seen")
        except AssertionError as e:
            raise AssertionError("%s\n%s\nlog:\n%s" % (e, ev_status(conf), d.log())) from None
        wait_polls(emu, d, len(polls(emu)) + 1)
        assert generation(conf) == gen, "a snapshot was published:\n" + d.log()
        assert sc.username(outsider) not in sc.snap_users(sc.snapshot(conf))
        assert id_groups(conf, sc.username(outsider)) is None
    run_case(body, org, {"groups": "Engineering,Operations", "members_only": "yes"})


@case
def event_removals_over_max_delete_refused():
    """Done-when 5: events that would remove more users than max_delete are
    refused like any sync: the log says so, the users stay."""
    org = small_org(seed=20)
    # In Engineering but not Operations: out of scope once out of Engineering.
    leavers = logins_in(org, "Engineering", not_in=("Operations",))[:4]
    assert len(leavers) == 4, leavers

    def body(emu, conf, d, tmp):
        started(emu, d)
        gen = generation(conf)
        ev = ev_status(conf)
        syncs = d.scheduled_syncs()
        # All four in one batch: the next System Log request is held for
        # 2 s (answered after the wait, so with what happened meanwhile)
        # and the removals are made while it waits.
        emu.fault("slow", path="/api/v1/logs", delay=2)
        wait_until(lambda: emu.stats()["faults_pending"] == 0, timeout=30,
                   what="the next System Log request")
        for login in leavers:
            emu.remove_member("Engineering", login)
        try:
            wait_until(lambda: ev_status(conf)["seen"] >= ev["seen"] + 4, timeout=30,
                       interval=0.1, what="4 more events seen")
        except AssertionError as e:
            raise AssertionError("%s\n%s\nlog:\n%s" % (e, ev_status(conf), d.log())) from None
        wait_polls(emu, d, len(polls(emu)) + 1)
        users = sc.snap_users(sc.snapshot(conf))
        for login in leavers:
            assert sc.username(login) in users, "%s was removed:\n%s" % (login, d.log())
            assert id_groups(conf, sc.username(login)) is not None, login
        assert generation(conf) == gen, "a snapshot was published:\n" + d.log()
        assert re.search(r"events: .*remove 4 users, more than max_delete", d.log()), d.log()
        assert d.scheduled_syncs() == syncs, d.log()
    run_case(body, org, {"groups": "Engineering,Operations", "members_only": "yes",
                         "max_delete": "1"})


@case
def status_and_metrics_show_events():
    """Done-when 6: after an applied event, `okta-sync status --json` has
    the spec's "events" fields with sane values, the text form an Events
    block, and the Prometheus textfile the event metrics."""
    org = small_org(seed=21)
    login = org["users"][5]["profile"]["login"]

    def body(emu, conf, d, tmp):
        prom = os.path.join(tmp, "okta.prom")
        started(emu, d)
        emu.set_status(login, "SUSPENDED")
        uid = emu.user_id(login)
        want = [e for e in emu.events() if e["eventType"] == "user.lifecycle.suspend"
                and any(t.get("id") == uid for t in e.get("target") or [])]
        assert len(want) == 1, want
        want = want[0]

        def applied():
            ev = ev_status(conf)
            return ev if (ev.get("last_event") or {}).get("uuid") == want["uuid"] else None
        try:
            ev = wait_until(applied, timeout=30, interval=0.1, what="the suspend event applied")
        except AssertionError as e:
            raise AssertionError("%s\n%s\nlog:\n%s" % (e, ev_status(conf), d.log())) from None
        assert ev["enabled"] is True, ev
        assert ev["interval_seconds"] == 1, ev
        assert isinstance(ev["cursor_age_seconds"], (int, float)) and \
            0 <= ev["cursor_age_seconds"] < 120, ev
        assert isinstance(ev["seen"], int) and isinstance(ev["applied"], int), ev
        assert ev["seen"] >= ev["applied"] >= 1, ev
        le = ev["last_event"]
        assert le["event_type"] == "user.lifecycle.suspend", le
        # The spec shows "2026-...Z"; whether milliseconds are kept is
        # the daemon's choice: the same instant to the second.
        assert abs(epoch(le["published"]) - epoch(want["published"])) < 1, (le, want)
        assert isinstance(ev["latency_seconds"], (int, float)) and \
            0 <= ev["latency_seconds"] < 60, ev
        p = oktatest.run([OKTA_SYNC, "-c", conf, "status"], env=ENV)
        assert p.returncode == 0, p.stderr
        # The block: the "Events:" line and the indented lines under it.
        m = re.search(r"^\s*Events:.*\n(?:[ \t]+\S.*\n)*", p.stdout, re.M)
        assert m, "no Events block:\n" + p.stdout
        block = m.group(0)
        for want_text in (want["uuid"], "user.lifecycle.suspend", "latency",
                          "%d seen" % ev["seen"], "%d applied" % ev["applied"]):
            assert want_text in block, "%r is not in the Events block:\n%s" % (want_text, block)
        names = ("okta_sync_events_enabled", "okta_sync_events_cursor_age_seconds",
                 "okta_sync_events_seen_total", "okta_sync_events_applied_total",
                 "okta_sync_event_latency_seconds",
                 "okta_sync_last_event_published_timestamp_seconds")

        def metrics():
            if not os.path.exists(prom):
                return None
            text = open(prom).read()
            vals = {}
            for n in names:
                m = re.search(r"^%s (\S+)$" % n, text, re.M)
                if not m:
                    return None
                vals[n] = float(m.group(1))
            return vals if vals["okta_sync_events_applied_total"] >= 1 else None
        try:
            vals = wait_until(metrics, timeout=30, interval=0.1, what="the event metrics")
        except AssertionError as e:
            raise AssertionError("%s\n%s" % (e, open(prom).read() if os.path.exists(prom)
                                             else "no " + prom)) from None
        assert vals["okta_sync_events_enabled"] == 1, vals
        assert vals["okta_sync_events_seen_total"] >= vals["okta_sync_events_applied_total"], vals
        assert 0 <= vals["okta_sync_event_latency_seconds"] < 60, vals
        assert 0 <= vals["okta_sync_events_cursor_age_seconds"] < 120, vals
        pub = epoch(want["published"])
        assert abs(vals["okta_sync_last_event_published_timestamp_seconds"] - pub) < 1.5, (vals, pub)
    run_case(body, org, {"metrics_file": "@TMP@/okta.prom"})


@case
def a_refused_system_log_is_polled_less_and_less():
    """A token that may not read the System Log (Okta answers 403: with
    auth = oauth, a missing okta.logs.read scope) costs a refused request
    at a doubling interval, up to an hour, not one every event_interval;
    once the System Log answers again, polling is back to event_interval."""
    org = small_org(seed=17, nusers=5)

    def body(emu, conf, d, tmp):
        started(emu, d)
        emu.fault("403", path="/api/v1/logs", count=1000)
        d.wait_log(r"the next System Log poll in 4 s")
        log = d.log()
        waits = [int(w) for w in re.findall(r"the next System Log poll in (\d+) s", log)]
        assert waits[:3] == [1, 2, 4], log
        assert "[sync] events = no" in log, log     # the warning says what to do
        emu.clear_faults()
        d.wait_log(r"the System Log answers again; polling every 1 s", timeout=30)
    run_case(body, org)


if __name__ == "__main__":
    main()
