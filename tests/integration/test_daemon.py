"""okta-syncd: systemd notify (READY, STATUS, WATCHDOG, STOPPING) to a test
NOTIFY_SOCKET, a bad schedule refused at start, SIGHUP with a bad config
keeps the old one, SIGTERM stops cleanly (also in the middle of a sync),
syncs on schedule, retries with back-off while Okta is unreachable, and
the Prometheus textfile.  The full-sync schedule case shifts the daemon's wall
clock with libfaketime to just before a minute instead of waiting for one.

The daemon runs with --interval (a sync every N seconds: a cron schedule
cannot fire more often than once a minute).  The cases that need a working
sync engine check first that `okta-sync sync` works against the emulator,
and SKIP (saying so) until it does: until then only the schedule, notify
and signal parts are tested.
"""
import fcntl
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import oktatest  # noqa: E402
from oktatest import BUILD, OKTA_SYNC, OKTA_SYNCD, case, main, run, tmpdir, wait_until  # noqa: E402
from oktaconf import write_config  # noqa: E402
from emulator import Emulator, make_org  # noqa: E402

_emu = None
_engine = None


def emu():
    """One emulator for the whole file (started on first use)."""
    global _emu
    if _emu is None:
        _emu = Emulator(make_org(nusers=200, ngroups=10, seed=5))
    return _emu


FAKE_TOKEN = "00abcdefTOKEN"


def secrets_in_use():
    """The tokens the cases hand to okta-syncd."""
    return [FAKE_TOKEN] + ([_emu.token] if _emu is not None else [])


def need_daemon():
    p = run([OKTA_SYNCD, "--version"])
    if p.returncode != 0:
        raise AssertionError("okta-syncd --version failed: %s" % p.stderr.strip())


def need_engine():
    """Fail unless `okta-sync sync` works against the emulator: every case
    here needs a working sync, and a broken one is a failure."""
    global _engine
    need_daemon()
    if _engine is None:
        t = tmpdir("okta-daemon-probe-")
        conf = write_config(t, emu())
        p = run([OKTA_SYNC, "-c", conf, "sync"], timeout=120)
        _engine = (p.returncode == 0, (p.stderr or p.stdout).strip()[-300:])
        shutil.rmtree(t, ignore_errors=True)
    if not _engine[0]:
        raise AssertionError("`okta-sync sync` failed against the emulator: %s" % _engine[1])


class Daemon:
    """okta-syncd with a test NOTIFY_SOCKET and a watchdog.  WATCHDOG_PID
    must be the daemon's own pid, so a shell exports its $$ and then execs
    the daemon in its place."""

    def __init__(self, conf, interval=2, watchdog_usec=1000000, args=(), env=None):
        self.dir = tmpdir("okta-syncd-")
        self.sock_path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(0.1)
        # Read the socket all the time, as systemd does: a full socket
        # queue would block the daemon's sd_notify.
        self.msgs = []
        self.lock = threading.Lock()
        self.closing = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.log_path = os.path.join(self.dir, "okta-syncd.log")
        e = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "OKTA_SYNCD_TEST_INTERVAL"):
            e.pop(k, None)
        e.update({"NOTIFY_SOCKET": self.sock_path, "TZ": "UTC"})
        if watchdog_usec:
            e["WATCHDOG_USEC"] = str(watchdog_usec)
        if env:
            e.update(env)
        cmd = [OKTA_SYNCD, "-c", conf] + list(args)
        if interval:
            cmd += ["--interval", str(interval)]
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["sh", "-c", 'export WATCHDOG_PID=$$; exec "$0" "$@"'] + cmd,
            stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT, env=e)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        self.stop()
        if exc_type is None:
            self.assert_no_secret_logged()
        return False

    def assert_no_secret_logged(self):
        """Rule 7: the daemon's log (what journald would keep) never holds
        the API token, whatever happened during the case."""
        log = self.log()
        for secret in secrets_in_use():
            assert secret not in log, "okta-syncd logged the API token:\n" + log

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log_file.close()
        self.closing = True
        self.reader.join(5)
        self.sock.close()

    def _read(self):
        while not self.closing:
            try:
                m = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.msgs.append(m)

    def messages(self):
        """Every datagram received so far, one string each."""
        with self.lock:
            return list(self.msgs)

    def count(self, line):
        """How many datagrams carried `line` (e.g. "WATCHDOG=1")."""
        return sum(1 for m in self.messages() if line in m.split("\n"))

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def wait_log(self, pattern, timeout=30, count=1):
        """Wait until `pattern` (a regex) matched `count` log lines."""
        def found():
            hits = re.findall(pattern, self.log())
            if not self.alive() and len(hits) < count:
                raise AssertionError("okta-syncd exited %s:\n%s" % (self.proc.returncode, self.log()))
            return hits if len(hits) >= count else None
        try:
            return wait_until(found, timeout=timeout, what="log %r x%d" % (pattern, count))
        except AssertionError as e:
            raise AssertionError("%s\nlog:\n%s" % (e, self.log())) from None

    def wait_exit(self, timeout=20):
        wait_until(lambda: self.proc.poll() is not None, timeout=timeout,
                   what="okta-syncd to exit")
        return self.proc.returncode

    def generations(self):
        return [int(g) for g in re.findall(r"sync ok .*snapshot generation (\d+)", self.log())]


