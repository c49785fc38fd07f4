"""test_sanitized_modules - libnss_okta and pam_okta built with ASan+UBSan
(make SAN=1 BUILD=build/san all), loaded into the real getent, id and
pamtester with the ASan runtime preloaded, as glibc and libpam load them.

The other NSS and PAM tests run the ordinary build; this one runs the same
code paths under the sanitizers: lookups by name and ID, a group large
enough for glibc's ERANGE retries, initgroups, enumeration, a torn
snapshot, and pam_okta's account phase.  Any report of AddressSanitizer or
UndefinedBehaviorSanitizer fails it (the runtime aborts the process, and
its report is on stderr).  Leak detection is off: getent and pamtester are
not ours, and glibc keeps what NSS loads until exit.

OKTA_SAN_BUILD names the sanitizer build (default build/san); tests/run.sh
passes it.
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import oktatest  # noqa: E402
from oktatest import ROOT, case, main, run, tmpdir, write_nsswitch  # noqa: E402

SAN = os.environ.get("OKTA_SAN_BUILD") or os.path.join(ROOT, "build", "san")
NSS = os.path.join(SAN, "libnss_okta.so.2")
PAM = os.path.join(SAN, "pam_okta.so")
MKSNAP = os.path.join(SAN, "tests", "mksnap")
SAN_OPTIONS = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:halt_on_error=1",
               "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}

BIG = 400     # members of "big": about 12 KB of names, past glibc's first buffers


def asan_runtime():
    """The ASan runtime the module links (ldd), to preload: it must come
    before every other library of a program that is not built with it."""
    rt = oktatest.asan_runtime(NSS)
    assert rt, "%s does not link the ASan runtime: not a sanitizer build\n%s" % (
        NSS, run(["ldd", NSS]).stdout)
    return rt


def no_sanitizer_report(text):
    for word in ("AddressSanitizer", "runtime error:", "UndefinedBehaviorSanitizer"):
        assert word not in text, text[-4000:]


def snapshot_desc():
    lines = ["meta last_sync=%d generation=1" % int(time.time()),
             "user alice 2000000001 2000000001 ACTIVE Alice%20Okta /home/alice /bin/bash",
             "user bob 2000000002 2000000002 SUSPENDED Bob /home/bob /bin/bash"]
    for i in range(BIG):
        lines.append("user member%03d %d %d ACTIVE - /home/member%03d /bin/bash"
                     % (i, 2000001000 + i, 2000001000 + i, i))
    lines.append("group eng 2000000100 alice,bob")
    lines.append("group big 2000000101 " + ",".join("member%03d" % i for i in range(BIG)) + ",alice")
    return "\n".join(lines) + "\n"


class Env:
    def __init__(self):
        oktatest.need(NSS, PAM, MKSNAP, "pamtester")
        self.preload = asan_runtime()
        self.dir = tmpdir("okta-san-")
        self.cache = os.path.join(self.dir, "cache")
        os.mkdir(self.cache)
        self.snapshot = os.path.join(self.cache, "snapshot.cdb")
        p = run([MKSNAP, self.snapshot], input=snapshot_desc(), env=SAN_OPTIONS)
        assert p.returncode == 0, p.stderr
        self.nsswitch = write_nsswitch(os.path.join(self.dir, "nsswitch.conf"))

    def ns(self, script):
        """script in a namespace with the sanitizer build's NSS module."""
        binds = "mount --bind %s /var/lib/okta-sync && mount --bind %s /etc/nsswitch.conf" % (
            q(self.cache), q(self.nsswitch))
        os.makedirs("/var/lib/okta-sync", exist_ok=True)
        env = dict(SAN_OPTIONS, LD_PRELOAD=self.preload, LD_LIBRARY_PATH=SAN)
        p = run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                 "%s && %s" % (binds, script)], env=env, timeout=120)
        no_sanitizer_report(p.stdout + p.stderr)
        return p

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def q(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


@case
def getent_and_id_through_the_sanitized_module():
    env = Env()
    try:
        # LD_DEBUG shows which libnss_okta glibc loaded: the sanitized one.
        p = env.ns("LD_DEBUG=files getent passwd alice 2>&1 >/dev/null | grep 'file=.*libnss_okta'")
        assert SAN in p.stdout, "glibc did not load %s:\n%s" % (NSS, p.stdout + p.stderr)
        p = env.ns("getent passwd alice; getent passwd 2000000002; getent group eng; "
                   "getent group 2000000101 | tr ',' '\\n' | wc -l; id alice; "
                   "getent passwd | grep -c ':/home/member'; getent group | grep -c '^big:'")
        assert p.returncode == 0, p.stdout + p.stderr
        out = p.stdout.splitlines()
        assert out[0] == "alice:*:2000000001:2000000001:Alice Okta:/home/alice:/bin/bash", out
        assert out[1].startswith("bob:*:2000000002:"), out
        assert out[2] == "eng:*:2000000100:alice,bob", out
        assert out[3] == str(BIG + 1), out
        assert "groups=2000000001,2000000100(eng),2000000101(big)" in out[4], out
        assert out[5] == str(BIG) and out[6] == "1", out
        # Local users keep working, and an unknown name is not found.
        p = env.ns("getent passwd root && ! getent passwd nobody-here")
        assert p.returncode == 0 and p.stdout.startswith("root:x:0:0:"), p.stdout + p.stderr
    finally:
        env.close()


@case
def torn_snapshot_is_refused_without_a_report():
    env = Env()
    try:
        with open(env.snapshot, "rb") as f:
            data = f.read()
        for cut in (len(data) // 2, 2048 + 10, 100):
            torn = os.path.join(env.cache, "torn")
            with open(torn, "wb") as f:
                f.write(data[:cut])
            os.chmod(torn, 0o644)
            os.rename(torn, env.snapshot)
            p = env.ns("getent passwd root; getent passwd alice; echo rc=$?; "
                       "getent group big; id root")
            assert p.stdout.startswith("root:x:0:0:"), p.stdout + p.stderr
            assert "alice:" not in p.stdout and "rc=2" in p.stdout, (cut, p.stdout)
    finally:
        env.close()


@case
def pam_account_phase_through_the_sanitized_module():
    env = Env()
    try:
        pamd = os.path.join(env.dir, "pam.d")
        os.mkdir(pamd)
        with open(os.path.join(pamd, "other"), "w") as f:
            f.write("account required pam_deny.so\n")
        passwd = os.path.join(env.dir, "passwd")
        with open(passwd, "w") as f:
            f.write("root:x:0:0:root:/root:/bin/bash\n")
        with open(os.path.join(pamd, "okta-test"), "w") as f:
            f.write("account [success=ok user_unknown=ignore ignore=ignore default=bad] "
                    "%s snapshot=%s passwd=%s\naccount required pam_permit.so\n"
                    % (PAM, env.snapshot, passwd))
        pam_env = dict(SAN_OPTIONS, LD_PRELOAD="%s libpam_wrapper.so" % env.preload,
                       PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=pamd)
        seen = {}
        for user in ("alice", "bob", "root", "nobody-here"):
            p = run(["pamtester", "okta-test", user, "acct_mgmt"], env=pam_env, timeout=60)
            no_sanitizer_report(p.stdout + p.stderr)
            seen[user] = (p.returncode, p.stdout + p.stderr)
        assert seen["alice"][0] == 0, seen["alice"]
        assert seen["bob"][0] == 1 and "suspended in Okta" in seen["bob"][1], seen["bob"]
        assert seen["root"][0] == 0, seen["root"]
        assert seen["nobody-here"][0] == 0, seen["nobody-here"]
    finally:
        env.close()


if __name__ == "__main__":
    main()
