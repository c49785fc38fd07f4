#!/usr/bin/env python3
"""test_nscd.py - a removed Okta user and nscd (issue 14, part 1;
Done-when 1).

A private nscd runs inside a mount namespace (/var/run/nscd and
/var/cache/nscd are scratch directories there, /etc/nscd.conf a test copy
of Debian's stock file), with real glibc NSS (files okta) and the real
Debian /etc/pam.d (copied) whose common-account carries the `okta`
pam-auth-update profile line where pam-auth-update puts it.  The namespace
lives for the whole case (a shell reading commands), so that okta-sync
can sync from outside while nscd keeps its cache.

  - With passwd caching on (the stock nscd.conf), alice, looked up once,
    still resolves from nscd after she is deleted in Okta and synced away;
    pam_unix then accepts her, and only pam_okta's tombstone check denies
    her.  `okta-sync status` warns that nscd caches users.
  - With the nscd.conf the package's postinst makes, `getent passwd alice`
    fails within 2 s of the publish, and status has no nscd warning.
  - The package's scripts: postinst turns passwd and group caching off and
    leaves everything else; purge puts the file back byte for byte.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sync_common as sc  # noqa: E402
from sync_common import oktatest  # noqa: E402
from oktatest import case, main, tmpdir, wait_until, write_nsswitch  # noqa: E402
from emulator import Emulator  # noqa: E402

MODULE = os.path.join(oktatest.BUILD, "pam_okta.so")
PROFILE_LINE = "account\t[success=ok user_unknown=ignore ignore=ignore default=bad]\t%s\n"
POSTINST = os.path.join(oktatest.ROOT, "packaging", "debian", "postinst")
POSTRM = os.path.join(oktatest.ROOT, "packaging", "debian", "postrm")
NSCD = "/usr/sbin/nscd"

# Debian 12's stock /etc/nscd.conf, in the parts that matter here (the
# installed file is used when it is there; this is the fallback).
STOCK_NSCD_CONF = """#
# /etc/nscd.conf
#
#	logfile			/var/log/nscd.log
#	threads			4
#	server-user		nobody
	debug-level		0
	paranoia		no

	enable-cache		passwd		yes
	positive-time-to-live	passwd		600
	negative-time-to-live	passwd		20
	check-files		passwd		yes
	persistent		passwd		yes
	shared			passwd		yes

	enable-cache		group		yes
	positive-time-to-live	group		3600
	negative-time-to-live	group		60
	check-files		group		yes
	persistent		group		yes
	shared			group		yes

	enable-cache		hosts		yes
	positive-time-to-live	hosts		3600
	negative-time-to-live	hosts		20