def config(sync=None, okta=None, with_emu=True):
    t = tmpdir("okta-daemon-")
    s = {"schedule": "* * * * *", "full_sync_schedule": "0 3 * * *"}
    s.update(sync or {})
    if with_emu:
        return t, write_config(t, emu(), sync=s, okta=okta)
    return t, write_config(t, None, sync=s, token=FAKE_TOKEN,
                           okta=dict({"domain": "localhost:1"}, **(okta or {})))


@case
def ready_status_and_watchdog():
    """READY=1 after start-up, a STATUS= line, and WATCHDOG=1 again and
    again (every WATCHDOG_USEC/2), also while syncs fail or run."""
    need_daemon()
    t, conf = config(with_emu=False)
    with Daemon(conf, interval=3600, watchdog_usec=1000000) as d:
        wait_until(lambda: d.count("READY=1") >= 1, what="READY=1")
        # STATUS= may come in a datagram of its own after READY=1.
        wait_until(lambda: any(m.startswith("STATUS=") or "\nSTATUS=" in m
                               for m in d.messages()), what="a STATUS= line")
        wait_until(lambda: d.count("WATCHDOG=1") >= 4, timeout=15, what="4 x WATCHDOG=1")
        assert d.alive(), d.log()
        st = [m for m in d.messages() if "STATUS=" in m]
        assert any("sync" in m.lower() for m in st), st


@case
def no_watchdog_pings_without_watchdog_usec():
    need_daemon()
    t, conf = config(with_emu=False)
    with Daemon(conf, interval=3600, watchdog_usec=None) as d:
        wait_until(lambda: d.count("READY=1") >= 1, what="READY=1")
        d.proc.send_signal(signal.SIGTERM)
        assert d.wait_exit() == 0, d.log()
        assert d.count("WATCHDOG=1") == 0, d.messages()


@case
def bad_schedule_is_a_clear_error_at_start():
    need_daemon()
    t, conf = config(sync={"schedule": "0 24 * * *"}, with_emu=False)
    p = run([OKTA_SYNCD, "-c", conf], timeout=30)
    assert p.returncode == 78, (p.returncode, p.stderr)
    assert "field 2 (hour): 24 is out of range 0-23" in p.stderr, p.stderr


@case
def no_schedule_is_a_clear_error_at_start():
    need_daemon()
    t, conf = config(sync={"schedule": None, "full_sync_schedule": None}, with_emu=False)
    p = run([OKTA_SYNCD, "-c", conf], timeout=30)
    assert p.returncode == 78, (p.returncode, p.stderr)
    assert "nothing to do" in p.stderr, p.stderr


@case
def sigterm_exits_0_promptly_with_stopping():
    need_daemon()
    t, conf = config(with_emu=False)
    with Daemon(conf, interval=3600) as d:
        wait_until(lambda: d.count("READY=1") >= 1, what="READY=1")
        d.proc.send_signal(signal.SIGTERM)
        assert d.wait_exit(timeout=10) == 0, d.log()
        assert d.count("STOPPING=1") == 1, d.messages()


