"""oktaconf - write an okta-sync config (and its token file) for a test.

    conf = write_config(tmp, emu, sync={"groups": "Eng"}, posix={...})

writes tmp/okta-sync.conf, tmp/token (mode 0600, owned by the caller) and
makes tmp/cache; the dicts override or add keys of their section (a value of
None removes the key).  With emu=None, pass the [okta] keys yourself.
Returns the config path.
"""
import os

DEFAULTS = {
    "okta": {"timeout": "10"},
    "cache": {},
    "sync": {},
    "posix": {},
}


def write_config(tmp, emu, okta=None, cache=None, sync=None, posix=None,
                 pam=None, token=None, extra=""):
    os.makedirs(tmp, exist_ok=True)
    sections = {k: dict(v) for k, v in DEFAULTS.items()}
    cache_dir = os.path.join(tmp, "cache")
    os.makedirs(cache_dir, exist_ok=True)
    sections["cache"]["dir"] = cache_dir
    token_path = os.path.join(tmp, "token")
    if emu is not None:
        sections["okta"]["domain"] = emu.domain
        sections["okta"]["ca_file"] = emu.ca_file
        if token is None:
            token = emu.token
    if token is not None:
        fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        os.chmod(token_path, 0o600)
    sections["okta"]["token_file"] = token_path
    for name, over in (("okta", okta), ("cache", cache), ("sync", sync),
                       ("posix", posix), ("pam", pam)):
        if over:
            sec = sections.setdefault(name, {})
            for k, v in over.items():
                if v is None:
                    sec.pop(k, None)
                else:
                    sec[k] = str(v)
    path = os.path.join(tmp, "okta-sync.conf")
    with open(path, "w") as f:
        for name, sec in sections.items():
            if not sec:
                continue
            f.write("[%s]\n" % name)
            for k, v in sec.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")
        f.write(extra)
    return path
