"""oktatest - the small harness every integration test uses.

A test file defines cases with @case and ends with `main()`.  Each case
prints one "PASS: file: case" or "FAIL: file: case" line (tests/run.sh adds
them up); a failing case also prints its traceback and whatever it logged.
Cases may raise Skip("why") to print "SKIP: ...".

Helpers here are the ones every test needs: where the build is, running a
command with a deadline, polling for a condition with a deadline (never
sleeping for a fixed time), and a private mount namespace runner for real
glibc NSS.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("OKTA_BUILD", os.path.join(ROOT, "build"))
OKTA_SYNC = os.path.join(BUILD, "okta-sync")
OKTA_SYNCD = os.path.join(BUILD, "okta-syncd")

_cases = []


class Skip(Exception):
    """Raise to skip a case, with the reason.  Only for a documented missing
    environment (not root, so no mount namespace or chroot): use
    need_root().  A product or a test dependency that does not work is a
    failure, never a skip (need()); under CI=true tests/run.sh fails a
    run that skipped anything."""


def need_root(what):
    """Skip the case unless running as root (namespaces, chroots)."""
    if os.geteuid() != 0:
        raise Skip("%s needs root" % what)


def need(*things):
    """Fail (never skip) unless each thing is an existing path or a command
    on PATH: make check installs every test dependency
    (scripts/install-deps), so a missing one is a broken setup."""
    import shutil
    for t in things:
        if not t or not (os.path.exists(t) or shutil.which(t)):
            raise AssertionError("%s is missing: run `make` and `scripts/install-deps check`" % t)


def case(fn):
    _cases.append(fn)
    return fn


def main():
    """Run the cases (or those named on the command line).  With
    OKTA_TEST_TIMES set (tests/run.sh sets it), each case's wall-clock
    seconds are appended to that file: "SECONDS TEST CASE"."""
    name = os.path.basename(sys.argv[0])
    only = sys.argv[1:]
    times = os.environ.get("OKTA_TEST_TIMES")
    failed = 0
    for fn in _cases:
        if only and fn.__name__ not in only:
            continue
        started = time.monotonic()
        try:
            fn()
        except Skip as e:
            print("SKIP: %s: %s (%s)" % (name, fn.__name__, e), flush=True)
        except Exception:
            failed += 1
            traceback.print_exc()
            print("FAIL: %s: %s" % (name, fn.__name__), flush=True)
        else:
            print("PASS: %s: %s" % (name, fn.__name__), flush=True)
        if times:
            with open(times, "a") as f:
                f.write("%.3f %s %s\n" % (time.monotonic() - started, name,
                                          fn.__name__))
    sys.exit(1 if failed else 0)


def run(cmd, check=False, timeout=120, env=None, input=None, cwd=None):
    """Run cmd (a list); return CompletedProcess with text stdout/stderr."""
    e = os.environ.copy()
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=e, input=input, cwd=cwd)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d\nstdout:\n%s\nstderr:\n%s"
                             % (cmd, p.returncode, p.stdout, p.stderr))
    return p


def asan_runtime(path):
    """The ASan runtime (libasan) that the ELF file at path links, by ldd:
    what a program not built with it must preload first.  None when path
    is missing or not from a sanitizer build (make SAN=1)."""
    if not os.path.exists(path):
        return None
    m = re.search(r"^\s*libasan\.so\.\d+ => (\S+)", run(["ldd", path]).stdout, re.M)
    return m.group(1) if m else None


def wait_until(pred, timeout=10.0, interval=0.02, what="condition"):
    """Poll pred() until it returns a true value; fail after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def tmpdir(prefix="okta-test-"):
    """A fresh temporary directory (under /tmp), removed by the caller or left for post-mortem."""
    return tempfile.mkdtemp(prefix=prefix)


def ns_run(script, cache_dir, nsswitch=None, extra_binds=(), timeout=120, env=None):
    """Run shell `script` in a private mount namespace where cache_dir is
    bind-mounted at /var/lib/okta-sync and (when given) the nsswitch.conf
    file over /etc/nsswitch.conf, with LD_LIBRARY_PATH at the build, so that
    real glibc tools load build/libnss_okta.so.2.  extra_binds: (src, dst)
    pairs.  Returns CompletedProcess."""
    os.makedirs("/var/lib/okta-sync", exist_ok=True)
    binds = [(cache_dir, "/var/lib/okta-sync")]
    if nsswitch:
        binds.append((nsswitch, "/etc/nsswitch.conf"))
    binds.extend(extra_binds)
    pre = " && ".join("mount --bind %s %s" % (_q(s), _q(d)) for s, d in binds)
    full = "%s && export LD_LIBRARY_PATH=%s && %s" % (pre, _q(BUILD), script)
    return run(["unshare", "-m", "--propagation", "private", "sh", "-c", full],
               timeout=timeout, env=env)


def write_nsswitch(path, passwd="files okta", group="files okta"):
    with open(path, "w") as f:
        f.write("passwd: %s\ngroup: %s\nshadow: files\nhosts: files\n" % (passwd, group))
    return path


def _q(s):
    return "'" + str(s).replace("'", "'\\''") + "'"
