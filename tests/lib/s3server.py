"""s3server - a small S3-compatible object store for the fleet tests
(issue 12), on 127.0.0.1 over plain HTTP, that VERIFIES AWS Signature
Version 4 on every request (header form, path-style URLs):

  PUT /BUCKET/KEY     store the body (x-amz-content-sha256 must be the
                      body's SHA-256 hex or UNSIGNED-PAYLOAD)
  GET /BUCKET/KEY     the object, or 404 NoSuchKey
  DELETE /BUCKET/KEY  204

A request whose signature does not verify with the configured secret is
answered 403 SignatureDoesNotMatch, as S3 does; an unknown access key
403 InvalidAccessKeyId.  It is written from the SigV4 specification
(canonical request, string to sign, HMAC-SHA256 key derivation), not from
any server's code.

    srv = S3Server(root_dir, bucket="fleet", key_id="AKIDTEST", secret="...")
    srv.endpoint       "http://127.0.0.1:PORT"
    srv.objects()      {key: bytes}
    srv.log            [(method, path, status)]
    srv.stop()
"""
import hashlib
import hmac
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _uri_encode(s, slash_ok):
    safe = "-_.~" + ("/" if slash_ok else "")
    return urllib.parse.quote(s, safe=safe)


class S3Server:
    def __init__(self, root, bucket, key_id, secret, region="us-east-1"):
        self.root, self.bucket = root, bucket
        self.key_id, self.secret, self.region = key_id, secret, region
        self.store = {}
        self.log = []
        self.lock = threading.Lock()
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _answer(self, status, body=b"", ctype="application/xml"):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if body:
                    self.send_header("Content-Type", ctype)
                self.end_headers()
                if body and self.command != "HEAD":
                    self.wfile.write(body)
                with srv.lock:
                    srv.log.append((self.command, self.path, status))

            def _error(self, status, code):
                self._answer(status, ("<Error><Code>%s</Code></Error>" % code).encode())

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                why = srv.verify(self.command, self.path, self.headers, body)
                if why:
                    return self._error(403, why)
                path = urllib.parse.urlsplit(self.path).path
                parts = path.lstrip("/").split("/", 1)
                if len(parts) != 2 or parts[0] != srv.bucket or not parts[1]:
                    return self._error(404, "NoSuchBucket")
                key = urllib.parse.unquote(parts[1])
                with srv.lock:
                    if self.command == "PUT":
                        srv.store[key] = body
                        status = 200
                    elif self.command == "DELETE":
                        srv.store.pop(key, None)
                        status = 204
                    else:
                        data = srv.store.get(key)
                        if data is None:
                            status = 404
                        else:
                            status = 200
                if self.command == "GET":
                    if status == 404:
                        return self._error(404, "NoSuchKey")
                    return self._answer(200, data, "application/octet-stream")
                self._answer(status)

            do_PUT = do_GET = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def verify(self, method, raw_path, headers, body):
        """None when the SigV4 signature verifies, else S3's error code."""
        auth = headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return "AccessDenied"
        fields = {}
        for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
            k, _, v = part.strip().partition("=")
            fields[k] = v
        cred = fields.get("Credential", "").split("/")
        if len(cred) != 5 or cred[4] != "aws4_request" or cred[3] != "s3":
            return "AuthorizationHeaderMalformed"
        if cred[0] != self.key_id:
            return "InvalidAccessKeyId"
        date, region = cred[1], cred[2]
        if region != self.region:
            return "AuthorizationHeaderMalformed"
        signed = fields.get("SignedHeaders", "").split(";")
        if "host" not in signed or "x-amz-date" not in signed:
            return "AccessDenied"
        amz_date = headers.get("x-amz-date", "")
        if not amz_date.startswith(date):
            return "AccessDenied"
        payload = headers.get("x-amz-content-sha256", "")
        if payload != "UNSIGNED-PAYLOAD":
            if payload != hashlib.sha256(body).hexdigest():
                return "XAmzContentSHA256Mismatch"
        split = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        canon_query = "&".join("%s=%s" % (_uri_encode(k, False), _uri_encode(v, False))
                               for k, v in sorted(query))
        canon_headers = "".join("%s:%s\n" % (h, " ".join((headers.get(h) or "").split()))
                                for h in signed)
        canonical = "\n".join([method, _uri_encode(urllib.parse.unquote(split.path), True),
                               canon_query, canon_headers, ";".join(signed),
                               payload or hashlib.sha256(body).hexdigest()])
        scope = "%s/%s/s3/aws4_request" % (date, region)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        k = _hmac(("AWS4" + self.secret).encode(), date)
        k = _hmac(k, region)
        k = _hmac(k, "s3")
        k = _hmac(k, "aws4_request")
        want = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, fields.get("Signature", "")):
            return "SignatureDoesNotMatch"
        return None

    def objects(self):
        with self.lock:
            return dict(self.store)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