"""


def q(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


def stock_nscd_conf():
    if os.path.exists("/etc/nscd.conf"):
        with open("/etc/nscd.conf") as f:
            text = f.read()
        if "enable-cache\t\tpasswd\t\tyes" in text:
            return text
    return STOCK_NSCD_CONF


def restricted_path(tmp):
    """A PATH with the tools the maintainer scripts use and nothing else:
    no pam-auth-update (it would rewrite the real /var/lib/pam state) and
    no invoke-rc.d (the test restarts its own nscd)."""
    d = os.path.join(tmp, "bin")
    os.makedirs(d, exist_ok=True)
    for tool in ("sh", "grep", "sed", "cp", "mv", "mktemp", "mkdir", "cmp", "cat", "rm"):
        src = shutil.which(tool)
        assert src, tool
        if not os.path.exists(os.path.join(d, tool)):
            os.symlink(src, os.path.join(d, tool))
    return d


class NsShell:
    """A shell in a private mount namespace, alive until close(): binds
    (src, dst) pairs, then runs each command given to run() and returns
    (exit status, output)."""

    END = "__okta_nscd_end__"

    def __init__(self, binds):
        os.makedirs("/var/lib/okta-sync", exist_ok=True)
        pre = " && ".join("mount --bind %s %s" % (q(s), q(d)) for s, d in binds)
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             "%s && export LD_LIBRARY_PATH=%s && exec sh" % (pre, q(oktatest.BUILD))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)

    def run(self, cmd):
        self.proc.stdin.write("( %s\n) 2>&1; echo \"%s $?\"\n" % (cmd, self.END))
        self.proc.stdin.flush()
        out = []
        while True:
            line = self.proc.stdout.readline()
            if line == "":
                raise AssertionError("the namespace shell ended:\n" + "".join(out))
            if line.startswith(self.END + " "):
                return int(line.split()[1]), "".join(out)
            out.append(line)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(10)


class Host:
    """The emulator with alice and bob, a config whose local files are the
    host's own, and the namespace with nscd (nscd_conf: its text)."""

    def __init__(self, emu, tmp, nscd_conf):
        self.tmp = tmp
        self.emu = emu
        emu.add_user("alice@example.com")
        emu.add_user("bob@example.com")
        self.conf = sc.write_config(tmp, emu, sync={"max_delete": "none"}, posix={
            "local_passwd": "/etc/passwd", "local_group": "/etc/group"})
        self.cache = sc.cache_dir(self.conf)
        nss = write_nsswitch(os.path.join(tmp, "nsswitch.conf"))
        pamd = os.path.join(tmp, "pam.d")
        shutil.copytree("/etc/pam.d", pamd, symlinks=True)
        ca = os.path.join(pamd, "common-account")
        with open(ca) as f:
            text = f.read()
        assert "# end of pam-auth-update config" in text, text
        with open(ca, "w") as f:
            f.write(text.replace("# end of pam-auth-update config",
                                 PROFILE_LINE % MODULE + "# end of pam-auth-update config"))
        with open(os.path.join(pamd, "okta-nscd"), "w") as f:
            f.write("@include common-account\n")
        self.nscd_conf = os.path.join(tmp, "nscd.conf")
        with open(self.nscd_conf, "w") as f:
            f.write(nscd_conf)
        run_dir = os.path.join(tmp, "run-nscd")
        cache_dir = os.path.join(tmp, "cache-nscd")
        os.makedirs(run_dir)
        os.makedirs(cache_dir)
        for d in ("/var/run/nscd", "/var/cache/nscd"):
            os.makedirs(d, exist_ok=True)
        self.sh = NsShell([(self.cache, "/var/lib/okta-sync"), (nss, "/etc/nsswitch.conf"),
                           (pamd, "/etc/pam.d"), (self.nscd_conf, "/etc/nscd.conf"),
                           (run_dir, "/var/run/nscd"), (cache_dir, "/var/cache/nscd")])
        self.nscd_started = False

    def start_nscd(self):
        rc, out = self.sh.run("%s -f /etc/nscd.conf" % NSCD)
        assert rc == 0, "nscd did not start: " + out
        self.nscd_started = True
        wait_until(lambda: self.sh.run("test -S /var/run/nscd/socket")[0] == 0,
                   timeout=10, what="nscd's socket")

    def sync(self):
        p = sc.okta_sync(self.conf)
        assert p.returncode == 0, (p.stdout[-3000:], p.stderr[-3000:])

    def getent(self, name):
        return self.sh.run("getent passwd %s" % name)

    def status(self):
        return self.sh.run("%s -c %s status" % (q(oktatest.OKTA_SYNC), q(self.conf)))

    def close(self):
        try:
            if self.nscd_started:
                self.sh.run("kill $(cat /var/run/nscd/nscd.pid)")
                wait_until(lambda: self.sh.run(
                    "kill -0 $(cat /var/run/nscd/nscd.pid 2>/dev/null) 2>/dev/null")[0] != 0,
                    timeout=10, what="nscd to stop")
        finally:
            self.sh.close()


@case
def nscd_cached_user_is_denied_by_the_debian_stack():
    oktatest.need_root("mount namespaces")
    oktatest.need(NSCD, "pamtester", MODULE)
    tmp = tmpdir("okta-nscd-")
    with Emulator() as emu:
        h = Host(emu, tmp, stock_nscd_conf())
        try:
            h.sync()
            h.start_nscd()
            rc, out = h.getent("alice")
            assert rc == 0 and out.startswith("alice:*:"), out
            rc, out = h.sh.run("pamtester okta-nscd alice acct_mgmt")
            assert rc == 0, "an active alice is refused before anything happened: " + out
            emu.delete_user("alice@example.com")
            h.sync()
            # The hole: nscd still answers for alice (her entry is fresh in
            # its cache), so pam_unix lets her through.
            rc, out = h.getent("alice")
            assert rc == 0 and out.startswith("alice:*:"), \
                "nscd no longer caches alice; the test shows nothing: " + out
            rc, out = h.sh.run("pamtester okta-nscd alice acct_mgmt")
            assert rc == 1, "alice, removed from Okta, got through the account stack:\n" + out
            assert "Your Okta account no longer grants access to this host." in out, out
            assert "pamtester: User account has expired" in out, out
            # Local users and the remaining Okta user are unaffected.
            for user in ("root", "bob"):
                rc, out = h.sh.run("pamtester okta-nscd %s acct_mgmt" % user)
                assert rc == 0, (user, out)
            rc, out = h.status()
            assert rc == 0, out
            assert "WARNING: nscd is running and caches passwd and group" in out, out
        finally:
            h.close()
    shutil.rmtree(tmp, ignore_errors=True)


