#!/usr/bin/env python3
"""bench_events.py - revocation latency through Okta's System Log, and
the requests okta-syncd makes while nothing happens (issue 15,
"Performance").

okta-syncd runs against the emulator (10,000 users) with `[sync] events =
yes` and a schedule twelve hours away, so only the event follower can
bring a change.  Measured, in one run:
  - latency, event_interval = 5 s: from just before a user is suspended
    in the emulator to pam_okta refusing them (build/tests/pam_loop, the
    account phase through libpam, polled every 50 ms), over 20 suspensions
    of different users.  Between two suspensions the bench waits a random
    0-5 s, so that the suspensions fall at random points of the poll cycle
    (right after a publish they would all wait a whole interval).
  - Okta requests per idle minute: every API request the emulator gets
    while nothing happens: over 60 s at the default event_interval = 30 s,
    and over 30 s (times two) at 5 s, to keep the bench under 5 minutes.
Targets (issue 15), with the default event_interval = 30 s: maximum
latency <= 60 s; requests per idle minute <= 3.  The latency is measured at
5 s; at 30 s a suspension waits at most one interval longer, so the bench
prints the bound max(5 s) + 25 s next to the target.
"""
import datetime
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

from emulator import Emulator  # noqa: E402
from oktaconf import write_config  # noqa: E402
from orgdata import make_org  # noqa: E402

BUILD = os.environ.get("OKTA_BUILD", os.path.join(ROOT, "build"))
SYNCD = os.path.join(BUILD, "okta-syncd")
MODULE = os.path.join(BUILD, "pam_okta.so")
PAM_LOOP = os.path.join(BUILD, "tests", "pam_loop")
ORG = {"nusers": 10000, "ngroups": 50, "seed": 15, "statuses": False}
SUSPENSIONS = 20
BENCH_INTERVAL = 5
DEFAULT_INTERVAL = 30
IDLE_SECONDS = 60
TARGET_MAX = 60.0
TARGET_IDLE = 3
STACK = "account [success=ok user_unknown=ignore ignore=ignore default=bad] %s %s\n" \
        "account required pam_permit.so\n"


def die(msg, d=None):
    if d is not None:
        msg += "\nokta-syncd log (tail):\n" + d.log()[-3000:]
    sys.exit("bench_events: " + msg)


