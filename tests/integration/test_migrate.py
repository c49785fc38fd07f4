#!/usr/bin/env python3
"""test_migrate.py - `okta-sync migrate`: an Okta user takes over a local
account with the same name, keeping its UID and primary GID (issue 5,
Done-when 7; the product guide's "if you already have users in your system
which you want to migrate, without losing their history").

In a private mount namespace, a copy of /etc/passwd and /etc/group (also
the config's local_passwd/local_group) holds a local user "jane" (UID
1500) who owns files; the emulator has an Okta user jane@example.com.  The
first sync rejects her (rule 2); `migrate --dry-run` says what will happen
and changes nothing; `migrate --apply` records the adoption and syncs; the
local entry is then removed and `ls -l`, `getent passwd`, `id` show the
same person through libnss_okta.  A system account ("daemon") matching an
Okta user is refused with its reason.
"""
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sync_common as sc  # noqa: E402
from sync_common import oktatest  # noqa: E402
from oktatest import case, main, ns_run, tmpdir, write_nsswitch  # noqa: E402
from emulator import Emulator  # noqa: E402

JANE_PW = "jane:x:1500:1500:Jane Local:/home/jane:/bin/bash\n"
JANE_GR = "jane:x:1500:\n"


def q(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


def migrate(conf, *args):
    return oktatest.run([oktatest.OKTA_SYNC, "-c", conf, "migrate"] + list(args),
                        timeout=300)


def ok(p, what):
    assert p.returncode == 0, "%s exited %d\nstdout:\n%s\nstderr:\n%s" % (
        what, p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    return p


def sync(conf):
    return ok(sc.okta_sync(conf), "okta-sync sync")


def drop_line(path, name):
    with open(path) as f:
        lines = [l for l in f if not l.startswith(name + ":")]
    with open(path, "w") as f:
        f.writelines(lines)


class Host:
    """The test host: local files with jane, her files, the config, and
    the namespace runner with those local files bound over /etc."""

    def __init__(self, emu):
        self.tmp = tmpdir("okta-migrate-")
        self.conf = sc.setup(self.tmp, emu, extra_passwd=JANE_PW,
                             extra_group=JANE_GR)
        self.passwd = os.path.join(self.tmp, "passwd")
        self.group = os.path.join(self.tmp, "group")
        self.cache = sc.cache_dir(self.conf)
        self.nsswitch = write_nsswitch(os.path.join(self.tmp, "nsswitch.conf"))
        self.home = os.path.join(self.tmp, "home", "jane")
        os.makedirs(self.home)
        self.files = []
        for n in ("thesis.tex", "notes.txt"):
            p = os.path.join(self.home, n)
            with open(p, "w") as f:
                f.write("Jane's %s\n" % n)
            os.chown(p, 1500, 1500)
            self.files.append(p)
        os.chown(self.home, 1500, 1500)

    def sh(self, script):
        p = ns_run(script, self.cache, nsswitch=self.nsswitch,
                   extra_binds=[(self.passwd, "/etc/passwd"),
                                (self.group, "/etc/group")])
        assert p.returncode == 0, (script, p.returncode, p.stdout, p.stderr)
        return p.stdout

    def owners(self):
        """{file: (owner, group)} as `ls -l` shows them."""
        out = self.sh("ls -ln %s >/dev/null && ls -l %s" % (
            q(self.home), " ".join(q(f) for f in self.files)))
        res = {}
        for line in out.splitlines():
            parts = line.split()
            res[parts[-1]] = (parts[2], parts[3])
        return res


def org_emulator():
    emu = Emulator(None)
    try:
        emu.add_group("Engineering")
        emu.add_user("jane@example.com", firstName="Jane", lastName="Doe",
                     groups=["Engineering"])
        emu.add_user("daemon@example.com", firstName="Daemon", lastName="Okta",
                     groups=["Engineering"])
        emu.add_user("bob@example.com", firstName="Bob", lastName="Okta",
                     groups=["Engineering"])
    except BaseException:
        emu.stop()
        raise
    return emu


@case
def migrate_needs_a_sync_first():
    with Emulator(None) as emu:
        h = Host(emu)
        p = migrate(h.conf, "--dry-run")
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        assert "run okta-sync sync first" in p.stderr, p.stderr
        assert not os.path.exists(os.path.join(h.cache, "cache.db"))
        p = migrate(h.conf, "--apply", "--no-sync")
        assert p.returncode == 1 and "run okta-sync sync first" in p.stderr, p.stderr


@case
def local_user_is_migrated():
    with org_emulator() as emu:
        jane_id = emu.user_id("jane@example.com")
        daemon_id = emu.user_id("daemon@example.com")
        h = Host(emu)

        # Before: the Okta user is rejected, the local account wins.
        doc = sc.plan(h.conf)
        rejected = {r["login"]: r["reason"] for r in doc["users"]["rejected"]}
        assert "collides with a local account" in rejected["jane@example.com"], rejected
        assert "collides with a local account" in rejected["daemon@example.com"], rejected
        assert h.owners() == {f: ("jane", "jane") for f in h.files}

        # The dry run says what will happen, and changes nothing.
        before = sc.hash_dir(h.cache)
        p = ok(migrate(h.conf, "--dry-run"), "migrate --dry-run")
        out = p.stdout
        assert re.search(r"^  jane: local UID 1500 GID 1500 \(group jane\), home "
                         r"/home/jane ← Okta user jane@example\.com \(%s\): Okta takes "
                         r"over UID 1500 and primary GID 1500; files keep their owner$"
                         % jane_id, out, re.M), out
        assert "Cannot be migrated:" in out, out
        assert re.search(r"^  daemon: local UID 1 GID 1 .*← Okta user daemon@example\.com "
                         r"\(%s\): a system account \(UID 1\) is never adopted" % daemon_id,
                         out, re.M), out
        assert "dry run: nothing was changed" in out, out
        js = json.loads(ok(migrate(h.conf, "--dry-run", "--json"), "--json").stdout)
        assert js["dry_run"] is True
        assert [(c["name"], c["okta_id"], c["uid"], c["gid"]) for c in js["adoptable"]] == \
            [("jane", jane_id, 1500, 1500)], js
        assert [c["name"] for c in js["refused"]] == ["daemon"], js
        assert "system account" in js["refused"][0]["reason"], js
        assert js["adopted"] == [], js
        assert sc.hash_dir(h.cache) == before

        # The system account is refused by name, and nothing is recorded.
        p = migrate(h.conf, "--apply", "daemon")
        assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
        assert "daemon cannot be migrated: a system account (UID 1)" in p.stderr, p.stderr
        assert "nothing was recorded" in p.stderr, p.stderr
        assert sc.db_rows(h.conf, "SELECT count(*) FROM adoptions") == [(0,)]

        # Apply: recorded, synced at once; the snapshot has jane at 1500.
        p = ok(migrate(h.conf, "--apply"), "migrate --apply")
        assert "recorded: jane (UID 1500, GID 1500)" in p.stdout, p.stdout
        assert "sync: applied" in p.stdout, p.stdout
        assert re.search(r"^  jane: adopted UID 1500 GID 1500 .*synced as jane; the "
                         r"local entry is still in .*passwd: remove it", p.stdout,
                         re.M), p.stdout
        assert "daemon" in p.stdout and "never adopted" in p.stdout, p.stdout
        snap = sc.snapshot(h.conf)
        users, groups = sc.snap_users(snap), sc.snap_groups(snap)
        assert (users["jane"]["uid"], users["jane"]["gid"]) == (1500, 1500), users["jane"]
        assert users["jane"]["dir"] == "/home/jane"
        # The local group jane stands in for her private group.
        assert "jane" not in groups and all(g["gid"] != 1500 for g in snap["groups"])
        assert "jane" in groups["engineering"]["members"], groups["engineering"]
        assert "daemon" not in users
        assert sc.db_rows(h.conf, "SELECT id, okta_id FROM allocations WHERE id = 1500") == \
            [(1500, jane_id)]
        # Every other Okta user stays in the range (rule 1).
        for u in snap["users"]:
            if u["name"] != "jane":
                assert 2000000000 <= u["uid"] <= 2099999999, u

        # While the local entry is there, files win; the same UID either way.
        assert h.sh("getent passwd jane") == JANE_PW

        # The admin removes the local entry: same owner, same UID, via NSS.
        drop_line(h.passwd, "jane")
        assert h.owners() == {f: ("jane", "jane") for f in h.files}
        line = h.sh("getent passwd jane").strip()
        assert line == "jane:*:1500:1500:Jane Doe:/home/jane:/bin/bash", line
        assert h.sh("getent passwd 1500").strip() == line
        eng_gid = groups["engineering"]["gid"]
        idl = h.sh("id jane").strip()
        assert idl.startswith("uid=1500(jane) gid=1500(jane) groups="), idl
        assert "%d(engineering)" % eng_gid in idl, idl

        # A later sync keeps it; dry run shows it migrated, entry gone.
        doc = sc.plan(h.conf)
        assert doc["counts"]["users"]["modified"] == 0, doc["counts"]
        assert "jane@example.com" not in {r["login"] for r in doc["users"]["rejected"]}
        assert sc.snap_users(sc.snapshot(h.conf))["jane"]["uid"] == 1500
        p = ok(migrate(h.conf, "--dry-run"), "migrate --dry-run")
        assert re.search(r"^  jane: adopted UID 1500 GID 1500 .*synced as jane; the "
                         r"local entry is gone$", p.stdout, re.M), p.stdout

        # The local group goes too: the private group comes with GID 1500.
        drop_line(h.group, "jane")
        sync(h.conf)
        groups = sc.snap_groups(sc.snapshot(h.conf))
        assert groups["jane"]["gid"] == 1500, groups.get("jane")
        assert h.sh("getent group jane").strip() == "jane:*:1500:"
        idl = h.sh("id jane").strip()
        assert idl.startswith("uid=1500(jane) gid=1500(jane) groups=1500(jane),"), idl
        assert "%d(engineering)" % eng_gid in idl, idl
        assert h.owners() == {f: ("jane", "jane") for f in h.files}

        # A rename in Okta keeps the adopted UID (adoption is by Okta id).
        # (set_profile's own "login" parameter hides a "login" attribute.)
        emu._call("set_profile", login="jane@example.com",
                  attrs={"login": "jane.doe@example.com",
                         "email": "jane.doe@example.com"})
        sync(h.conf)
        users = sc.snap_users(sc.snapshot(h.conf))
        assert "jane" not in users and users["jane.doe"]["uid"] == 1500, users.get("jane.doe")
        assert h.owners() == {f: ("jane.doe", "jane.doe") for f in h.files}


@case
def adoption_guards():
    """A local account recreated with another UID, or an adopted UID taken
    by another local account, rejects the Okta user; nothing else is
    touched."""
    with org_emulator() as emu:
        h = Host(emu)
        sync(h.conf)
        ok(migrate(h.conf, "--apply", "jane"), "migrate --apply jane")
        p = migrate(h.conf, "--apply", "jane")
        assert p.returncode == 0 and "already migrated" in p.stderr, (p.stdout, p.stderr)
        # jane recreated locally with another UID: the Okta user is rejected.
        drop_line(h.passwd, "jane")
        with open(h.passwd, "a") as f:
            f.write("jane:x:1600:1500:Jane Again:/home/jane:/bin/bash\n")
        doc = sc.plan(h.conf, "--force")
        rejected = {r["login"]: r["reason"] for r in doc["users"]["rejected"]}
        assert "now has UID 1600, not the adopted UID 1500" in rejected["jane@example.com"], \
            rejected
        assert "jane" not in sc.snap_users(sc.snapshot(h.conf))
        # Another local account on the adopted UID: rejected too.
        drop_line(h.passwd, "jane")
        with open(h.passwd, "a") as f:
            f.write("mallory:x:1500:1500::/home/mallory:/bin/bash\n")
        doc = sc.plan(h.conf, "--force")
        rejected = {r["login"]: r["reason"] for r in doc["users"]["rejected"]}
        assert "UID 1500 now belongs to another local account" in \
            rejected["jane@example.com"], rejected
        # Back to normal: the local entry gone, jane is jane again.
        drop_line(h.passwd, "mallory")
        doc = sc.plan(h.conf)
        assert [u["uid"] for u in doc["users"]["added"] if u["name"] == "jane"] == [1500], doc
        # Unknown names are refused, nothing recorded.
        p = migrate(h.conf, "--apply", "nosuch")
        assert p.returncode == 3 and "nosuch" in p.stderr, (p.returncode, p.stderr)


@case
def pam_judges_the_adopted_user():
    """Before the migration pam_okta leaves the local jane to the stack;
    once adopted (same UID, local entry still there) it judges her by her
    Okta status: suspended in Okta, she can no longer log in."""
    if not shutil.which("pamtester"):
        oktatest.need("pamtester")
    with org_emulator() as emu:
        h = Host(emu)
        sync(h.conf)
        pamd = os.path.join(h.tmp, "pam.d")
        os.mkdir(pamd)
        with open(os.path.join(pamd, "other"), "w") as f:
            f.write("account required pam_deny.so\n")
        with open(os.path.join(pamd, "okta-test"), "w") as f:
            f.write("account [success=ok user_unknown=ignore ignore=ignore default=bad]"
                    " %s snapshot=%s passwd=%s\naccount required pam_permit.so\n"
                    % (os.path.join(oktatest.BUILD, "pam_okta.so"),
                       os.path.join(h.cache, "snapshot.cdb"), h.passwd))

        def acct():
            return oktatest.run(["pamtester", "okta-test", "jane", "acct_mgmt"], timeout=30,
                                env={"LD_PRELOAD": "libpam_wrapper.so", "PAM_WRAPPER": "1",
                                     "PAM_WRAPPER_SERVICE_DIR": pamd})

        emu.set_status("jane@example.com", "SUSPENDED")
        sync(h.conf)
        p = acct()
        assert p.returncode == 0, (p.stdout, p.stderr)   # local, not judged
        emu.set_status("jane@example.com", "ACTIVE")
        sync(h.conf)
        ok(migrate(h.conf, "--apply"), "migrate --apply")
        p = acct()
        assert p.returncode == 0, (p.stdout, p.stderr)
        emu.set_status("jane@example.com", "SUSPENDED")
        sync(h.conf)
        p = acct()
        assert p.returncode == 1, (p.stdout, p.stderr)
        assert "Your account is suspended in Okta" in p.stdout + p.stderr, (p.stdout, p.stderr)


@case
def other_home_is_noted():
    """The Okta entry's home follows [posix] home: a different local home
    is pointed out before the migration."""
    with Emulator(None) as emu:
        emu.add_user("carol@example.com", firstName="Carol", lastName="C")
        h = Host(emu)
        with open(h.passwd, "a") as f:
            f.write("carol:x:1600:1600:Carol:/srv/carol:/bin/bash\n")
        with open(h.group, "a") as f:
            f.write("carol:x:1600:\n")
        sync(h.conf)
        p = ok(migrate(h.conf), "migrate")
        assert re.search(r"^  carol: local UID 1600 GID 1600 \(group carol\), home /srv/carol "
                         r"← .*files keep their owner; note: the home becomes /home/carol",
                         p.stdout, re.M), p.stdout
        js = json.loads(ok(migrate(h.conf, "--json"), "migrate --json").stdout)
        assert [(c["name"], c["home"], c["okta_home"]) for c in js["adoptable"]] == \
            [("carol", "/srv/carol", "/home/carol")], js


@case
def two_okta_users_one_name():
    with Emulator(None) as emu:
        emu.add_user("jane@example.com", firstName="Jane", lastName="A")
        emu.add_user("jane@example.org", firstName="Jane", lastName="B")
        h = Host(emu)
        sync(h.conf)
        js = json.loads(ok(migrate(h.conf, "--json"), "migrate --json").stdout)
        assert js["adoptable"] == [], js
        assert sorted(c["login"] for c in js["refused"]) == \
            ["jane@example.com", "jane@example.org"], js
        assert all("2 Okta users map to the name jane" in c["reason"]
                   for c in js["refused"]), js
        p = ok(migrate(h.conf, "--apply"), "migrate --apply")
        assert "nothing to migrate" in p.stdout, p.stdout
        assert sc.db_rows(h.conf, "SELECT count(*) FROM adoptions") == [(0,)]


if __name__ == "__main__":
    main()
