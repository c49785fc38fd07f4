#!/usr/bin/env python3
"""test_demo - `make demo` runs start to finish on a clean checkout and
leaves the host's /etc exactly as it was.

The tree is copied without build/ and .git (a clean checkout), `make demo`
runs there; the test checks its exit status, that its output shows each
step (install and build, the emulated org, okta-sync test / sync --dry-run /
sync, getent passwd / getent group / id, the refused suspended user, the
SSH key login: the key program's answer, `ssh ... id` showing the Okta
user's uid, the home made at that first login, and the suspended user
refused at the key), and that the sha256 of every file under /etc is the
same before and after.

The Debian packages are installed first (scripts/install-deps check, what
`make check` does anyway), so that the demo's step 1 has nothing to install:
installing packages legitimately changes /etc; the demo itself must not.
"""
import hashlib
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import ROOT, case, main, run, tmpdir, Skip  # noqa: E402


def etc_hashes(root="/etc"):
    out = {}
    for d, dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            h = hashlib.sha256()
            try:
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 16), b""):
                        h.update(chunk)
                out[p] = h.hexdigest()
            except OSError as e:
                out[p] = "unreadable: %s" % e
    return out


def clean_copy():
    d = tmpdir("okta-demo-checkout-")
    src = os.path.join(d, "okta-sync")
    os.mkdir(src)
    run(["sh", "-c", "tar -c --exclude=./build --exclude=./.git . | tar -x -C '%s'" % src],
        cwd=ROOT, check=True, timeout=300)
    return d, src


@case
def make_demo_on_a_clean_checkout():
    if os.geteuid() != 0:
        raise Skip("make demo needs root (mount namespaces)")
    run([os.path.join(ROOT, "scripts", "install-deps"), "check"], check=True, timeout=900)
    top, src = clean_copy()
    try:
        before = etc_hashes()
        p = run(["make", "--no-print-directory", "demo"], cwd=src, timeout=600)
        after = etc_hashes()
        out = p.stdout + p.stderr
        print(out)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        assert not changed, "make demo changed the host's /etc: %s" % changed[:20]
        assert p.returncode == 0, "make demo exited %d" % p.returncode
        for want in ("== 1. Install what is missing and build",
                     "== 2. Start an emulated Okta organisation",
                     "50 users in 5 groups", "suspended in Okta:",
                     "== 3a. okta-sync test", "== 3b. okta-sync sync --dry-run",
                     "== 3c. okta-sync sync", "== 4.", "$ getent passwd", "$ getent group",
                     "$ id ", "refused, as it should be", "== 6. The host is untouched",
                     "identical before and after", "Demo complete.",
                     "in the Okta profile attribute sshPublicKey",
                     "== 4b. An SSH key login of an Okta user",
                     "AuthorizedKeysCommand /usr/libexec/okta-sync/okta-sync-keys %u",
                     "Permission denied (publickey)",
                     "refused before PAM"):
            assert want in out, "the demo's output lacks %r" % want
        # The SSH step's visible output: the login ran `id` as the Okta
        # user (UID in Okta's range), the key program printed the key, and
        # the first login made the home, owned by the user, mode 0700.
        m = re.search(r"\$ ssh -i id_ed25519 -p \d+ (\S+)@127\.0\.0\.1 id   \(no authorized_keys "
                      r"anywhere\)\n\s+uid=(\d+)\(([^)]+)\)", out)
        assert m, "the demo shows no `ssh ... id` with a uid"
        assert m.group(1) == m.group(3) and int(m.group(2)) >= 2000000000, m.group(0)
        assert re.search(r"okta-sync-keys %s\n.*\n\s+ssh-ed25519 AAAA\S+ demo-key" % re.escape(m.group(1)),
                         out), "the demo shows no key from the key program"
        assert re.search(r"home directory made at the first login: drwx------ %s:\S+ /home/%s"
                         % (re.escape(m.group(1)), re.escape(m.group(1))), out), \
            "the demo shows no home made at the first login"
        assert os.path.exists(os.path.join(src, "build", "okta-sync")), "the demo did not build"
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
