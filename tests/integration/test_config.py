"""check-config: every problem at once, with line numbers; the token file's
owner and mode (sshd StrictModes); what to write instead of a URL."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from oktatest import OKTA_SYNC, case, main, run, tmpdir  # noqa: E402
from oktaconf import write_config  # noqa: E402

GOOD = {"domain": "dev-123456.okta.com"}


def check(conf):
    return run([OKTA_SYNC, "-c", conf, "check-config"])


@case
def good_config_passes():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN")
    p = check(conf)
    assert p.returncode == 0, p.stderr
    assert "ok" in p.stdout and "dev-123456.okta.com" in p.stdout, p.stdout


@case
def every_problem_reported_with_line_numbers():
    t = tmpdir()
    tok = os.path.join(t, "token")
    with open(tok, "w") as f:
        f.write("00abcdefTOKEN\n")
    os.chmod(tok, 0o600)
    conf = os.path.join(t, "bad.conf")
    with open(conf, "w") as f:
        f.write("[okta]\n"                                   # 1
                "domain = https://dev-123456.okta.com/\n"    # 2
                "token_file = %s\n"                          # 3
                "colour = blue\n"                            # 4
                "[posix]\n"                                  # 5
                "uid_min = 0\n"                              # 6
                "home = /srv/homes\n"                        # 7
                "this line has no equals sign\n"             # 8
                "[sync]\n"                                   # 9
                "schedule = 61 * * * *\n"                    # 10
                "max_delete = lots\n" % tok)                 # 11
    p = check(conf)
    assert p.returncode == 78, (p.returncode, p.stderr)
    err = p.stderr
    for line, words in ((2, "write 'dev-123456.okta.com' instead"),
                        (4, "unknown key 'colour'"),
                        (6, "uid_min"),
                        (7, "%u"),
                        (8, "key = value"),
                        (10, "schedule"),
                        (11, "max_delete")):
        want = "%s:%d: " % (conf, line)
        hits = [ln for ln in err.splitlines() if ln.startswith(want)]
        assert hits, "no problem reported for line %d:\n%s" % (line, err)
        assert any(words in h for h in hits), "line %d: %r not in %s" % (line, words, hits)


@case
def domain_with_path_says_what_to_write():
    t = tmpdir()
    conf = write_config(t, None, okta={"domain": "dev-1.okta.com/admin"}, token="x")
    p = check(conf)
    assert p.returncode == 78
    assert "write 'dev-1.okta.com' instead" in p.stderr, p.stderr


@case
def admin_domain_is_refused_with_the_api_host():
    """The Admin Console's host is not an API host (its next links point at
    the org's own host): check-config refuses it and names the right one."""
    for admin, api in (("dev-123-admin.okta.com", "dev-123.okta.com"),
                       ("acme-admin.oktapreview.com:443", "acme.oktapreview.com:443")):
        t = tmpdir()
        conf = write_config(t, None, okta={"domain": admin}, token="x")
        p = check(conf)
        assert p.returncode == 78, (admin, p.returncode, p.stderr)
        assert "is the Admin Console's address, not the API's: write '%s' instead" % api \
            in p.stderr, p.stderr
    # A custom domain that merely ends in -admin is someone's own host.
    t = tmpdir()
    conf = write_config(t, None, okta={"domain": "sso-admin.example.com"}, token="x")
    assert "Admin Console" not in check(conf).stderr


@case
def system_gid_as_primary_group_is_refused():
    """libnss_okta refuses GIDs below 1000, so a fixed primary group there
    would hide every Okta user: check-config says so at once."""
    t = tmpdir()
    conf = write_config(t, None, okta={"domain": "dev-1.okta.com"}, token="x",
                        posix={"primary_group": "100"})
    p = check(conf)
    assert p.returncode == 78, (p.returncode, p.stderr)
    assert "primary_group must be 'user-private' or a GID of 1000 or more" in p.stderr, p.stderr


@case
def missing_domain_and_token_file():
    t = tmpdir()
    conf = os.path.join(t, "c.conf")
    with open(conf, "w") as f:
        f.write("[cache]\ndir = %s\n" % t)
    p = check(conf)
    assert p.returncode == 78
    assert "domain is not set" in p.stderr and "token_file is not set" in p.stderr, p.stderr


@case
def token_file_readable_by_others_is_refused():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN")
    os.chmod(os.path.join(t, "token"), 0o644)
    p = check(conf)
    assert p.returncode == 78
    assert "chmod 600" in p.stderr, p.stderr
    assert "00abcdefTOKEN" not in p.stderr + p.stdout


@case
def token_file_owned_by_another_user_is_refused():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN")
    os.chown(os.path.join(t, "token"), 65534, 65534)
    p = check(conf)
    assert p.returncode == 78
    assert "owned by root" in p.stderr, p.stderr


@case
def missing_config_file():
    p = check("/nonexistent/okta-sync.conf")
    assert p.returncode == 78
    assert "cannot read /nonexistent/okta-sync.conf" in p.stderr, p.stderr


