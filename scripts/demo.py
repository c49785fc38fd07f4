#!/usr/bin/env python3
"""demo.py - steps 2 to 5 of `make demo` (scripts/demo.sh runs it under
`unshare -m`, so every mount here is private to this process tree).

2. starts the Okta emulator (tests/lib/emulator.py) with a demo
   organisation of 50 users in 5 groups, suspends one user, and writes a
   config for it (tests/lib/oktaconf.py);
3. runs `okta-sync test`, `okta-sync sync --dry-run` and `okta-sync sync`;
4. with a demo nsswitch.conf ("passwd: files okta"), the demo cache at
   /var/lib/okta-sync and a copy of /etc/pam.d with a pam_okta service
   bind-mounted in this namespace, shows getent passwd, getent group, id of
   a demo user, and pamtester refusing the suspended user;
4b. an SSH key login: the demo user's public key is in Okta's profile
   attribute sshPublicKey (synced with [posix] ssh_keys_attribute); a demo
   sshd on 127.0.0.1 with the shipped drop-in (the key program at its
   packaged path, laid over /usr/libexec in this namespace), no
   authorized_keys files, and pam.d/sshd from the shipped pam-auth-update
   profile; `ssh` runs `id`, the first login makes the home (in a tmpfs
   /home private to the demo), and the suspended user is refused.  The
   pieces are tests/lib/sshd.py's, as the tests use them.

Output: a heading per step and a few lines of what happened.  Exit status
0 only when every step did what it should.
"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
OKTA_SYNC = os.path.join(BUILD, "okta-sync")
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
# tests/lib takes the build from OKTA_BUILD: this tree's, whatever the caller set.
os.environ["OKTA_BUILD"] = BUILD

from emulator import Emulator, make_org  # noqa: E402
from oktaconf import write_config  # noqa: E402
import sshd  # noqa: E402

OKTA_UID_MIN = 2000000000
SHOW = 6          # lines of a long output shown before "... N more"


class StepFailed(Exception):
    pass


def heading(text):
    print("\n== %s" % text, flush=True)


def say(text=""):
    for line in text.splitlines() or [""]:
        print("   " + line, flush=True)


def short(text, n=SHOW, tail=0):
    """The first n lines (and the last `tail`) of a long output."""
    lines = [ln for ln in text.rstrip("\n").splitlines()]
    if len(lines) <= n + tail + 1:
        return "\n".join(lines)
    end = lines[len(lines) - tail:] if tail else []
    return "\n".join(lines[:n] + ["... (%d lines)" % (len(lines) - n - tail)] + end)


def members(line, n=4):
    """A group line with its member list cut to n names."""
    f = line.split(":")
    m = f[3].split(",") if f[3] else []
    if len(m) > n:
        f[3] = ",".join(m[:n]) + ",... (%d members)" % len(m)
    return ":".join(f)


def sh(cmd, env=None, ok=(0,), timeout=300):
    """Run cmd (a list) with LD_LIBRARY_PATH at the build, so that glibc
    loads build/libnss_okta.so.2 for the okta source of nsswitch.conf."""
    e = os.environ.copy()
    e["LD_LIBRARY_PATH"] = BUILD
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout)
    if p.returncode not in ok:
        raise StepFailed("`%s` exited %d:\n%s" % (" ".join(cmd), p.returncode,
                                                  short((p.stdout + p.stderr).strip(), 20)))
    return p


def bind(src, dst):
    sh(["mount", "--bind", src, dst])


def okta_sync(conf, *args):
    p = sh([OKTA_SYNC, "-c", conf] + list(args))
    out = (p.stdout + p.stderr).strip()
    if "not implemented" in out.lower():
        raise StepFailed("okta-sync %s: %s" % (" ".join(args), out))
    return out


def demo(tmp):
    # -- 2 ------------------------------------------------------------------
    heading("2. Start an emulated Okta organisation and write a config for it")
    org = make_org(nusers=50, ngroups=5, seed=2026, statuses=False)
    users = [u["profile"]["login"] for u in org["users"]]
    groups = [g["profile"]["name"] for g in org["groups"]]
    suspended = users[7]
    active = users[0]
    key = os.path.join(tmp, "id_ed25519")
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "demo-key", "-f", key])
    with open(key + ".pub") as f:
        pubkey = f.read().strip()
    with Emulator(org) as emu:
        emu.set_status(suspended, "SUSPENDED")
        for login in (active, suspended):
            emu.set_profile(login, sshPublicKey=[pubkey])
        say("Okta emulator: https://%s (HTTPS with a test CA made just now)" % emu.domain)
        say("%d users in %d groups: %s" % (len(users), len(groups), ", ".join(groups)))
        say("suspended in Okta: %s" % suspended)
        say("SSH public key in the Okta profile attribute sshPublicKey of %s and %s:"
            % (active, suspended))
        say("  %s...%s" % (pubkey[:30], pubkey[-20:]))
        conf = write_config(tmp, emu, posix={"strip_domain": "example.com",
                                             "ssh_keys_attribute": "sshPublicKey"})
        cache = os.path.join(tmp, "cache")
        say("config %s:" % conf)
        for line in open(conf).read().strip().splitlines():
            say("  " + line)

        # -- 3 --------------------------------------------------------------
        heading("3a. okta-sync test: can we reach Okta with this token?")
        say(short(okta_sync(conf, "test"), 12))
        heading("3b. okta-sync sync --dry-run: what a sync would change (nothing is written)")
        say(short(okta_sync(conf, "sync", "--dry-run"), 5, 5))
        if os.path.exists(os.path.join(cache, "snapshot.cdb")):
            raise StepFailed("the dry run wrote a snapshot")
        say("(cache and snapshot untouched)")
        heading("3c. okta-sync sync: apply it, publish the snapshot")
        say(short(okta_sync(conf, "sync"), 0, 5))
        if not os.path.exists(os.path.join(cache, "snapshot.cdb")):
            raise StepFailed("okta-sync sync published no snapshot")

        # -- 4 --------------------------------------------------------------
        heading("4. The Okta users as Linux users (private namespace: nsswitch.conf, "
                "/etc/pam.d, /var/lib/okta-sync)")
        nss = os.path.join(tmp, "nsswitch.conf")
        with open("/etc/nsswitch.conf") as f:
            text = f.read()
        with open(nss, "w") as f:
            for line in text.splitlines():
                if line.startswith(("passwd:", "group:")):
                    line = line.split(":", 1)[0] + ":         files okta"
                f.write(line + "\n")
        pamd = os.path.join(tmp, "pam.d")
        shutil.copytree("/etc/pam.d", pamd, symlinks=True)
        with open(os.path.join(pamd, "okta-demo"), "w") as f:
            f.write("account [success=ok user_unknown=ignore ignore=ignore default=bad] %s\n"
                    "account required pam_permit.so\n" % os.path.join(BUILD, "pam_okta.so"))
        bind(nss, "/etc/nsswitch.conf")
        bind(cache, "/var/lib/okta-sync")
        bind(pamd, "/etc/pam.d")

        pw = [ln for ln in sh(["getent", "passwd"]).stdout.splitlines()
              if int(ln.split(":")[2]) >= OKTA_UID_MIN]
        say("$ getent passwd   (Okta users only: %d of them)" % len(pw))
        say(short("\n".join(pw)))
        if len(pw) < len(users) - 1:
            raise StepFailed("getent passwd shows %d Okta users, expected about %d" % (len(pw), len(users)))
        gr = [ln for ln in sh(["getent", "group"]).stdout.splitlines()
              if int(ln.split(":")[2]) >= OKTA_UID_MIN]
        named = [ln for ln in gr if ln.split(":")[0] not in {p.split(":")[0] for p in pw}]
        say("$ getent group    (Okta groups, without the user-private ones)")
        say(short("\n".join(members(ln) for ln in (named or gr))))
        if not gr:
            raise StepFailed("getent group shows no Okta group")
        name = active.split("@")[0].lower()
        say("$ id %s" % name)
        say(sh(["id", name]).stdout.strip())

        sname = suspended.split("@")[0].lower()
        say("$ pamtester okta-demo %s acct_mgmt   (ACTIVE in Okta)" % name)
        p = sh(["pamtester", "okta-demo", name, "acct_mgmt"], ok=(0, 1))
        say((p.stdout + p.stderr).strip() or "(no output)")
        if p.returncode != 0:
            raise StepFailed("pam_okta refused the active user %s" % name)
        say("$ pamtester okta-demo %s acct_mgmt   (SUSPENDED in Okta)" % sname)
        p = sh(["pamtester", "okta-demo", sname, "acct_mgmt"], ok=(0, 1))
        say((p.stdout + p.stderr).strip() or "(no output)")
        if p.returncode == 0:
            raise StepFailed("pam_okta let the suspended user %s in" % sname)
        say("-> refused, as it should be.")
        say("$ pamtester okta-demo root acct_mgmt   (a local user: pam_okta stays out of it)")
        p = sh(["pamtester", "okta-demo", "root", "acct_mgmt"], ok=(0, 1))
        say((p.stdout + p.stderr).strip())
        if p.returncode != 0:
            raise StepFailed("pam_okta refused local root")

        ssh_step(tmp, key, pamd, name, sname)

    heading("5. Clean up")
    say("emulator stopped, sshd stopped; the mounts vanish with this namespace.")


NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def ssh_output(p):
    """ssh's output without its note about the demo's throwaway host key."""
    lines = [ln for ln in (p.stdout + p.stderr).splitlines()
             if not ln.startswith("Warning: Permanently added")]
    return "\n".join(lines).strip() or "(no output)"


def ssh_step(tmp, key, pamd, name, sname):
    heading("4b. An SSH key login of an Okta user (key from Okta, sshd on 127.0.0.1)")
    # pam.d/sshd from the shipped profile: pam_okta (account) and
    # pam_mkhomedir (session); the key program and libnss_okta.so.2 at
    # their packaged paths (the user's session and mkhomedir_helper may
    # not reach build/); homes in a private /home.
    with open(os.path.join(pamd, "sshd"), "w") as f:
        f.write(sshd.pam_from_profile(os.path.join(BUILD, "pam_okta.so")))
    try:
        mounts = [sshd.keys_overlay(tmp, os.path.join(BUILD, "okta-sync-keys")),
                  sshd.nss_overlay(tmp, os.path.join(BUILD, "libnss_okta.so.2")),
                  "mount -t tmpfs -o mode=0755 okta-demo-home /home",
                  "mount -t tmpfs -o mode=0755 okta-demo-sshd /run/sshd"]
    except AssertionError as e:
        raise StepFailed(str(e))
    os.makedirs("/run/sshd", exist_ok=True)
    for m in mounts:
        sh(["sh", "-c", m])
    say("sshd_config: AuthorizedKeysFile none, and the shipped drop-in:")
    for line in open(sshd.DROPIN):
        if line.strip() and not line.startswith("#"):
            say("  " + line.strip())
    hostkey = os.path.join(tmp, "hostkey")
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostkey])
    port = sshd.free_port()
    cfg = sshd.sshd_config(os.path.join(tmp, "sshd_config"), port, hostkey,
                           os.path.join(tmp, "sshd.pid"), "none", dropin=True)
    log = os.path.join(tmp, "sshd.log")
    env = os.environ.copy()
    env["LD_LIBRARY_PATH"] = BUILD
    with open(log, "w") as logf:
        proc = subprocess.Popen([sshd.SSHD, "-D", "-e", "-f", cfg], stdout=logf,
                                stderr=subprocess.STDOUT, env=env)
    try:
        try:
            sshd.wait_for_sshd(proc, port, log)
        except AssertionError as e:
            raise StepFailed(str(e))
        say("$ setpriv --reuid=nobody --regid=nogroup --clear-groups %s %s" % (sshd.KEYS_PATH, name))
        say("  (what sshd runs for each login, as nobody)")
        p = sh(NOBODY + [sshd.KEYS_PATH, name])
        say(short(p.stdout.strip()) or "(nothing)")
        if "ssh-ed25519" not in p.stdout:
            raise StepFailed("the key program printed no key for %s" % name)
        say("$ ssh -i id_ed25519 -p %d %s@127.0.0.1 id   (no authorized_keys anywhere)" % (port, name))
        p = sh(sshd.ssh_command(key, port, name, "id"), ok=(0, 255), timeout=60)
        say(ssh_output(p))
        if p.returncode != 0 or "uid=" not in p.stdout:
            raise StepFailed("the SSH key login of %s failed:\n%s" % (
                name, short(open(log).read(), 20)))
        p = sh(["stat", "-c", "%A %U:%G %n", "/home/" + name])
        say("home directory made at the first login: " + p.stdout.strip())
        say("$ ssh -i id_ed25519 -p %d %s@127.0.0.1 id   (SUSPENDED in Okta, same key)" % (port, sname))
        p = sh(NOBODY + [sshd.KEYS_PATH, sname])
        if p.stdout.strip():
            raise StepFailed("the key program printed keys for suspended %s" % sname)
        p = sh(sshd.ssh_command(key, port, sname, "id"), ok=(0, 255), timeout=60)
        say(ssh_output(p))
        if p.returncode == 0:
            raise StepFailed("sshd let the suspended user %s in" % sname)
        say("-> the key program answered nothing for %s: refused before PAM." % sname)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="okta-demo-")
    try:
        demo(tmp)
    except StepFailed as e:
        print("\n!! demo step failed: %s" % e, file=sys.stderr, flush=True)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