@case
def package_nscd_conf_makes_a_removed_user_vanish_within_2s():
    oktatest.need_root("mount namespaces")
    oktatest.need(NSCD, "pamtester", MODULE)
    tmp = tmpdir("okta-nscd-pkg-")
    # The package's own postinst makes the namespace's nscd.conf.
    conf = package_nscd_conf(tmp, stock_nscd_conf())
    with Emulator() as emu:
        h = Host(emu, tmp, conf)
        try:
            h.sync()
            h.start_nscd()
            rc, out = h.getent("alice")
            assert rc == 0 and out.startswith("alice:*:"), out
            emu.delete_user("alice@example.com")
            h.sync()
            # The deadline counts from the publish (the sync has returned).
            wait_until(lambda: h.getent("alice")[0] == 2, timeout=2.0, interval=0.05,
                       what="getent passwd alice to fail within 2 s of the publish")
            assert "enable-cache\t\tpasswd\t\tno" in conf and \
                "enable-cache\t\tgroup\t\tno" in conf, conf
            rc, out = h.getent("bob")
            assert rc == 0 and out.startswith("bob:*:"), out
            rc, out = h.sh.run("pamtester okta-nscd alice acct_mgmt")
            assert rc != 0, out
            rc, out = h.status()
            assert rc == 0, out
            assert "nscd is running and caches" not in out, out
        finally:
            h.close()
    shutil.rmtree(tmp, ignore_errors=True)


def run_script(tmp, script, arg, etc, varlib):
    """Run a maintainer script in a namespace where the directory etc is
    /etc (holding the test nscd.conf, and an nsswitch.conf that already
    has okta) and varlib is /var/lib (so that purge can remove
    /var/lib/okta-sync): the scripts replace files by rename, which a
    file bind-mounted alone would refuse."""
    write_nsswitch(os.path.join(etc, "nsswitch.conf"))
    os.makedirs(os.path.join(varlib, "okta-sync"), exist_ok=True)
    p = oktatest.ns_run("PATH=%s sh %s %s" % (q(restricted_path(tmp)), q(script), arg),
                        os.path.join(varlib, "okta-sync"),
                        extra_binds=[(etc, "/etc"), (varlib, "/var/lib")])
    assert p.returncode == 0, "%s %s: %s %s" % (script, arg, p.stdout, p.stderr)


def package_nscd_conf(tmp, text):
    """What the package's postinst makes of an nscd.conf."""
    d = os.path.join(tmp, "pkg")
    etc = os.path.join(d, "etc")
    os.makedirs(etc)
    with open(os.path.join(etc, "nscd.conf"), "w") as f:
        f.write(text)
    run_script(d, POSTINST, "configure", etc, os.path.join(d, "var-lib"))
    with open(os.path.join(etc, "nscd.conf")) as f:
        return f.read()


@case
def package_scripts_turn_caching_off_and_purge_restores():
    oktatest.need_root("mount namespaces")
    tmp = tmpdir("okta-nscd-scripts-")
    varlib = os.path.join(tmp, "var-lib")
    state = os.path.join(varlib, "okta-sync")
    etc = os.path.join(tmp, "etc")
    os.makedirs(etc)
    conf = os.path.join(etc, "nscd.conf")
    original = stock_nscd_conf().encode() + b"# trailing\tbytes \n\n"
    with open(conf, "wb") as f:
        f.write(original)
    os.chmod(conf, 0o640)

    run_script(tmp, POSTINST, "configure", etc, varlib)
    with open(conf, "rb") as f:
        after = f.read()
    want = original.replace(b"enable-cache\t\tpasswd\t\tyes", b"enable-cache\t\tpasswd\t\tno") \
                   .replace(b"enable-cache\t\tgroup\t\tyes", b"enable-cache\t\tgroup\t\tno")
    assert after == want, after.decode()
    assert b"enable-cache\t\thosts\t\tyes" in after
    # Configuring again (an upgrade) changes nothing.
    run_script(tmp, POSTINST, "configure", etc, varlib)
    with open(conf, "rb") as f:
        assert f.read() == want

    run_script(tmp, POSTRM, "purge", etc, varlib)
    with open(conf, "rb") as f:
        assert f.read() == original, "purge did not restore nscd.conf byte for byte"
    st = os.stat(conf)
    # Put back in place: the inode postinst's rename made, the mode kept.
    assert st.st_mode & 0o777 == 0o640, oct(st.st_mode)

    assert not os.path.exists(state), "purge left %s" % state
    # Edited by the admin after the install: remove leaves it as it is.
    run_script(tmp, POSTINST, "configure", etc, varlib)
    with open(conf, "ab") as f:
        f.write(b"# the admin's own line\n")
    with open(conf, "rb") as f:
        edited = f.read()
    run_script(tmp, POSTRM, "remove", etc, varlib)
    with open(conf, "rb") as f:
        assert f.read() == edited
    assert not os.path.exists(os.path.join(state, "nscd.conf.before-okta"))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
