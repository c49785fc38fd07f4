#!/usr/bin/env python3
"""test_restore.py - `okta-sync restore FILE` (issue 14, part 6, done-when 7).

restore puts a saved snapshot in place the one safe way: a temporary file
next to the live one, checked as the readers will check it, renamed over
it.  The cases:

- while 4 threads look users up through real glibc NSS (build/tests/
  nss_stress --restore, in a private mount namespace), 30 restores replace
  the snapshot: every answer is one whole generation, the readers reach the
  last one, and no reader dies of SIGBUS (which `cp` over the file causes);
- a file the readers would refuse (unknown meta flag, a UID below the
  floor, random bytes, a FIFO, not a snapshot at all) is refused, and the
  live snapshot stays byte for byte, with no temporary file left;
- restore takes the sync lock: while another process holds it, restore
  says who and exits 75, changing nothing; with --wait it waits.
"""
import fcntl
import hashlib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import oktatest  # noqa: E402
from oktatest import case, main, run, ns_run, tmpdir, wait_until  # noqa: E402
from oktaconf import write_config  # noqa: E402

MKSNAP = os.path.join(oktatest.BUILD, "tests", "mksnap")
NSS_STRESS = os.path.join(oktatest.BUILD, "tests", "nss_stress")
UID0 = 2000000000


