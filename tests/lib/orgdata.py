"""orgdata - deterministic Okta organisations for the emulator and the tests.

An "org" is a plain dict, the format tests/emulator/okta_emulator.py loads:

    {"users":  [Okta user objects, as GET /api/v1/users returns them,
                without "_links" (the emulator adds them)],
     "groups": [Okta group objects, without "_links", each with an extra
                "members": [user ids]]}

make_org(nusers, ngroups, seed) builds an ordinary org; the same arguments
always give an identical dict (ids and timestamps included).  make_hostile_org()
builds one full of entries a sync must reject or sanitise; HOSTILE_USERS and
HOSTILE_GROUPS name them, so tests can assert on each one.
"""
import calendar
import random
import time

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Every timestamp make_org writes lies in [BASE_EPOCH, BASE_EPOCH + SPAN):
# 2024-01-01 .. 2025-01-01, well before any test runs.
BASE_EPOCH = calendar.timegm((2024, 1, 1, 0, 0, 0))
SPAN = 366 * 86400

STATUSES = ("STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED",
            "LOCKED_OUT", "SUSPENDED", "DEPROVISIONED")

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael",
    "Linda", "David", "Elizabeth", "William", "Barbara", "Richard", "Susan",
    "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Daniel",
    "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Sandra", "Paul",
    "Ashley", "Steven", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
    "Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa", "George",
    "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Laura",
    "Edward", "Helen", "Jeffrey", "Sharon", "Ryan", "Cynthia", "Jacob",
    "Kathleen", "Gary", "Amy",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller",
    "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez",
    "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
    "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter",
    "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes",
)
GROUP_NAMES = (
    "Engineering", "Operations", "Sales", "Marketing", "Finance", "Support",
    "Platform Team", "Data Science", "Security", "Legal", "HR", "Design",
    "QA", "Infrastructure", "Mobile", "Frontend", "Backend", "Research",
    "Product", "IT", "Facilities", "Procurement", "Compliance", "Analytics",
    "Release Engineering", "SRE", "Database Admins", "Network", "Interns",
    "Contractors", "Executives", "Customer Success", "Partners", "Training",
    "Documentation", "Localization", "Payments", "Growth", "Search", "Ads",
    "Billing", "Identity", "Storage", "Compute", "Observability", "Build",
    "Tooling", "Accessibility", "Privacy", "Audit",
)
DEPARTMENTS = ("Engineering", "Sales", "Finance", "Operations", "Support")