@case
def symlinked_token_file_is_refused():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN")
    real = os.path.join(t, "token.real")
    os.rename(os.path.join(t, "token"), real)
    os.symlink(real, os.path.join(t, "token"))
    p = check(conf)
    assert p.returncode == 78, (p.returncode, p.stdout)
    assert "symbolic link" in p.stderr, p.stderr


@case
def hash_comment_after_a_value_is_a_comment():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN",
                        extra="[posix]\nhome = /srv/home/%u   # where homes live\n")
    p = check(conf)
    assert p.returncode == 0, p.stderr
    assert "dev-123456.okta.com" in p.stdout


@case
def key_set_twice_is_reported():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN",
                        extra="[sync]\nmax_delete = 10%\nmax_delete = 20%\n")
    p = check(conf)
    assert p.returncode == 78
    assert "max_delete is set more than once; keep one" in p.stderr, p.stderr


# ---- [pam] (issue 14, part 5) ---------------------------------------------

def pam_d(t, files):
    """A PAM configuration directory for check-config --pam-dir."""
    d = os.path.join(t, "pam.d")
    os.makedirs(d, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    return d


@case
def pam_section_bad_values_have_line_numbers():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN")
    with open(conf) as f:
        n = len(f.read().splitlines())
    with open(conf, "a") as f:
        f.write("[pam]\n"                            # n+1
                "max_cache_age = a week\n"           # n+2
                "stale_policy = sometimes\n"         # n+3
                "allowed_groups = Eng Team\n"        # n+4
                "deny_recovery = perhaps\n"          # n+5
                "tombstone = keep\n")                # n+6
    p = check(conf)
    assert p.returncode == 78, (p.returncode, p.stderr)
    for line, words in ((n + 2, "[pam] max_cache_age must be"),
                        (n + 3, "[pam] stale_policy must be 'deny' or 'allow'"),
                        (n + 4, "[pam] allowed_groups: 'Eng Team'"),
                        (n + 5, "[pam] deny_recovery must be yes or no"),
                        (n + 6, "[pam] tombstone must be 'deny' or 'ignore'")):
        want = "%s:%d: %s" % (conf, line, words)
        assert want in p.stderr, "missing %r in:\n%s" % (want, p.stderr)


@case
def pam_section_is_summarised():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN",
                        pam={"allowed_groups": "eng, ops", "max_cache_age": "36h"})
    p = run([OKTA_SYNC, "-c", conf, "check-config", "--pam-dir", pam_d(t, {})])
    assert p.returncode == 0, p.stderr
    assert "pam policy      max_cache_age 36h, stale_policy deny, allowed_groups eng,ops" \
        in p.stdout, p.stdout
    # An empty [pam] is the safe default.
    conf = write_config(tmpdir(), None, okta=GOOD, token="00abcdefTOKEN")
    p = run([OKTA_SYNC, "-c", conf, "check-config", "--pam-dir", pam_d(t, {})])
    assert "pam policy      max_cache_age 7d, stale_policy deny\n" in p.stdout, p.stdout


@case
def module_options_that_override_pam_section_are_reported():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN",
                        pam={"allowed_groups": "eng,ops", "max_cache_age": "7d",
                             "deny_recovery": "yes"})
    with open(conf) as f:
        lines = f.read().splitlines()
    ag_line = lines.index("allowed_groups = eng,ops") + 1
    d = pam_d(t, {
        "common-account":
            "account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\n"
            "# pam_okta.so max_cache_age=0 (a comment)\n"
            "account\t[success=ok user_unknown=ignore ignore=ignore default=bad]\t"
            "pam_okta.so max_cache_age=0\n",                               # line 3
        "sshd":
            "@include common-account\n"
            "account required /lib/x86_64-linux-gnu/security/pam_okta.so "
            "allowed_groups=ops,eng max_cache_age=168h recovery=deny\n"     # line 2: all equal
            "account required pam_okta.so allowed_groups=sre debug\n",     # line 3
        "login": "account required pam_unix.so max_cache_age=0\n",
    })
    p = run([OKTA_SYNC, "-c", conf, "check-config", "--pam-dir", d])
    assert p.returncode == 0, (p.returncode, p.stderr)
    out = p.stdout
    got = [ln for ln in out.splitlines() if ": conflict: " in ln]
    assert len(got) == 2, out
    assert got[0].startswith("%s/common-account:3: conflict: pam_okta.so max_cache_age=0 "
                             "(no limit), but [pam] max_cache_age is 7d (%s:" % (d, conf)), got
    assert got[1] == ("%s/sshd:3: conflict: pam_okta.so allowed_groups=sre, but [pam] "
                      "allowed_groups is set (%s:%d); on this line the option wins"
                      % (d, conf, ag_line)), got
    assert "2 pam_okta.so options override [pam]" in out, out
    # No pam_okta line with options: nothing to report.
    d2 = pam_d(tmpdir(), {"common-account": "account required pam_okta.so\n"})
    p = run([OKTA_SYNC, "-c", conf, "check-config", "--pam-dir", d2])
    assert p.returncode == 0 and "conflict" not in p.stdout, p.stdout


if __name__ == "__main__":
    main()