def q(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


class Env:
    def __init__(self):
        self.dir = tmpdir("okta-restore-")
        self.conf = write_config(self.dir, None, okta={"domain": "dev-1.okta.com"},
                                 token="unused")
        self.cache = os.path.join(self.dir, "cache")
        self.live = os.path.join(self.cache, "snapshot.cdb")

    def mksnap(self, path, lines):
        run([MKSNAP, path], input="\n".join(lines) + "\n", check=True)
        return path

    def restore(self, *args, timeout=60):
        return run([oktatest.OKTA_SYNC, "-c", self.conf, "restore"] + list(args),
                   timeout=timeout)


def good_lines(gen, shell="/bin/bash"):
    return ["meta last_sync=%d generation=%d" % (int(time.time()), gen),
            "user alice %d %d ACTIVE - /home/alice %s" % (UID0 + 1, UID0 + 1, shell),
            "user bob %d %d ACTIVE - /home/bob /bin/sh" % (UID0 + 2, UID0 + 2),
            "group eng %d alice,bob" % (UID0 + 100)]


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@case
def restore_under_four_threads_of_lookups():
    env = Env()
    saved = os.path.join(env.dir, "saved")
    os.mkdir(saved)
    p = ns_run("%s /var/lib/okta-sync/snapshot.cdb 30 --restore %s %s %s" % (
        q(NSS_STRESS), q(oktatest.OKTA_SYNC), q(env.conf), q(saved)), env.cache,
        timeout=300)
    print(p.stdout.strip(), p.stderr.strip())
    # A reader killed by SIGBUS kills the whole process: the shell reports
    # 128+7, and there is no summary line.
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert "threads=4 by=restore" in p.stdout and "errors=0 republished=30 " \
        "last_seen=30" in p.stdout, p.stdout
    # Nothing but the snapshot (and the lock) is left in the cache dir.
    assert sorted(os.listdir(env.cache)) == ["snapshot.cdb", "sync.lock"], \
        os.listdir(env.cache)
    st = os.stat(env.live)
    assert st.st_uid == 0 and st.st_mode & 0o777 == 0o644, oct(st.st_mode)


@case
def restore_replaces_and_says_what():
    env = Env()
    env.mksnap(env.live, good_lines(5))
    backup = env.mksnap(os.path.join(env.dir, "backup.cdb"), good_lines(3, "/bin/zsh"))
    os.chmod(backup, 0o600)
    ino = os.stat(env.live).st_ino
    p = env.restore(backup)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "generation 3" in p.stdout and "2 users, 1 groups" in p.stdout, p.stdout
    assert "replaces generation 5" in p.stdout, p.stdout
    # The bytes are the backup's, in a new inode (renamed, not copied over).
    assert digest(env.live) == digest(backup)
    st = os.stat(env.live)
    assert st.st_ino != ino and st.st_mode & 0o777 == 0o644 and st.st_uid == 0
    # No snapshot yet at all: restore puts one there.
    os.unlink(env.live)
    p = env.restore(backup)
    assert p.returncode == 0 and digest(env.live) == digest(backup), p.stderr


@case
def restore_refuses_what_readers_refuse():
    env = Env()
    env.mksnap(env.live, good_lines(5))
    before = digest(env.live)
    d = env.dir
    flag = env.mksnap(os.path.join(d, "flag.cdb"), ["meta flags=1"] + good_lines(6)[1:])
    low = env.mksnap(os.path.join(d, "low.cdb"), good_lines(7)[:3] + [
        "user mallory 999 %d ACTIVE - /home/m /bin/sh" % (UID0 + 9)] + good_lines(7)[3:])
    sudo = env.mksnap(os.path.join(d, "sudo.cdb"), good_lines(8) + [
        "group wheelish 27 -"])
    gids = env.mksnap(os.path.join(d, "gids.cdb"), good_lines(9) + [
        "gids alice 27,%d" % (UID0 + 100)])
    rnd = os.path.join(d, "random.cdb")
    with open(rnd, "wb") as f:
        f.write(os.urandom(5000))
    with open(env.live, "rb") as f:
        data = f.read()
    trunc = os.path.join(d, "truncated.cdb")
    with open(trunc, "wb") as f:
        f.write(data[:len(data) - 100])
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    cases = [(flag, "not a snapshot this version of okta-sync can read"),
             (low, "1 would not resolve"),
             (sudo, "readable groups"),
             (gids, "the group list of user alice"),
             (rnd, "not a snapshot"),
             (trunc, "not a snapshot"),
             (fifo, "is not a regular file"),
             (os.path.join(d, "missing.cdb"), "No such file"),
             (d, "is not a regular file")]
    for path, why in cases:
        p = env.restore(path, timeout=30)
        assert p.returncode == 1, (path, p.returncode, p.stdout, p.stderr)
        assert why in p.stderr, (path, why, p.stderr)
        assert digest(env.live) == before, path
        assert sorted(os.listdir(env.cache)) in (["snapshot.cdb"],
                                                 ["snapshot.cdb", "sync.lock"]), \
            (path, os.listdir(env.cache))
    p = env.restore()
    assert p.returncode == 2, p.stderr


@case
def restore_takes_the_sync_lock():
    env = Env()
    env.mksnap(env.live, good_lines(5))
    before = digest(env.live)
    backup = env.mksnap(os.path.join(env.dir, "backup.cdb"), good_lines(3))
    # Another process holds the lock, as a running sync would.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys\n"
         "f = open(sys.argv[1], 'a')\n"
         "fcntl.lockf(f, fcntl.LOCK_EX)\n"
         "print('held', flush=True)\n"
         "sys.stdin.readline()\n", os.path.join(env.cache, "sync.lock")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        p = env.restore(backup)
        assert p.returncode == 75, (p.returncode, p.stderr)
        assert "pid %d" % holder.pid in p.stderr, p.stderr
        assert digest(env.live) == before
        # --wait: it waits for the holder, then restores.
        w = subprocess.Popen([oktatest.OKTA_SYNC, "-c", env.conf, "restore", "--wait",
                              backup], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            # Still waiting while the lock is held (it cannot have finished).
            assert w.poll() is None and digest(env.live) == before
            holder.stdin.write("done\n")
            holder.stdin.flush()
            out, err = w.communicate(timeout=30)
        finally:
            if w.poll() is None:
                w.kill()
                w.wait()
        assert w.returncode == 0, (out, err)
        assert digest(env.live) == digest(backup)
    finally:
        holder.kill()
        holder.wait()


if __name__ == "__main__":
    main()