def iso(epoch):
    """Okta's timestamp format, one-second resolution: 2024-01-01T00:00:00.000Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(int(epoch)))


class IdMaker:
    """Unique Okta-style ids: a 3-character prefix ("00u", "00g") + 17
    alphanumerics, drawn from rng (so deterministic for a seeded rng)."""

    def __init__(self, rng):
        self.rng = rng
        self.seen = set()

    def make(self, prefix):
        while True:
            i = prefix + "".join(self.rng.choices(ALNUM, k=17))
            if i not in self.seen:
                self.seen.add(i)
                return i


def make_user(ids, rng, login, first, last, status="ACTIVE", profile=None):
    """One Okta user object (no _links) with plausible, ordered timestamps:
    created <= activated <= statusChanged <= lastUpdated."""
    created = BASE_EPOCH + rng.randrange(SPAN // 2)
    activated = created + rng.randrange(3600)
    changed = activated + rng.randrange(86400 * 30)
    updated = changed + rng.randrange(86400 * 30)
    last_login = (updated + rng.randrange(86400)) if rng.random() < 0.8 else None
    p = {
        "firstName": first,
        "lastName": last,
        "mobilePhone": None,
        "secondEmail": None,
        "login": login,
        "email": login,
    }
    if profile:
        p.update(profile)
    pre_active = status in ("STAGED", "PROVISIONED")
    return {
        "id": ids.make("00u"),
        "status": status,
        "created": iso(created),
        "activated": None if pre_active else iso(activated),
        "statusChanged": None if status == "STAGED" else iso(changed),
        "lastLogin": None if pre_active or last_login is None else iso(last_login),
        "lastUpdated": iso(updated),
        "passwordChanged": None if status == "STAGED" else iso(activated),
        "type": {"id": "otyemu0000000000000"},
        "profile": p,
        "credentials": {
            "password": {},
            "emails": [{"value": p["email"] if isinstance(p.get("email"), str) else login,
                        "status": "VERIFIED", "type": "PRIMARY"}],
            "provider": {"type": "OKTA", "name": "OKTA"},
        },
    }


def make_group(ids, rng, name, description=None, members=(), gtype="OKTA_GROUP"):
    """One Okta group object (no _links) with its "members" (user ids)."""
    created = BASE_EPOCH + rng.randrange(SPAN // 2)
    updated = created + rng.randrange(86400 * 30)
    mupdated = updated + rng.randrange(86400 * 60)
    return {
        "id": ids.make("00g"),
        "created": iso(created),
        "lastUpdated": iso(updated),
        "lastMembershipUpdated": iso(mupdated),
        "objectClass": ["okta:user_group"],
        "type": gtype,
        "profile": {"name": name, "description": description},
        "members": list(members),
    }


def status_for(i):
    """The status make_org gives user number i: mostly ACTIVE, and in every
    100 users 2 SUSPENDED, 1 DEPROVISIONED, 1 LOCKED_OUT, 1 PASSWORD_EXPIRED,
    1 STAGED, 1 PROVISIONED, 1 RECOVERY."""
    return {7: "SUSPENDED", 57: "SUSPENDED", 13: "DEPROVISIONED",
            21: "LOCKED_OUT", 33: "PASSWORD_EXPIRED", 45: "STAGED",
            69: "PROVISIONED", 88: "RECOVERY"}.get(i % 100, "ACTIVE")


def make_org(nusers=1000, ngroups=50, seed=1, memberships_per_user=2,
             statuses=True, uid_attribute=None, uid_base=2000100000,
             everyone=False, domain="example.com"):
    """A deterministic org dict (see the module docstring).

    - Users: logins "first.last@DOMAIN" (lower case; a number is appended on
      a repeat, "james.smith2@..."), firstName/lastName capitalised,
      profile.department, profile.employeeNumber.  Status per status_for(i)
      when statuses is true (else all ACTIVE): about 92% ACTIVE, 1%
      DEPROVISIONED.
    - uid_attribute="uidNumber": every user also gets that custom profile
      attribute, uid_base + i (an int).
    - Groups: GROUP_NAMES in order ("Engineering", "Operations", "Sales",
      ..., "Platform Team", ...), then "Group 0051", ...; type OKTA_GROUP,
      description "<name> group".
    - Memberships: each user in min(memberships_per_user, ngroups) distinct
      random groups, member lists sorted by user id.
    - everyone=True adds Okta's BUILT_IN "Everyone" group holding every user.
    Same arguments => identical dict.
    """
    rng = random.Random(seed)
    ids = IdMaker(rng)
    users = []
    seen = {}
    for i in range(nusers):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        base = ("%s.%s" % (first, last)).lower()
        n = seen.get(base, 0) + 1
        seen[base] = n
        local = base if n == 1 else "%s%d" % (base, n)
        profile = {"department": DEPARTMENTS[i % len(DEPARTMENTS)],
                   "employeeNumber": "%06d" % (i + 1)}
        if uid_attribute:
            profile[uid_attribute] = uid_base + i
        users.append(make_user(ids, rng, "%s@%s" % (local, domain), first, last,
                               status_for(i) if statuses else "ACTIVE", profile))
    names = []
    for j in range(ngroups):
        names.append(GROUP_NAMES[j] if j < len(GROUP_NAMES) else "Group %04d" % (j + 1))
    members = [[] for _ in range(ngroups)]
    k = min(memberships_per_user, ngroups)
    for u in users:
        for j in rng.sample(range(ngroups), k):
            members[j].append(u["id"])
    groups = []
    for j, name in enumerate(names):
        groups.append(make_group(ids, rng, name, "%s group" % name, sorted(members[j])))
    if everyone:
        groups.append(make_group(ids, rng, "Everyone", "All users in your organization",
                                 sorted(u["id"] for u in users), gtype="BUILT_IN"))
    return {"users": users, "groups": groups}


# The hostile entries make_hostile_org() adds, by a short key.  Each user is
# in the group "Hostile" (and nothing else unless said), so a sync of
# groups = Hostile sees them all.  Expected outcome is what DESIGN.md's rules
# demand; the sync's documentation decides "rejected" vs "sanitised" where
# both are allowed.
HOSTILE_USERS = {
    # key: (login, firstName, lastName, extra profile attributes)
    "root": ("root@example.com", "Root", "Admin", {}),              # maps to "root": local account
    "local_daemon": ("daemon@example.com", "Daemon", "User", {}),   # collides with local "daemon"
    "colon": ("col:on@example.com", "Colon", "Name", {}),           # ":" in the name
    "slash": ("sla/sh@example.com", "Slash", "Name", {}),           # "/" in the name
    "newline": ("new\nline@example.com", "New", "Line", {}),        # newline in the name
    "space": ("has space@example.com", "Has", "Space", {}),         # space in the name
    "upper": ("UPPER.Case@example.com", "Upper", "Case", {}),       # upper case: lower-cased to upper.case
    "dup_a": ("dup.name@example.com", "Dup", "Lower", {}),          # dup_a and dup_b map to the
    "dup_b": ("DUP.NAME@example.com", "Dup", "Upper", {}),          # same name after lower-casing
    "unicode_login": ("j\u00fcrgen.m\u00fcller@example.com", "J\u00fcrgen", "M\u00fcller", {}),
    "unicode_gecos": ("zoe.unicode@example.com", "Zo\u00eb", "\u00d1\u00fa\u00f1ez \u674e", {}),  # valid name, Unicode GECOS
    "gecos_evil": ("gecos.evil@example.com", "Eve:x:0:0", "Evil\nroot::0:0::/:/bin/sh", {}),
    "uid_zero": ("uid.zero@example.com", "Uid", "Zero", {"uidNumber": 0}),
    "uid_negative": ("uid.negative@example.com", "Uid", "Negative", {"uidNumber": -5}),
    "uid_huge": ("uid.huge@example.com", "Uid", "Huge", {"uidNumber": 99999999999}),
    "uid_system": ("uid.system@example.com", "Uid", "System", {"uidNumber": 100}),
    "uid_string": ("uid.string@example.com", "Uid", "String", {"uidNumber": "12x"}),
    "uid_valid": ("uid.valid@example.com", "Uid", "Valid", {"uidNumber": 2000000500}),  # the one good uidNumber
    "shell_evil": ("shell.evil@example.com", "Shell", "Evil", {"loginShell": "/bin/evil"}),
    "too_long": ("this.name.is.much.too.long.for.posix.systems@example.com", "Too", "Long", {}),
    "dash": ("-dash.first@example.com", "Dash", "First", {}),         # leading "-"
    "normal": ("normal.user@example.com", "Normal", "User", {}),      # a control: must be accepted
}

# Groups: key -> (name, what to expect).  "big" has big_members members.
HOSTILE_GROUPS = {
    "hostile": "Hostile",            # holds every HOSTILE_USERS user; a fine name
    "sudo": "sudo",                  # named like a local group
    "root": "root",                  # named like a local group (GID 0's name)
    "colon": "bad:group",            # ":" in the name
    "newline": "bad\ngroup",         # newline in the name
    "unicode": "D\u00e9veloppeurs",  # Unicode name
    "spaces": "Engineering Team",    # spaces: sanitised by the documented rule
    "big": "Big Group",              # big_members members ("big.userNNNNN@example.com")
}


def make_hostile_org(seed=1, big_members=10000, base_users=20, base_groups=3):
    """An org of hostile entries plus a small ordinary base.

    - base: make_org(base_users, base_groups, seed) (groups "Engineering",
      "Operations", "Sales"), all ACTIVE.
    - HOSTILE_USERS: one ACTIVE user per entry, login/firstName/lastName/
      profile as listed; all in group "Hostile" (HOSTILE_GROUPS["hostile"]).
    - HOSTILE_GROUPS: "sudo" and "root" hold the "normal" user and the
      "root" user; "bad:group", "bad\\ngroup", "D\u00e9veloppeurs",
      "Engineering Team" hold the "normal" user; "Big Group" holds
      big_members ordinary ACTIVE users "big.user00001@example.com", ...
    Same arguments => identical dict.
    """
    org = make_org(base_users, base_groups, seed=seed, statuses=False)
    rng = random.Random(seed * 7919 + 1)
    ids = IdMaker(rng)
    ids.seen.update(u["id"] for u in org["users"])
    ids.seen.update(g["id"] for g in org["groups"])
    by_key = {}
    for key, (login, first, last, extra) in HOSTILE_USERS.items():
        u = make_user(ids, rng, login, first, last, "ACTIVE", dict(extra))
        by_key[key] = u["id"]
        org["users"].append(u)
    big = []
    for i in range(big_members):
        u = make_user(ids, rng, "big.user%05d@example.com" % (i + 1), "Big",
                      "User%05d" % (i + 1), "ACTIVE")
        big.append(u["id"])
        org["users"].append(u)
    members = {
        "hostile": sorted(by_key.values()),
        "sudo": sorted([by_key["normal"], by_key["root"]]),
        "root": sorted([by_key["normal"], by_key["root"]]),
        "big": sorted(big),
    }
    for key, name in HOSTILE_GROUPS.items():
        org["groups"].append(make_group(ids, rng, name, None,
                                        members.get(key, [by_key["normal"]])))
    return org


def find_user(org, login):
    """The user dict with exactly this login, or None."""
    for u in org["users"]:
        if u["profile"]["login"] == login:
            return u
    return None


def find_group(org, name):
    """The group dict with exactly this name, or None."""
    for g in org["groups"]:
        if g["profile"]["name"] == name:
            return g
    return None
