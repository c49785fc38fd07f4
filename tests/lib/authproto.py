"""authproto - a Python codec of common/authproto.h frames, for tests.

The auth socket between pam_okta.so and okta-syncd (issue 11) carries
length-prefixed frames:

    magic "OKAP" | u8 version 1 | u8 type | u16 flags 0 | u32 length | payload

with a payload of fields `u16 tag | u16 len | bytes` (little-endian).  This
module mirrors authproto.c: the encoders check every field as the C
encoder does (a test that wants to send a bad frame builds it with
raw_frame / raw_fields), the decoder refuses what the C decoder refuses.

Client side (talks to okta-syncd as pam_okta does):

    with Client(sock_path) as c:
        c.hello("sshd", "jane", rhost="127.0.0.1", tty="ssh")
        m = c.recv()                  # Msg(type=PROMPT, prompt_id=..., ...)
        c.answer(m.prompt_id, "secret")
        ...
    # or all at once, answering prompts from a list or a function:
    res = converse(sock_path, "jane", ["password", "123456"])
    res.result.code == SUCCESS; res.prompts == [Msg, ...]

Server side (a fake broker, to test pam_okta by itself):

    with FakeBroker(path, script) as fb:      # serves in a thread
        ... run pamtester with socket=path ...
        fb.sessions[0].hello, .answers

`script(session)` is called once per connection with a Session whose
methods are prompt(style, kind, text) -> answer text (or None after a
CANCEL or a close) and result(code, offline, message); raw(bytes) sends
anything.  A script may also be a list of steps for the common case:
("prompt", style, kind, text), ("result", code, offline, message),
("raw", bytes), ("close",).
"""
import os
import re
import socket
import struct
import threading

MAGIC = b"OKAP"
VERSION = 1
HEADER_LEN = 12
PAYLOAD_MAX = 8192

CLIENT_MAX = 32
SERVICE_MAX = 64
USER_MAX = 32
RHOST_MAX = 255
TTY_MAX = 64
ANSWER_MAX = 1024
PROMPT_MAX = 512
MESSAGE_MAX = 512

HELLO, ANSWER, CANCEL, PROMPT, RESULT = 0x01, 0x02, 0x03, 0x81, 0x82
TYPE_NAMES = {HELLO: "HELLO", ANSWER: "ANSWER", CANCEL: "CANCEL",
              PROMPT: "PROMPT", RESULT: "RESULT"}
TO_DAEMON, TO_MODULE = 1, 2

ECHO_OFF, ECHO_ON, INFO, ERROR = 1, 2, 3, 4
KIND_OTHER, KIND_PASSWORD, KIND_MFA, KIND_CONFIRM = 0, 1, 2, 3

SUCCESS = 1
AUTH_ERR = 2
USER_UNKNOWN = 3
AUTHINFO_UNAVAIL = 4
MAXTRIES = 5
ACCT_EXPIRED = 6
PERM_DENIED = 7
SERVICE_ERR = 8
CODE_NAMES = {SUCCESS: "SUCCESS", AUTH_ERR: "AUTH_ERR", USER_UNKNOWN: "USER_UNKNOWN",
              AUTHINFO_UNAVAIL: "AUTHINFO_UNAVAIL", MAXTRIES: "MAXTRIES",
              ACCT_EXPIRED: "ACCT_EXPIRED", PERM_DENIED: "PERM_DENIED",
              SERVICE_ERR: "SERVICE_ERR"}

U32, U8, NAME, LINE, TEXT, SECRET = "u32", "u8", "name", "line", "text", "secret"

# type -> (direction, [(tag, kind, name, min, max)])
FIELDS = {
    HELLO: (TO_DAEMON, [(1, LINE, "client", 1, CLIENT_MAX),
                        (2, LINE, "service", 1, SERVICE_MAX),
                        (3, NAME, "user", 1, USER_MAX),
                        (4, LINE, "rhost", 0, RHOST_MAX),
                        (5, LINE, "tty", 0, TTY_MAX)]),
    ANSWER: (TO_DAEMON, [(1, U32, "prompt_id", 1, 0xffffffff),
                         (2, SECRET, "text", 0, ANSWER_MAX)]),
    CANCEL: (TO_DAEMON, []),
    PROMPT: (TO_MODULE, [(1, U32, "prompt_id", 1, 0xffffffff),
                         (2, U8, "style", ECHO_OFF, ERROR),
                         (3, U8, "kind", KIND_OTHER, KIND_CONFIRM),
                         (4, TEXT, "text", 1, PROMPT_MAX)]),
    RESULT: (TO_MODULE, [(1, U8, "code", SUCCESS, SERVICE_ERR),
                         (2, U8, "offline", 0, 1),
                         (3, TEXT, "message", 0, MESSAGE_MAX)]),
}