@case
def sighup_with_bad_config_keeps_running():
    need_daemon()
    t, conf = config(with_emu=False)
    good = open(conf).read()
    with Daemon(conf, interval=3600) as d:
        wait_until(lambda: d.count("READY=1") >= 1, what="READY=1")
        with open(conf, "w") as f:
            f.write(good.replace("schedule = * * * * *", "schedule = 61 * * * *"))
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log(r"keeping the running one")
        d.wait_log(r"61 is out of range 0-59")
        assert d.alive(), d.log()
        # It still answers systemd and the watchdog after the failed reload.
        wait_until(lambda: d.count("READY=1") >= 2, what="READY=1 after the reload")
        n = d.count("WATCHDOG=1")
        wait_until(lambda: d.count("WATCHDOG=1") >= n + 2, what="more WATCHDOG=1")
        # A good config is taken.
        with open(conf, "w") as f:
            f.write(good)
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log(r"reloaded the configuration")
        d.proc.send_signal(signal.SIGTERM)
        assert d.wait_exit() == 0, d.log()


@case
def sighup_with_unreadable_config_keeps_running():
    need_daemon()
    t, conf = config(with_emu=False)
    with Daemon(conf, interval=3600) as d:
        wait_until(lambda: d.count("READY=1") >= 1, what="READY=1")
        os.rename(conf, conf + ".moved")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log(r"keeping the running one")
        assert d.alive(), d.log()
        d.proc.send_signal(signal.SIGTERM)
        assert d.wait_exit() == 0, d.log()


@case
def syncs_on_schedule():
    """With a 1-second interval, the daemon syncs again and again: one log
    line per sync with its counts, the snapshot's generation increases,
    and STATUS says when the last sync was."""
    need_engine()
    t, conf = config()
    snap = os.path.join(t, "cache", "snapshot.cdb")
    with Daemon(conf, interval=1) as d:
        wait_until(lambda: d.count("READY=1") >= 1, what="READY=1")
        d.wait_log(r"sync ok \(incremental\)", count=3, timeout=60)
        gens = d.generations()
        assert gens == sorted(gens) and gens[-1] > gens[0], (gens, d.log())
        assert os.path.exists(snap)
        line = re.search(r"sync ok \(incremental\): users \+\d+ .*requests", d.log())
        assert line, d.log()
        wait_until(lambda: any("Last sync ok" in m for m in d.messages()),
                   what="STATUS=Last sync ok")
        d.proc.send_signal(signal.SIGTERM)
        assert d.wait_exit() == 0, d.log()


@case
def metrics_file_is_written():
    need_engine()
    t, conf = config(sync={"metrics_file": os.path.join(tmpdir(), "okta_sync.prom")})
    prom = [ln.split("=", 1)[1].strip() for ln in open(conf) if ln.startswith("metrics_file")][0]
    with Daemon(conf, interval=3600) as d:
        d.wait_log(r"sync ok")
        wait_until(lambda: os.path.exists(prom), what="the metrics file")
        text = open(prom).read()
        for name in ("okta_sync_last_success_timestamp_seconds", "okta_sync_last_duration_seconds",
                     'okta_sync_users{state="added"}', "okta_sync_errors_total 0"):
            assert name in text, text
        ts = float(re.search(r"^okta_sync_last_success_timestamp_seconds (\S+)$", text, re.M).group(1))
        assert abs(ts - time.time()) < 600, text
        assert not [f for f in os.listdir(os.path.dirname(prom)) if f.endswith(".tmp")]
        d.proc.send_signal(signal.SIGTERM)
        assert d.wait_exit() == 0, d.log()


LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def clock_before_minute(seconds):
    """The environment that starts okta-syncd's wall clock `seconds` before
    the next full minute, with libfaketime (Debian's libfaketime): a cron
    schedule fires at most once a minute, and waiting for the real minute
    costs up to 60 s a run.  Only CLOCK_REALTIME moves (the daemon sleeps
    on CLOCK_MONOTONIC, and file times stay true); the offset is under a
    minute, so the emulator's certificate stays valid.  The ASan build must
    be told that its runtime is not the first library (preloading it first,
    as ASan would like, deadlocks libfaketime's start)."""
    oktatest.need(LIBFAKETIME)
    offset = (60 - seconds - time.time() % 60) % 60
    env = {"LD_PRELOAD": LIBFAKETIME, "FAKETIME": "+%.3f" % offset,
           "DONT_FAKE_MONOTONIC": "1", "NO_FAKE_STAT": "1"}
    if oktatest.asan_runtime(OKTA_SYNCD):
        env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    return env


