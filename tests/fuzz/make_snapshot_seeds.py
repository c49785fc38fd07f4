#!/usr/bin/env python3
"""make_snapshot_seeds.py - (re)write the checked-in seeds of fuzz_snapshot
(tests/fuzz/corpus_snapshot) in the current snapshot format.

    OKTA_BUILD=build tests/fuzz/make_snapshot_seeds.py

Run it again when the format changes (snapshot_format.h).  It makes, with
the real writer (build/tests/mksnap):
  small.cdb    2 users, 3 groups, a tombstone
  medium.cdb   40 users of every Okta status, 10 groups, supplementary GIDs
  keys.cdb     'k' records, one of them forged with a LF (rawkey)
and, from small.cdb and medium.cdb, the record-list form fuzz_snapshot.c
also reads (*.rec: u8 klen, u16 vlen little-endian, key, value; the meta
record left out).  The writer adds the meta record last, so every record
keeps its file offset when fuzz_snapshot rebuilds the file from the list,
and the index's offsets (format 4's 'X' record) still point at their
records.  medium-noindex.rec also leaves out the index, which
fuzz_snapshot then builds itself, so that mutated records stay reachable.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("OKTA_BUILD", os.path.join(ROOT, "build"))
MKSNAP = os.path.join(BUILD, "tests", "mksnap")
OUT = os.path.join(HERE, "corpus_snapshot")
STATUSES = ["ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT", "SUSPENDED",
            "DEPROVISIONED", "STAGED", "PROVISIONED"]

SMALL = [
    "meta last_sync=1700000000 generation=3",
    "user alice 2000000001 2000000001 ACTIVE Alice%20Liddell /home/alice /bin/bash",
    "user bob 2000000002 2000000002 DEPROVISIONED - /home/bob /bin/sh",
    "group eng 2000000100 alice,bob",
    "group ops 2000000101 bob",
    "group none 2000000102 -",
    "tombstone carol 2000000003 2 1699990000 out%20of%20scope",
]

KEYS = [
    "user alice 2000000001 2000000001 ACTIVE - /home/alice /bin/bash",
    "user bob 2000000002 2000000002 ACTIVE - /home/bob /bin/bash",
    "key alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDsu3fCqJpfzuj7UZv/T6KA5HhfeXWKoaGEq3bo59u9k"
    " alice@laptop",
    "rawkey bob ssh-ed25519 AAAA%0Acommand=\"x\" ssh-ed25519 AAAA",
    "group eng 2000000100 alice,bob",
]


def medium():
    lines = ["meta last_sync=1700000000 generation=41"]
    for i in range(40):
        lines.append("user u%02d %d %d %s User%%20%d /home/u%02d /bin/bash"
                     % (i, 2000000200 + i, 2000000200 + i, STATUSES[i % 8], i, i))
    for j in range(10):
        members = ["u%02d" % i for i in range(40) if i % 10 == j or i % 7 == j]
        lines.append("group g%d %d %s" % (j, 2000000400 + j, ",".join(members)))
    return lines


def mksnap(name, lines):
    path = os.path.join(OUT, name)
    subprocess.run([MKSNAP, path], input="\n".join(lines) + "\n", text=True, check=True)
    return path


def to_rec(cdb_path, rec_path, skip=(b"M",)):
    """The data section of a cdb as a record list, without the meta (and
    whatever else skip names)."""
    with open(cdb_path, "rb") as f:
        d = f.read()
    dend = int.from_bytes(d[0:4], "little")
    pos, out = 2048, bytearray()
    while pos < dend:
        kl = int.from_bytes(d[pos:pos + 4], "little")
        vl = int.from_bytes(d[pos + 4:pos + 8], "little")
        key, val = d[pos + 8:pos + 8 + kl], d[pos + 8 + kl:pos + 8 + kl + vl]
        pos += 8 + kl + vl
        if key in skip:
            continue
        assert kl < 256 and vl < 65536, key
        out += bytes([kl]) + vl.to_bytes(2, "little") + key + val
    with open(rec_path, "wb") as f:
        f.write(out)


def main():
    if not os.access(MKSNAP, os.X_OK):
        sys.exit("make_snapshot_seeds: build %s first (make tests)" % MKSNAP)
    small = mksnap("small.cdb", SMALL)
    med = mksnap("medium.cdb", medium())
    mksnap("keys.cdb", KEYS)
    for p in (small, med):
        os.chmod(p, 0o644)
    os.chmod(os.path.join(OUT, "keys.cdb"), 0o644)
    to_rec(small, os.path.join(OUT, "small.rec"))
    to_rec(med, os.path.join(OUT, "medium.rec"))
    to_rec(med, os.path.join(OUT, "medium-noindex.rec"), skip=(b"M", b"X"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