class ProtoError(Exception):
    """A frame the C side would refuse; .errno_name is EPROTO,
    EPROTONOSUPPORT or EMSGSIZE as authproto.c would set."""

    def __init__(self, msg, errno_name="EPROTO"):
        Exception.__init__(self, msg)
        self.errno_name = errno_name


class Msg(object):
    """A decoded message: .type plus one attribute per field (strings as
    str when valid UTF-8, else bytes for a SECRET)."""

    def __init__(self, type_, **fields):
        self.type = type_
        self.__dict__.update(fields)

    @property
    def name(self):
        return TYPE_NAMES.get(self.type, "unknown")

    def __repr__(self):
        f = dict((k, v) for k, v in self.__dict__.items() if k != "type")
        if self.type == ANSWER and "text" in f:
            f["text"] = "<secret %d bytes>" % len(f["text"])
        return "Msg(%s, %r)" % (self.name, f)


def _name_ok(b):
    # names_check (common/names.c): starts with a-z or '_', then a-z 0-9
    # _ . -, at most 32 bytes.
    if not re.fullmatch(rb"[a-z_][a-z0-9_.-]*", b) or len(b) > USER_MAX:
        return "is not a valid user name"
    return None


def _check_string(kind, b):
    """Why b is no good for a field of this kind, or None (authproto.c's
    check_string)."""
    if kind == SECRET:
        return None
    if kind == NAME:
        return _name_ok(b)
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        return "is not valid UTF-8"
    for ch in s:
        o = ord(ch)
        if (o < 0x20 and not (kind == TEXT and ch == "\n")) or o == 0x7f or 0x80 <= o <= 0x9f:
            return "holds a control character"
    return None


def _as_bytes(v):
    if v is None:
        return b""
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape")
    return bytes(v)


def raw_fields(fields):
    """Payload bytes from [(tag, bytes)] with no checks (for bad frames)."""
    out = b""
    for tag, val in fields:
        val = _as_bytes(val)
        out += struct.pack("<HH", tag, len(val)) + val
    return out


def raw_frame(type_, payload, version=VERSION, flags=0, magic=MAGIC, length=None):
    """A frame from any parts, unchecked (for garbage tests)."""
    n = len(payload) if length is None else length
    return magic + struct.pack("<BBHI", version, type_, flags, n) + payload


def encode(type_, **values):
    """One checked frame of type_ with a value per field, as the C
    encoders write it (fields in table order).  ValueError if a value
    is out of range (the C encoder's EINVAL)."""
    if type_ not in FIELDS:
        raise ValueError("unknown message type 0x%02x" % type_)
    fields = []
    for tag, kind, name, lo, hi in FIELDS[type_][1]:
        v = values.pop(name) if name in values else None
        if kind in (U32, U8):
            if v is None or not (lo <= int(v) <= hi):
                raise ValueError("%s: field %s is %r, outside %d..%d" % (TYPE_NAMES[type_], name, v, lo, hi))
            fields.append((tag, struct.pack("<I" if kind == U32 else "<B", int(v))))
        else:
            b = _as_bytes(v)
            if not (lo <= len(b) <= hi) or b"\0" in b:
                raise ValueError("%s: field %s has %d bytes, %d..%d allowed"
                                 % (TYPE_NAMES[type_], name, len(b), lo, hi))
            why = _check_string(kind, b)
            if why:
                raise ValueError("%s: field %s %s" % (TYPE_NAMES[type_], name, why))
            fields.append((tag, b))
    if values:
        raise ValueError("%s has no field %s" % (TYPE_NAMES[type_], ", ".join(values)))
    if type_ == PROMPT and values_kind_password_echo(fields):
        raise ValueError("PROMPT: a password prompt must not echo")
    payload = raw_fields(fields)
    if len(payload) > PAYLOAD_MAX:
        raise ValueError("%s: payload of %d bytes is over %d" % (TYPE_NAMES[type_], len(payload), PAYLOAD_MAX))
    return raw_frame(type_, payload)


def values_kind_password_echo(fields):
    d = dict(fields)
    return d.get(3) == bytes([KIND_PASSWORD]) and d.get(2) != bytes([ECHO_OFF])


def hello(service, user, rhost="", tty="", client="test"):
    return encode(HELLO, client=client, service=service, user=user, rhost=rhost, tty=tty)


def answer(prompt_id, text):
    return encode(ANSWER, prompt_id=prompt_id, text=text)


def cancel():
    return encode(CANCEL)


def prompt(prompt_id, style, kind, text):
    return encode(PROMPT, prompt_id=prompt_id, style=style, kind=kind, text=text)


def result(code, offline=0, message=""):
    return encode(RESULT, code=code, offline=offline, message=message)


