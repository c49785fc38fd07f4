"""test_ssh_keys_sync - SSH public keys from an Okta profile attribute,
through the real `okta-sync sync` against the emulator (issue 10).

[posix] ssh_keys_attribute names the attribute: an array of strings, or
one string of newline-separated keys.  Each key is checked before it is
stored in cache.db or published: what an admin sees is the plan (each
refused key with its user, position, type and reason; the user stays with
its other keys), `okta-sync show user`, and what the key program
(okta-sync-keys, sshd's AuthorizedKeysCommand) prints from the snapshot.

Keys are made with ssh-keygen at test time; the keys no ssh-keygen makes
(a 1024-bit RSA key, a blob of another type) are built here byte by byte.
"""
import base64
import os
import shutil
import sqlite3
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
import oktatest  # noqa: E402
from oktatest import OKTA_SYNC, case, main, run, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

KEYS_PROG = os.path.join(oktatest.BUILD, "okta-sync-keys")
ATTR = "sshPublicKey"


# ---- Keys ----------------------------------------------------------------

class Keygen:
    """Fresh public keys from ssh-keygen, in a directory of their own."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "keys")
        os.makedirs(self.dir, exist_ok=True)
        self.n = 0

    def make(self, kind="ed25519", bits=None, comment=None):
        """A new public key line: "type base64 comment"."""
        self.n += 1
        path = os.path.join(self.dir, "k%d" % self.n)
        cmd = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", path,
               "-C", comment or "key%d@test" % self.n]
        if bits:
            cmd += ["-b", str(bits)]
        p = run(cmd)
        assert p.returncode == 0, p.stderr
        with open(path + ".pub") as f:
            return f.read().strip()


def ssh_string(b):
    return struct.pack(">I", len(b)) + b


def mpint(n):
    b = n.to_bytes((n.bit_length() + 8) // 8, "big")   # a leading 0 byte
    return ssh_string(b)


def rsa_1024_line():
    """An ssh-rsa key with a 1024-bit modulus (ssh-keygen refuses to make
    one): any odd 1024-bit n will do, the checker counts its bits."""
    n = int.from_bytes(os.urandom(128), "big") | (1 << 1023) | 1
    blob = ssh_string(b"ssh-rsa") + mpint(65537) + mpint(n)
    return "ssh-rsa " + base64.b64encode(blob).decode() + " weak@test"


def blob_of(line):
    return line.split()[1]


# ---- Running ---------------------------------------------------------------

def snapshot_path(conf):
    return os.path.join(sc.cache_dir(conf), "snapshot.cdb")


def key_program(conf, user):
    """What sshd would get for user: okta-sync-keys run on the snapshot
    the sync published (the local passwd file of the test)."""
    oktatest.need(KEYS_PROG)
    passwd = os.path.join(os.path.dirname(conf), "passwd")
    p = run([KEYS_PROG, "--snapshot", snapshot_path(conf), "--passwd", passwd,
             user])
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return p.stdout


def sync_text(conf, *args, expect_rc=0):
    p = sc.okta_sync(conf, *args)
    assert p.returncode == expect_rc, (p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    return p.stdout


def show(conf, name, *args):
    """`okta-sync show user name`; the human form with its runs of spaces
    made one, so that assertions do not depend on the column widths."""
    p = run([OKTA_SYNC, "-c", conf, "show", "user", name] + list(args))
    assert p.returncode == 0, (p.stdout, p.stderr)
    if "--json" in args:
        return p.stdout
    return "\n".join(" ".join(ln.split()) for ln in p.stdout.splitlines())


def setup(tmp, emu, **posix):
    settings = {"ssh_keys_attribute": ATTR}
    settings.update(posix)
    return sc.setup(tmp, emu, posix=settings)


def small_org(seed):
    return make_org(nusers=2, ngroups=1, seed=seed, statuses=False)


def in_tmp(prefix, fn):
    tmp = tmpdir(prefix)
    try:
        fn(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- Cases -----------------------------------------------------------------

@case
def keys_synced_from_array_and_string_and_counted_in_show():
    def body(tmp):
        kg = Keygen(tmp)
        ed, ec = kg.make("ed25519"), kg.make("ecdsa", 256)
        s1, s2 = kg.make("ed25519"), kg.make("rsa", 3072)
        with Emulator(small_org(101)) as emu:
            emu.add_user("jane@example.com", **{ATTR: [ed, ec]})
            # One string, as a text attribute holds them: a blank line and
            # a comment line are skipped, as in authorized_keys.
            emu.add_user("john@example.com",
                         **{ATTR: "%s\n\n# laptop\n%s\n" % (s1, s2)})
            emu.add_user("nokeys@example.com")
            conf = setup(tmp, emu)
            out = sync_text(conf)
            assert "ssh 2 keys: ssh-ed25519, ecdsa-sha2-nistp256" in out, out
            assert "ssh keys:" not in out.split("memberships:")[1], out   # none refused

            assert key_program(conf, "jane").splitlines() == [ed, ec]
            assert key_program(conf, "john").splitlines() == [s1, s2]
            assert key_program(conf, "nokeys") == ""
            rows = dict(sc.db_rows(conf, "SELECT name, ssh_keys FROM users"))
            assert rows["jane"] == "%s\n%s\n" % (ed, ec), rows["jane"]

            text = show(conf, "jane")
            assert "ssh keys: 2 keys: ssh-ed25519, ecdsa-sha2-nistp256" in text, text
            assert "ssh keys: 2 published" in text, text
            import json
            doc = json.loads(show(conf, "john", "--json"))
            assert doc["linux"]["ssh_keys"]["count"] == 2, doc["linux"]
            assert doc["linux"]["ssh_keys"]["types"] == ["ssh-ed25519", "ssh-rsa"]
            assert doc["snapshot"]["ssh_keys"] == 2, doc["snapshot"]
            assert "0 keys" in show(conf, "nokeys")
    in_tmp("okta-keys-", body)


@case
def key_change_is_a_modified_user_and_dry_run_writes_nothing():
    def body(tmp):
        kg = Keygen(tmp)
        ed, rsa, other = kg.make("ed25519"), kg.make("rsa", 2048), kg.make("ed25519")
        with Emulator(small_org(102)) as emu:
            emu.add_user("jane@example.com", **{ATTR: [ed]})
            conf = setup(tmp, emu)
            sync_text(conf)
            cache = sc.cache_dir(conf)

            emu.set_profile("jane@example.com", **{ATTR: [ed, rsa]})
            before = sc.hash_dir(cache)
            out = sync_text(conf, "--dry-run")
            assert sc.hash_dir(cache) == before, "the dry run wrote"
            assert "~ jane" in out, out
            assert "ssh_keys 1 -> 2 (added ssh-rsa)" in out, out
            assert "users: 0 added, 1 modified, 0 removed" in out, out
            assert key_program(conf, "jane").splitlines() == [ed]

            doc = sc.plan(conf, "--dry-run")
            mod = {u["name"]: u["changes"] for u in doc["users"]["modified"]}
            assert mod["jane"] == {"ssh_keys": {"old": 1, "new": 2,
                                                "change": "1 -> 2 (added ssh-rsa)"}}, mod

            sync_text(conf)
            assert key_program(conf, "jane").splitlines() == [ed, rsa]
            # A key replaced by another of its type: same count, still a change.
            emu.set_profile("jane@example.com", **{ATTR: [other, rsa]})
            out = sync_text(conf)
            assert "ssh_keys 2 -> 2 (added ssh-ed25519; removed ssh-ed25519)" in out, out
            assert key_program(conf, "jane").splitlines() == [other, rsa]
            # Removed in Okta: removed from the host.
            emu.set_profile("jane@example.com", **{ATTR: None})
            out = sync_text(conf)
            assert "ssh_keys 2 -> 0 (removed ssh-ed25519, ssh-rsa)" in out, out
            assert key_program(conf, "jane") == ""
            # Nothing changes: unchanged, not modified.
            doc = sc.plan(conf, "--dry-run")
            assert doc["counts"]["users"]["modified"] == 0, doc["counts"]
    in_tmp("okta-keys-", body)


@case
def hostile_keys_are_refused_with_reasons_and_never_published():
    def body(tmp):
        kg = Keygen(tmp)
        good = kg.make("ed25519", comment="good@test")
        cmd_key = kg.make("ed25519")
        nl_a, nl_b = kg.make("ed25519"), kg.make("ed25519")
        ed_for_rsa = kg.make("ed25519")
        cr_key = kg.make("ed25519")
        weak = rsa_1024_line()
        hostile = [
            'command="echo PWNED" ' + cmd_key,
            nl_a + '\ncommand="x" ' + nl_b,
            "ssh-rsa " + blob_of(ed_for_rsa) + " liar@test",
            weak,
            "ssh-ed25519 " + "A" * 10240,
            cr_key + "\r",
        ]
        with Emulator(small_org(103)) as emu:
            emu.add_user("eve@example.com", **{ATTR: [good] + hostile})
            # The string form: CRLF line ends leave a CR in each line.
            crlf_key = kg.make("ed25519")
            emu.add_user("mallory@example.com",
                         **{ATTR: good + "\n" + crlf_key + "\r\n"})
            conf = setup(tmp, emu)
            out = sync_text(conf)
            rej = [ln for ln in out.splitlines() if ln.startswith("  ! key")]
            why = "\n".join(rej)
            assert len(rej) == 7, out
            # Each reason as sshkey_check() words it (common/sshkey.h):
            # any of the spellings given.
            for pos, kind, reasons in (
                    (2, "ssh-ed25519", ("command=",)),
                    (3, "ssh-ed25519", ("line break", "newline", "LF")),
                    (4, "ssh-rsa", ("says ssh-ed25519",)),
                    (5, "ssh-rsa", ("1024 bits",)),
                    (6, "ssh-ed25519", ("8192",)),
                    (7, "ssh-ed25519", ("carriage return", "CR"))):
                line = [r for r in rej if '"eve": SSH key %d of %s (%s): ' % (pos, ATTR, kind) in r]
                assert len(line) == 1, (pos, why)
                reason = line[0].split("): ", 1)[1]
                assert any(w in reason for w in reasons), (pos, reason)
            assert '"mallory": SSH key on line 2 of %s (ssh-ed25519): ' % ATTR in why, why
            assert "ssh keys: 7 rejected (their users stay)" in out, out
            assert "users: 4 added, 0 modified, 0 removed, 0 unchanged, 0 rejected" in out, out

            # Each user stays, with the good key only.
            assert key_program(conf, "eve").splitlines() == [good]
            assert key_program(conf, "mallory").splitlines() == [good]
            with open(snapshot_path(conf), "rb") as f:
                raw = f.read()
            for needle in ("PWNED", "command=", blob_of(cmd_key), blob_of(nl_a),
                           blob_of(nl_b), blob_of(ed_for_rsa), blob_of(weak),
                           "A" * 200, blob_of(cr_key), blob_of(crlf_key)):
                assert needle.encode() not in raw, needle[:40]
            # (A CR byte itself may well occur in the binary records.)
            stored = "".join(r[0] for r in sc.db_rows(conf, "SELECT ssh_keys FROM users"))
            assert "PWNED" not in stored and "\r" not in stored
            # The refusals are kept for show and for the next sync.
            text = show(conf, "eve")
            assert "ssh keys: 1 key: ssh-ed25519" in text, text
            assert text.count("ssh key refused:") == 6, text
            assert "PWNED" not in text and "\r" not in text, text
    in_tmp("okta-keys-", body)


@case
def refusals_reach_the_log_of_a_quiet_sync():
    def body(tmp):
        kg = Keygen(tmp)
        good = kg.make("ed25519")
        with Emulator(small_org(104)) as emu:
            emu.add_user("eve@example.com", **{ATTR: [good, 'command="x" ' + kg.make()]})
            conf = setup(tmp, emu)
            p = sc.okta_sync(conf, "--quiet")
            assert p.returncode == 0, p.stderr
            assert 'rejected key' in p.stderr and '"eve": SSH key 2 of %s ' \
                '(ssh-ed25519):' % ATTR in p.stderr, p.stderr
    in_tmp("okta-keys-", body)


@case
def odd_attribute_values():
    def body(tmp):
        kg = Keygen(tmp)
        good = kg.make("ed25519")
        many = [kg.make("ed25519") for _ in range(34)]
        with Emulator(small_org(105)) as emu:
            emu.add_user("num@example.com", **{ATTR: 42})
            emu.add_user("obj@example.com", **{ATTR: {"key": good}})
            emu.add_user("mixed@example.com", **{ATTR: [good, 7]})
            emu.add_user("dup@example.com", **{ATTR: [good, good, good.rsplit(" ", 1)[0] + " other"]})
            emu.add_user("many@example.com", **{ATTR: many})
            emu.add_user("null@example.com", **{ATTR: None})
            conf = setup(tmp, emu)
            out = sync_text(conf)
            assert '"num": %s is not an array of strings or a string (it is a JSON ' \
                'number)' % ATTR in out, out
            assert '"obj": %s is not an array of strings or a string (it is a JSON ' \
                'object)' % ATTR in out, out
            assert '"mixed": %s item 2 is not a string' % ATTR in out, out
            assert '"many": %s holds more than 32 SSH keys: 2 more not taken' % ATTR in out, out
            for u in ("num", "obj", "mixed", "null"):
                assert key_program(conf, u) == "", u
            assert key_program(conf, "dup").splitlines() == [good]
            assert key_program(conf, "many").splitlines() == many[:32]
            assert "null" not in "".join(ln for ln in out.splitlines() if "! key" in ln)
    in_tmp("okta-keys-", body)


@case
def no_attribute_configured_publishes_no_keys():
    def body(tmp):
        kg = Keygen(tmp)
        good = kg.make("ed25519")
        with Emulator(small_org(106)) as emu:
            emu.add_user("jane@example.com", **{ATTR: [good]})
            # Long unchanged in Okta: only a full sync looks at her again.
            emu.set_user("jane@example.com", lastUpdated="2020-01-01T00:00:00.000Z")
            emu.add_user("recent@example.com")
            conf = sc.setup(tmp, emu)
            sync_text(conf)
            assert key_program(conf, "jane") == ""
            assert "0 keys" in show(conf, "jane")
            p = run([OKTA_SYNC, "-c", conf, "check-config"])
            assert "ssh keys        none (no [posix] ssh_keys_attribute)" in p.stdout, p.stdout
            # Set it: the next sync reads the keys (the mapping changed, so
            # even an incremental sync is a full one).
            conf = setup(tmp, emu)
            out = sync_text(conf, "--incremental")
            assert "ssh_keys 0 -> 1 (added ssh-ed25519)" in out, out
            assert key_program(conf, "jane").splitlines() == [good]
            p = run([OKTA_SYNC, "-c", conf, "check-config"])
            assert "ssh keys        from profile attribute %s, key options refused" % ATTR \
                in p.stdout, p.stdout
            assert "admin-writable only" in p.stdout, p.stdout
    in_tmp("okta-keys-", body)


@case
def allow_options_admits_the_allowlist_only():
    def body(tmp):
        kg = Keygen(tmp)
        k1, k2, k3 = kg.make("ed25519"), kg.make("ed25519"), kg.make("ed25519")
        from_key = 'from="10.0.0.0/8" ' + k1
        with Emulator(small_org(107)) as emu:
            emu.add_user("jane@example.com",
                         **{ATTR: [from_key, 'command="x" ' + k2, "no-pty " + k3]})
            conf = setup(tmp, emu)
            out = sync_text(conf, "--dry-run")
            assert '"jane": SSH key 1 of %s (ssh-ed25519): ' % ATTR in out, out
            assert '"jane": SSH key 3 of %s (ssh-ed25519): ' % ATTR in out, out
            conf = setup(tmp, emu, ssh_keys_allow_options="yes")
            out = sync_text(conf)
            assert '"jane": SSH key 2 of %s (ssh-ed25519): ' % ATTR in out, out
            assert "command=" in out.split('"jane": SSH key 2')[1].splitlines()[0], out
            assert "SSH key 1 of" not in out and "SSH key 3 of" not in out, out
            lines = key_program(conf, "jane").splitlines()
            assert lines == [from_key, "no-pty " + k3], lines
            # Turned off again: the keys with options go at the next sync.
            conf = setup(tmp, emu, ssh_keys_allow_options="no")
            out = sync_text(conf)
            assert "ssh_keys 2 -> 0" in out, out
            assert key_program(conf, "jane") == ""
    in_tmp("okta-keys-", body)


@case
def incremental_sync_keeps_keys_and_refusals():
    def body(tmp):
        kg = Keygen(tmp)
        good, other = kg.make("ed25519"), kg.make("ed25519")
        with Emulator(small_org(108)) as emu:
            emu.add_user("jane@example.com", **{ATTR: [good]})
            emu.add_user("eve@example.com", **{ATTR: [other, 'command="x" ' + kg.make()]})
            # Both long unchanged in Okta: the incremental sync keeps jane's
            # cached row, and fetches eve again only for her refused key.
            for login in ("jane@example.com", "eve@example.com"):
                emu.set_user(login, lastUpdated="2020-01-01T00:00:00.000Z")
            emu.add_user("recent@example.com")
            conf = setup(tmp, emu)
            sync_text(conf)
            out = sync_text(conf, "--incremental")
            assert "users: 0 added, 0 modified, 0 removed" in out, out
            assert '"eve": SSH key 2 of %s' % ATTR in out, out
            assert key_program(conf, "jane").splitlines() == [good]
            assert key_program(conf, "eve").splitlines() == [other]
            assert sc.db_rows(conf, "SELECT mode FROM sync_runs ORDER BY id")[-1] \
                == ("incremental",)

            # Four users with many refused keys: 64 rejected rows, but four
            # entries to fetch again, which an incremental sync still does
            # (more than 50 entries would make it a full one).
            bad = 'command="x" ' + kg.make()
            for i in range(4):
                login = "many%d@example.com" % i
                emu.add_user(login, **{ATTR: [good] + [bad] * 20})
            sync_text(conf, "--full")
            assert sc.db_rows(conf, "SELECT count(*) FROM rejects")[0][0] == 64 + 1
            for i in range(4):
                emu.set_user("many%d@example.com" % i, lastUpdated="2020-01-01T00:00:00.000Z")
            out = sync_text(conf, "--incremental")
            assert "ssh keys: 65 rejected" in out, out
            assert sc.db_rows(conf, "SELECT mode FROM sync_runs ORDER BY id")[-1] \
                == ("incremental",)
    in_tmp("okta-keys-", body)


@case
def each_publish_checks_the_stored_keys_again():
    """cache.db is trusted less than that: a key line that no longer
    passes (a cache edited by hand) is left out of the snapshot, with a
    warning, while the user's good keys are published."""
    def body(tmp):
        kg = Keygen(tmp)
        good, bad = kg.make("ed25519"), kg.make("ed25519")
        with Emulator(small_org(111)) as emu:
            emu.add_user("jane@example.com", **{ATTR: [good]})
            # Changed long ago, so that an incremental sync (which fetches
            # what changed in the last minutes) leaves her cached row be.
            emu.set_user("jane@example.com", lastUpdated="2020-01-01T00:00:00.000Z")
            emu.add_user("recent@example.com")
            conf = setup(tmp, emu)
            sync_text(conf)
            db = os.path.join(sc.cache_dir(conf), "cache.db")
            con = sqlite3.connect(db)
            con.execute("UPDATE users SET ssh_keys = ? WHERE name = 'jane'",
                        ('command="echo PWNED" %s\n%s\n' % (bad, good),))
            con.commit()
            con.close()
            # An incremental sync with nothing changed in Okta keeps the
            # cached row as it is, and publishes from it.
            p = sc.okta_sync(conf, "--incremental")
            assert p.returncode == 0, p.stderr
            assert "not publishing an SSH key of jane stored in cache.db" in p.stderr, \
                (p.stdout, p.stderr)
            assert key_program(conf, "jane").splitlines() == [good]
            with open(snapshot_path(conf), "rb") as f:
                assert b"PWNED" not in f.read()
    in_tmp("okta-keys-", body)


