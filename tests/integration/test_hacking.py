"""test_hacking - doc/HACKING.md stays true, and syncd/ keeps its shape.

- Every path HACKING.md names in backticks exists, and every function it
  names (`name()`) is defined in the tree (C: at the start of a line, as
  this code defines functions; Python: `def name(`).
- No function in syncd/ is longer than 80 lines (opening brace to closing
  brace), but for the tables and switches listed in LONG_ON_PURPOSE.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import ROOT, case, main  # noqa: E402

HACKING = os.path.join(ROOT, "doc", "HACKING.md")
MAX_LINES = 80
# Functions that are one table or one switch, where splitting would only
# scatter it ("function: why").
LONG_ON_PURPOSE = {}


def sources(exts=(".c", ".h", ".py", ".sh")):
    for top in ("common", "nss", "pam", "syncd", "tests", "scripts"):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for n in files:
                if n.endswith(exts):
                    yield os.path.join(d, n)


def defined(name):
    c_def = re.compile(r"^%s\(" % re.escape(name), re.M)
    py_def = re.compile(r"^\s*def %s\(" % re.escape(name), re.M)
    for p in sources():
        with open(p, errors="replace") as f:
            text = f.read()
        if (p.endswith(".py") and py_def.search(text)) or c_def.search(text):
            return True
    return False


@case
def every_named_file_and_function_exists():
    with open(HACKING) as f:
        text = f.read()
    spans = re.findall(r"`([^`]+)`", text)
    paths = [s for s in spans if "/" in s and re.match(r"^[\w./-]+$", s) and not s.startswith("../")]
    funcs = [s[:-2] for s in spans if re.match(r"^[A-Za-z_]\w*\(\)$", s)]
    assert len(paths) >= 20 and len(funcs) >= 15, (paths, funcs)
    missing = [p for p in paths if not os.path.exists(os.path.join(ROOT, p.rstrip("/")))]
    assert not missing, "HACKING.md names files that do not exist: %s" % missing
    undefined = [f for f in funcs if not defined(f)]
    assert not undefined, "HACKING.md names functions nobody defines: %s" % undefined


def long_functions():
    out = []
    for d, _, files in os.walk(os.path.join(ROOT, "syncd")):
        for n in sorted(files):
            if not n.endswith(".c"):
                continue
            path = os.path.join(d, n)
            with open(path) as f:
                lines = f.read().split("\n")
            i = 0
            while i < len(lines):
                m = re.match(r"^([a-z_][a-z0-9_]*)\(", lines[i])
                if m:
                    j = i
                    while j < len(lines) and lines[j] != "{" and not lines[j].endswith(";"):
                        j += 1
                    if j < len(lines) and lines[j] == "{":
                        k = j
                        while k < len(lines) and lines[k] != "}":
                            k += 1
                        if k - j + 1 > MAX_LINES and m.group(1) not in LONG_ON_PURPOSE:
                            out.append("%s: %s() is %d lines"
                                       % (os.path.relpath(path, ROOT), m.group(1), k - j + 1))
                        i = k
                i += 1
    return out


@case
def no_function_in_syncd_is_over_80_lines():
    too_long = long_functions()
    assert not too_long, "split these into their steps (doc/HACKING.md):\n" + "\n".join(too_long)


if __name__ == "__main__":
    main()