def wait_for(pred, timeout, what, d=None, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if d is not None and d.proc.poll() is not None:
            die("okta-syncd exited %s while waiting for %s" % (d.proc.returncode, what), d)
        if time.monotonic() > deadline:
            die("timed out after %d s waiting for %s" % (timeout, what), d)
        time.sleep(interval)


class Daemon:
    def __init__(self, conf, log_path):
        self.log_path = log_path
        self.log_file = open(log_path, "w")
        env = dict(os.environ, TZ="UTC")
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "OKTA_SYNCD_TEST_INTERVAL"):
            env.pop(k, None)
        self.proc = subprocess.Popen([SYNCD, "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT, env=env)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log_file.close()


def config(tmp, emu, interval):
    h = (datetime.datetime.now(datetime.timezone.utc).hour + 12) % 24
    return write_config(tmp, emu, sync={"schedule": "0 %d * * *" % h,
                                        "full_sync_schedule": "30 %d * * *" % h,
                                        "events": "yes",
                                        "event_interval": "%ds" % interval})


def log_polls(emu):
    return sum(1 for r in emu.requests() if r[1].split("?")[0] == "/api/v1/logs")


def settle(emu, d, first, npolls):
    """Wait for the start-up sync, then for npolls System Log polls after
    it (with 2, the first one's batch, whatever the start-up window held,
    is handled)."""
    wait_for(lambda: re.search(r"sync ok \(", d.log()), 600, "the start-up sync", d)
    if first:
        m = re.search(r"sync ok .*", d.log())
        print("start-up sync: %s" % m.group(0))
    emu.reset_requests()
    wait_for(lambda: log_polls(emu) >= npolls, 3 * 60, "%d System Log polls" % npolls, d)


def pam_denied(pamd, user):
    p = subprocess.run([PAM_LOOP, pamd, "okta-bench", "1", user], capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        die("pam_loop failed: %s%s" % (p.stdout, p.stderr))
    if "1 x Success" in p.stdout:
        return False
    if "1 x Permission denied" in p.stdout:
        return True
    die("pam_loop said: %r" % p.stdout)


def idle_minute(emu, d, label, seconds):
    """Requests per minute over `seconds` of nothing happening."""
    emu.reset_requests()
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        if d.proc.poll() is not None:
            die("okta-syncd exited during the idle minute", d)
        time.sleep(0.5)
    reqs = emu.requests()
    kinds = {}
    for r in reqs:
        k = r[1].split("?")[0]
        kinds[k] = kinds.get(k, 0) + 1
    print("idle %d s, %s: %d requests %s" % (seconds, label, len(reqs), kinds))
    return len(reqs) * 60.0 / seconds


def main():
    if os.geteuid() != 0:
        print("bench_events: SKIP (needs root: the snapshot must be root's to be trusted)")
        return 0
    for f in (SYNCD, MODULE, PAM_LOOP):
        if not os.path.exists(f):
            die("%s is missing: run make" % f)
    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="okta-bench-events-")
    rng = random.Random(15)
    org = make_org(**ORG)
    logins = [u["profile"]["login"] for u in org["users"] if u["status"] == "ACTIVE"]
    victims = rng.sample(logins, SUSPENSIONS)
    d = None
    try:
        with Emulator(generate=ORG) as emu:
            conf = config(tmp, emu, BENCH_INTERVAL)
            snap = os.path.join(tmp, "cache", "snapshot.cdb")
            pamd = os.path.join(tmp, "pam.d")
            os.mkdir(pamd)
            with open(os.path.join(pamd, "okta-bench"), "w") as f:
                f.write(STACK % (MODULE, "snapshot=%s passwd=/etc/passwd" % snap))
            d = Daemon(conf, os.path.join(tmp, "syncd-5s.log"))
            settle(emu, d, True, 2)
            print("setup (emulator, start-up sync, first polls): %.1f s" % (time.monotonic() - t_start))

            idle5 = idle_minute(emu, d, "event_interval %d s" % BENCH_INTERVAL, IDLE_SECONDS // 2)

            lat = []
            for login in victims:
                user = login.split("@")[0].lower()
                if pam_denied(pamd, user):
                    die("%s is refused before the suspension" % user)
                time.sleep(rng.uniform(0, BENCH_INTERVAL))
                t0 = time.monotonic()
                emu.set_status(login, "SUSPENDED")
                wait_for(lambda: pam_denied(pamd, user), 120, "pam_okta to refuse %s" % user, d)
                lat.append(time.monotonic() - t0)
            syncs = len(re.findall(r"sync ok \(", d.log()))
            if syncs != 1:
                print("NOTE: %d scheduled syncs ran (only the start-up one was expected)" % syncs)
            d.stop()

            conf = config(tmp, emu, DEFAULT_INTERVAL)
            d = Daemon(conf, os.path.join(tmp, "syncd-30s.log"))
            settle(emu, d, False, 1)
            idle30 = idle_minute(emu, d, "event_interval %d s (default)" % DEFAULT_INTERVAL,
                                 IDLE_SECONDS)
            d.stop()
            d = None
    finally:
        if d is not None:
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    med, mx = statistics.median(lat), max(lat)
    print("\nrevocation latency, suspend in Okta -> pam_okta refuses (%d users, %d suspensions, "
          "event_interval %d s):" % (ORG["nusers"], SUSPENSIONS, BENCH_INTERVAL))
    print("  median %.2f s   max %.2f s   min %.2f s" % (med, mx, min(lat)))
    bound = mx + DEFAULT_INTERVAL - BENCH_INTERVAL
    print("\n  %-38s %12s %12s" % ("", "measured", "target"))
    print("  %-38s %12s %12s" % ("max latency at %d s interval" % DEFAULT_INTERVAL,
                                 "<= %.1f s" % bound, "<= %.0f s" % TARGET_MAX))
    print("  %-38s %12.1f %12s" % ("requests per idle minute at %d s" % DEFAULT_INTERVAL,
                                   idle30, "<= %d" % TARGET_IDLE))
    print("  %-38s %12.1f %12s" % ("requests per idle minute at %d s" % BENCH_INTERVAL,
                                   idle5, "-"))
    ok = bound <= TARGET_MAX and idle30 <= TARGET_IDLE
    print("\ntargets: %s (bench time %.0f s)" % ("met" if ok else "NOT met",
                                                 time.monotonic() - t_start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
