#!/usr/bin/env python3
"""bench_keys.py - okta-sync-keys, whole process, against /bin/true (issue
10, "Performance").

sshd runs the key program for every key a client offers, so what counts is
the whole process: exec, the dynamic loader, opening and mapping the
snapshot, the account decision, the keys.  The data: a snapshot of 100,000
users (build/tests/mksnap), one of them, "okta-user", ACTIVE with 3 keys
(ed25519, ECDSA, RSA 3072 from ssh-keygen), in an allowed group of the
[pam] policy so that the decision walks the group too.  Measured side by
side with bench/spawn_loop (posix_spawn + wait4, stdout to /dev/null), in
interleaved rounds so that drift hits both alike:

    okta-sync-keys --snapshot S --passwd /etc/passwd okta-user
    /bin/true

Target: at most 1.5 x /bin/true.  Needs root: the snapshot must be owned
by root to be trusted, as on a real host.
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("OKTA_BUILD", os.path.join(ROOT, "build"))
MKSNAP = os.path.join(BUILD, "tests", "mksnap")
KEYS = os.path.join(BUILD, "okta-sync-keys")
SPAWN = os.path.join(BUILD, "bench", "spawn_loop")
NUSERS, NGROUPS = 100000, 1000
UID0 = GID0 = 2000000000
TARGET = 1.5


def keygen(d):
    out = []
    for i, (kind, bits) in enumerate((("ed25519", None), ("ecdsa", None), ("rsa", "3072"))):
        path = os.path.join(d, "key%d" % i)
        cmd = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "okta-user-%d@bench" % i, "-f", path]
        if bits:
            cmd[4:4] = ["-b", bits]
        subprocess.run(cmd, check=True)
        with open(path + ".pub") as f:
            out.append(f.read().strip())
    return out


def make_snapshot(d, keys):
    users = ["okta-user"] + ["u%06d" % i for i in range(1, NUSERS)]
    members = [[] for _ in range(NGROUPS)]
    desc = ["meta last_sync=%d generation=1" % int(time.time()),
            "policy allowed_groups=grp00000"]
    for i, name in enumerate(users):
        desc.append("user %s %d %d ACTIVE - /home/%s /bin/bash"
                    % (name, UID0 + 1 + i, UID0 + 1 + i, name))
        members[i % NGROUPS].append(name)
    for j in range(NGROUPS):
        desc.append("group grp%05d %d %s" % (j, GID0 + 1 + NUSERS + j, ",".join(members[j])))
    desc += ["key okta-user " + k for k in keys]
    path = os.path.join(d, "snapshot.cdb")
    subprocess.run([MKSNAP, path], input="\n".join(desc) + "\n", text=True, check=True)
    return path


def spawn(n, cmd):
    out = subprocess.run([SPAWN, str(n)] + cmd, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        sys.exit("bench_keys: %s failed in the loop: %s" % (" ".join(cmd), out.stderr))
    f = dict(kv.split("=") for kv in out.stdout.split())
    return float(f["wall_us"]), float(f["min_us"]), float(f["cpu_us"])


def main():
    if os.geteuid() != 0:
        print("bench_keys: SKIP (needs root: the snapshot must be root's to be trusted)")
        return 0
    for p in (MKSNAP, KEYS):
        if not os.path.exists(p):
            sys.exit("bench_keys: %s is missing: run make" % p)
    os.makedirs(os.path.dirname(SPAWN), exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", SPAWN, os.path.join(ROOT, "bench", "spawn_loop.c")],
                   check=True)
    d = tempfile.mkdtemp(prefix="okta-bench-keys-")
    t0 = time.monotonic()
    keys = keygen(d)
    snap = make_snapshot(d, keys)
    print("data: %d users, %d groups, okta-user with %d keys; snapshot %.1f MB (made in %.1f s)"
          % (NUSERS, NGROUPS, len(keys), os.path.getsize(snap) / 1e6, time.monotonic() - t0))
    cmd = [KEYS, "--snapshot", snap, "--passwd", "/etc/passwd", "okta-user"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0 or p.stdout != "".join(k + "\n" for k in keys):
        sys.exit("bench_keys: the key program did not print the 3 keys (exit %d):\n%s%s"
                 % (p.returncode, p.stdout, p.stderr))
    n = 300
    k_med = k_min = k_cpu = t_med = t_min = t_cpu = float("inf")
    for _ in range(5):
        m, f, c = spawn(n, ["/bin/true"])
        t_med, t_min, t_cpu = min(t_med, m), min(t_min, f), min(t_cpu, c)
        m, f, c = spawn(n, cmd)
        k_med, k_min, k_cpu = min(k_med, m), min(k_min, f), min(k_cpu, c)
    print("\nwhole process (us per run, bench/spawn_loop, %d runs x 5 rounds)" % n)
    print("  /bin/true                     fastest %6.0f us  median %6.0f us  CPU %6.0f us"
          % (t_min, t_med, t_cpu))
    print("  okta-sync-keys okta-user      fastest %6.0f us  median %6.0f us  CPU %6.0f us"
          % (k_min, k_med, k_cpu))
    ratio = k_med / t_med
    print("  ratio okta-sync-keys / true: fastest %.2fx, median %.2fx, CPU %.2fx"
          % (k_min / t_min, ratio, k_cpu / t_cpu))
    print("\ntarget: median ratio %.2fx (<= %.1fx): %s"
          % (ratio, TARGET, "met" if ratio <= TARGET else "NOT met"))
    subprocess.run(["rm", "-rf", d])
    return 0


if __name__ == "__main__":
    sys.exit(main())