@case
def a_version_3_cache_is_migrated():
    def body(tmp):
        kg = Keygen(tmp)
        good = kg.make("ed25519")
        with Emulator(small_org(109)) as emu:
            emu.add_user("jane@example.com", **{ATTR: [good]})
            conf = setup(tmp, emu)
            sync_text(conf)
            # Make it the cache an okta-sync without keys left behind.
            db = os.path.join(sc.cache_dir(conf), "cache.db")
            con = sqlite3.connect(db)
            con.execute("ALTER TABLE users DROP COLUMN ssh_keys")
            # and of what schemas 5 and 6 added (events_state is
            # created IF NOT EXISTS, so it may stay)
            con.execute("ALTER TABLE users DROP COLUMN password_changed")
            con.execute("DROP TABLE offline_creds")
            con.execute("PRAGMA user_version = 3")
            con.commit()
            con.close()
            p = sc.okta_sync(conf)
            assert p.returncode == 0, p.stderr
            assert "cache.db migrated from schema 3 to 4" in p.stderr, p.stderr
            assert "ssh_keys 0 -> 1 (added ssh-ed25519)" in p.stdout, p.stdout
            assert sc.db_rows(conf, "PRAGMA user_version") == [(6,)]
            assert key_program(conf, "jane").splitlines() == [good]
    in_tmp("okta-keys-", body)


@case
def bad_config_values_are_reported():
    def body(tmp):
        with Emulator(small_org(110)) as emu:
            conf = setup(tmp, emu, ssh_keys_attribute="ssh-key!",
                         ssh_keys_allow_options="maybe")
            p = run([OKTA_SYNC, "-c", conf, "check-config"])
            assert p.returncode == 78, (p.returncode, p.stdout, p.stderr)
            assert "[posix] ssh_keys_attribute: 'ssh-key!' is not an Okta profile " \
                "attribute name" in p.stderr, p.stderr
            assert "[posix] ssh_keys_allow_options must be yes or no" in p.stderr, p.stderr
    in_tmp("okta-keys-", body)


if __name__ == "__main__":
    main()