def check_header(hdr):
    """(type, payload length) of a 12-byte header, or ProtoError."""
    if len(hdr) < HEADER_LEN:
        raise ProtoError("the frame is shorter than its %d-byte header" % HEADER_LEN)
    if hdr[:4] != MAGIC:
        raise ProtoError("bad magic: not an okta-sync auth frame")
    version, type_, flags, n = struct.unpack("<BBHI", hdr[4:12])
    if version != VERSION:
        raise ProtoError("the peer speaks auth protocol version %d" % version, "EPROTONOSUPPORT")
    if type_ not in FIELDS:
        raise ProtoError("unknown message type 0x%02x" % type_)
    if flags != 0:
        raise ProtoError("%s: unknown flags 0x%04x" % (TYPE_NAMES[type_], flags))
    if n > PAYLOAD_MAX:
        raise ProtoError("%s: announces a %d-byte payload" % (TYPE_NAMES[type_], n), "EMSGSIZE")
    return type_, n


def decode(frame, direction):
    """A Msg from one complete frame sent towards direction (TO_DAEMON or
    TO_MODULE), or ProtoError as authproto_decode refuses it."""
    type_, n = check_header(frame[:HEADER_LEN])
    tdir, fields = FIELDS[type_]
    tname = TYPE_NAMES[type_]
    if tdir != direction:
        raise ProtoError("%s is not sent to the %s" % (tname, "daemon" if direction == TO_DAEMON else "module"))
    if len(frame) - HEADER_LEN != n:
        raise ProtoError("%s: the frame has %d bytes after its header, it announces %d"
                         % (tname, len(frame) - HEADER_LEN, n))
    p = frame[HEADER_LEN:]
    out = {}
    bytag = dict((f[0], f) for f in fields)
    while p:
        if len(p) < 4:
            raise ProtoError("%s: a field header is cut off" % tname)
        tag, flen = struct.unpack("<HH", p[:4])
        if flen > len(p) - 4:
            raise ProtoError("%s: field tag %d runs past the end of the frame" % (tname, tag))
        if tag not in bytag:
            raise ProtoError("%s: unknown field tag %d" % (tname, tag))
        _, kind, name, lo, hi = bytag[tag]
        if name in out:
            raise ProtoError("%s: field %s given twice" % (tname, name))
        v = p[4:4 + flen]
        if kind in (U32, U8):
            if flen != (4 if kind == U32 else 1):
                raise ProtoError("%s: field %s has %d bytes" % (tname, name, flen))
            u = struct.unpack("<I" if kind == U32 else "<B", v)[0]
            if not (lo <= u <= hi):
                raise ProtoError("%s: field %s is %d, outside %d..%d" % (tname, name, u, lo, hi))
            out[name] = u
        else:
            if not (lo <= flen <= hi):
                raise ProtoError("%s: field %s has %d bytes, %d..%d allowed" % (tname, name, flen, lo, hi))
            if b"\0" in v:
                raise ProtoError("%s: field %s holds a NUL byte" % (tname, name))
            why = _check_string(kind, v)
            if why:
                raise ProtoError("%s: field %s %s" % (tname, name, why))
            try:
                out[name] = v.decode("utf-8")
            except UnicodeDecodeError:
                out[name] = v          # a SECRET that is not UTF-8
        p = p[4 + flen:]
    for f in fields:
        if f[2] not in out:
            raise ProtoError("%s: field %s is missing" % (tname, f[2]))
    if type_ == PROMPT and out["kind"] == KIND_PASSWORD and out["style"] != ECHO_OFF:
        raise ProtoError("PROMPT: a password prompt must not echo")
    return Msg(type_, **out)


def read_frame(sock, timeout=30.0):
    """One whole frame's bytes from a socket, None if the peer closed
    before its first byte; ProtoError on a bad header or a close
    mid-frame, socket.timeout after timeout seconds."""
    sock.settimeout(timeout)
    hdr = _recv_exact(sock, HEADER_LEN, allow_eof=True)
    if hdr is None:
        return None
    _, n = check_header(hdr)
    return hdr + _recv_exact(sock, n)


def _recv_exact(sock, n, allow_eof=False):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            if allow_eof and not buf:
                return None
            raise ProtoError("the peer closed the connection in the middle of a frame (%d of %d bytes)" % (len(buf), n))
        buf += chunk
    return buf


# ---- Client side (as pam_okta) ---------------------------------------

class Client(object):
    """A connection to the auth socket, speaking as pam_okta does."""

    def __init__(self, path, timeout=30.0):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def send_raw(self, b):
        self.sock.sendall(b)

    def hello(self, service, user, rhost="", tty="", client="test"):
        self.send_raw(hello(service, user, rhost, tty, client))

    def answer(self, prompt_id, text):
        self.send_raw(answer(prompt_id, text))

    def cancel(self):
        self.send_raw(cancel())

    def recv(self, timeout=None):
        """The daemon's next message (Msg), or None when it closed."""
        f = read_frame(self.sock, self.timeout if timeout is None else timeout)
        return None if f is None else decode(f, TO_MODULE)