@case
def full_sync_schedule_runs_full_syncs():
    """full_sync_schedule = * * * * *: at the next minute a full sync runs
    (after the start-up sync, which is incremental).  The daemon's clock
    starts 8 s before a minute."""
    need_engine()
    t, conf = config(sync={"full_sync_schedule": "* * * * *"})
    with Daemon(conf, interval=3600, env=clock_before_minute(8)) as d:
        d.wait_log(r"sync ok \(incremental\)")
        d.wait_log(r"sync ok \(full\)", timeout=90)
        d.proc.send_signal(signal.SIGTERM)
        assert d.wait_exit() == 0, d.log()


@case
def held_lock_skips_the_sync():
    """Only one sync at a time: while another process holds the sync lock
    the daemon says so and skips, and syncs again once it is free."""
    need_engine()
    t, conf = config()
    lock = os.path.join(t, "cache", "sync.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        with Daemon(conf, interval=1) as d:
            d.wait_log(r"skipped: another sync is running", count=2)
            assert "sync ok" not in d.log(), d.log()
            fcntl.lockf(fd, fcntl.LOCK_UN)
            d.wait_log(r"sync ok")
            d.proc.send_signal(signal.SIGTERM)
            assert d.wait_exit() == 0, d.log()
    finally:
        os.close(fd)


def first_sync(conf):
    """Run the daemon until its start-up sync succeeded; stop it."""
    with Daemon(conf, interval=3600) as d:
        d.wait_log(r"sync ok")
        d.proc.send_signal(signal.SIGTERM)
        assert d.wait_exit() == 0, d.log()


@case
def okta_unreachable_backs_off_and_keeps_the_snapshot():
    """After a good sync, Okta becomes unreachable (the domain now points at
    a closed port): the old snapshot stays, and the failed sync is retried
    after 1, 2, 4 s instead of at the next scheduled time (an hour away)."""
    need_engine()
    t, conf = config()
    snap = os.path.join(t, "cache", "snapshot.cdb")
    first_sync(conf)
    before = open(snap, "rb").read()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    text = open(conf).read()
    with open(conf, "w") as f:
        f.write(re.sub(r"domain = .*", "domain = localhost:%d" % port, text))
    with Daemon(conf, interval=3600) as d:
        d.wait_log(r"retrying in 1 s")
        d.wait_log(r"retrying in 2 s", timeout=30)
        d.wait_log(r"retrying in 4 s", timeout=30)
        assert d.alive()
        assert open(snap, "rb").read() == before
        wait_until(lambda: any("Last sync failed" in m for m in d.messages()),
                   what="STATUS=Last sync failed")
        d.proc.send_signal(signal.SIGTERM)
        assert d.wait_exit() == 0, d.log()


@case
def sigterm_during_sync_leaves_cache_consistent():
    """SIGTERM while a sync waits for a slow Okta: exit 0 with STOPPING=1,
    cache.db passes integrity_check, and the snapshot is the old one or a
    complete new one."""
    need_engine()
    t, conf = config()
    cache = os.path.join(t, "cache")
    snap = os.path.join(cache, "snapshot.cdb")
    first_sync(conf)
    before = open(snap, "rb").read()
    # A change, so that a sync that completes publishes a different snapshot.
    emu().add_user("late.arrival@example.com", firstName="Late", lastName="Arrival")
    emu().fault("slow", path="/api/v1/", count=3, delay=4)
    try:
        with Daemon(conf, interval=3600) as d:
            # The start-up sync is under way, held up by the slow answers.
            wait_until(lambda: any("STATUS=Syncing" in m for m in d.messages()),
                       what="STATUS=Syncing")
            # The watchdog goes on during a long sync.
            n = d.count("WATCHDOG=1")
            wait_until(lambda: d.count("WATCHDOG=1") >= n + 2,
                       what="WATCHDOG=1 during the sync")
            d.proc.send_signal(signal.SIGTERM)
            assert d.wait_exit(timeout=60) == 0, d.log()
            assert d.count("STOPPING=1") == 1, d.messages()
            log = d.log()
    finally:
        emu().clear_faults()
    db = sqlite3.connect(os.path.join(cache, "cache.db"))
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    after = open(snap, "rb").read()
    if after != before:
        # The sync finished before the signal took effect: then the log
        # says so, and the new snapshot is whole (the real reader, which
        # refuses a torn or corrupt file, reads every record of it).
        assert "sync ok" in log, log
        p = run([os.path.join(BUILD, "tests", "snapdump"), snap])
        assert p.returncode == 0, p.stderr
    else:
        assert "sync ok" not in log, log


if __name__ == "__main__":
    try:
        main()
    finally:
        if _emu is not None:
            _emu.stop()