class Conversation(object):
    """What converse() saw: .prompts (Msg list), .result (Msg or None if
    the daemon closed without one)."""

    def __init__(self):
        self.prompts = []
        self.result = None

    @property
    def code(self):
        return self.result.code if self.result is not None else None

    def __repr__(self):
        return "Conversation(prompts=%r, result=%r)" % ([p.text for p in self.prompts], self.result)


def converse(path, user, answers, service="test", rhost="", tty="", timeout=60.0):
    """Run one whole login on the auth socket.  answers is a list (one
    answer per PROMPT, in order; "" once it runs out) or a function
    Msg -> str, or -> None to CANCEL."""
    conv = Conversation()
    with Client(path, timeout) as c:
        c.hello(service, user, rhost, tty)
        while True:
            m = c.recv()
            if m is None:
                return conv
            if m.type == RESULT:
                conv.result = m
                return conv
            conv.prompts.append(m)
            if callable(answers):
                a = answers(m)
            else:
                a = answers[len(conv.prompts) - 1] if len(conv.prompts) <= len(answers) else ""
            if a is None:
                c.cancel()
                # The daemon may still send a RESULT after a CANCEL.
                m = c.recv()
                conv.result = m if m is not None and m.type == RESULT else None
                return conv
            c.answer(m.prompt_id, a)


# ---- Server side (a fake broker, to test pam_okta by itself) ---------

class Session(object):
    """One connection to the FakeBroker, as the script sees it."""

    def __init__(self, conn):
        self.conn = conn
        self.hello = None
        self.answers = []          # (prompt_id, text) in order
        self.cancelled = False
        self.closed_by_peer = False
        self.error = None
        self._next_id = 1

    def _recv(self):
        f = read_frame(self.conn, 30.0)
        if f is None:
            self.closed_by_peer = True
            return None
        return decode(f, TO_DAEMON)

    def prompt(self, style, kind, text, prompt_id=None):
        """Send a PROMPT, return the ANSWER's text (None after a CANCEL
        or a close).  Checks that the answer names this prompt."""
        pid = self._next_id if prompt_id is None else prompt_id
        self._next_id += 1
        self.conn.sendall(prompt(pid, style, kind, text))
        m = self._recv()
        if m is None:
            return None
        if m.type == CANCEL:
            self.cancelled = True
            return None
        if m.type != ANSWER:
            raise ProtoError("expected an ANSWER, got %s" % m.name)
        if m.prompt_id != pid:
            raise ProtoError("ANSWER for prompt %d, expected %d" % (m.prompt_id, pid))
        self.answers.append((pid, m.text))
        return m.text

    def result(self, code, offline=0, message=""):
        self.conn.sendall(result(code, offline, message))

    def raw(self, b):
        self.conn.sendall(b)


class FakeBroker(object):
    """A Unix socket server at path that runs script for each connection
    in a thread (see the module's doc).  .sessions lists every Session;
    .connections counts them."""

    def __init__(self, path, script, mode=0o666):
        self.path = path
        self.script = script
        self.sessions = []
        self.connections = 0
        self._lock = threading.Lock()
        if os.path.lexists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, mode)
        self.sock.listen(16)
        self._stop = False
        self._threads = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self._stop:
                conn.close()
                return
            with self._lock:
                self.connections += 1
                s = Session(conn)
                self.sessions.append(s)
            t = threading.Thread(target=self._serve, args=(s,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, s):
        try:
            s.hello = s._recv()
            if s.hello is None or s.hello.type != HELLO:
                raise ProtoError("expected a HELLO, got %r" % (s.hello,))
            if callable(self.script):
                self.script(s)
            else:
                for step in self.script:
                    if step[0] == "prompt":
                        if s.prompt(*step[1:]) is None:
                            break
                    elif step[0] == "result":
                        s.result(*step[1:])
                    elif step[0] == "raw":
                        s.raw(step[1])
                    elif step[0] == "close":
                        break
                    else:
                        raise ValueError("unknown step %r" % (step,))
        except Exception as e:  # shown by the test through .error
            s.error = "%s: %s" % (type(e).__name__, e)
        finally:
            try:
                s.conn.close()
            except OSError:
                pass

    def stop(self):
        self._stop = True
        try:
            # Wake accept() by connecting once; then close.
            w = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            w.settimeout(1)
            try:
                w.connect(self.path)
            except OSError:
                pass
            w.close()
        except OSError:
            pass
        self.sock.close()
        self._acceptor.join(5)
        for t in self._threads:
            t.join(5)
        if os.path.lexists(self.path):
            try:
                os.unlink(self.path)
            except OSError:
                pass
