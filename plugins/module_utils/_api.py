# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one HTTP client of the collection, shared by every module and the inventory plugin.

It knows the two response envelopes of the /v1 API, owns the retry loop and the fail-over across
several manager URLs, and turns every failure into one exception type, ``TosApiError``.
It never calls ``fail_json``: callers decide what a failure means.
"""

from __future__ import annotations

import ipaddress
import math
import os
import random
import time
import traceback
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

try:
    import requests
    from requests.exceptions import ConnectionError as _RequestsConnectionError
    from requests.exceptions import ConnectTimeout, ReadTimeout, SSLError

    # urllib3 2.x's NameResolutionError is a NewConnectionError; 1.26 has no such class.
    from urllib3.exceptions import NewConnectionError

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by the sanity import test
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

try:
    from urllib3.exceptions import InsecureRequestWarning
except ImportError:  # pragma: no cover
    InsecureRequestWarning = None


USER_AGENT = "tos.cloud-ansible/0.1.0"

# HTTP statuses worth another attempt for a request that is safe to repeat (GET).
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
# Longest we sleep between attempts, whatever Retry-After says.
MAX_SLEEP = 30.0


class TosApiError(Exception):
    """Any failure talking to the manager: transport, HTTP status or an error envelope.

    ``kind`` is one of ``connection`` (nothing reached a server), ``timeout``, ``tls``, ``auth``
    (HTTP 401/403), ``http`` (other HTTP error), ``api`` (an error envelope), ``protocol``
    (a response that is not an envelope), ``options`` (a connection option is unusable; nothing
    was sent).  ``may_have_landed`` is true when a mutating request
    may have been applied although no answer arrived: the caller must re-read state.
    """

    def __init__(self, message, method=None, path=None, url=None, kind="api", http_status=None,
                 code=None, message_en=None, message_cn=None, may_have_landed=False,
                 retryable=False, retry_after=None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.url = url
        self.kind = kind
        self.http_status = http_status
        self.code = code
        self.message_en = message_en
        self.message_cn = message_cn
        self.may_have_landed = may_have_landed
        self.retryable = retryable
        self.retry_after = retry_after

    def to_dict(self):
        """Facts about the failure that are safe to return to the user."""
        return {
            "method": self.method,
            "path": self.path,
            "url": self.url,
            "kind": self.kind,
            "http_status": self.http_status,
            "code": self.code,
            "message_en": self.message_en,
            "message_cn": self.message_cn,
        }


def parse_envelope(payload):
    """Return ``(code, message_en, message_cn, data)`` for either documented envelope.

    New style: ``{"scode", "desc", "message", "message_cn"/"messageCn", "stack", "data"}``.
    Legacy:    ``{"status_code", "message_en", "message_cn", "data"}``.
    Returns None when ``payload`` is neither.
    """
    if not isinstance(payload, dict):
        return None
    if "scode" in payload:
        code = payload.get("scode")
        en = payload.get("message") or payload.get("desc") or ""
        cn = payload.get("message_cn") or payload.get("messageCn") or ""
    elif "status_code" in payload:
        code = payload.get("status_code")
        en = payload.get("message_en") or ""
        cn = payload.get("message_cn") or ""
    else:
        return None
    try:
        code = int(code or 0)
    except (TypeError, ValueError):
        code = -1
    return code, en, cn, payload.get("data")


def inner_status(data):
    """Some answers carry a second status inside ``data`` (``data.status`` or
    ``data.meta_data.status``); return ``(code, en, cn)`` when it reports a failure."""
    if not isinstance(data, dict):
        return None
    candidates = [data.get("status")]
    if isinstance(data.get("meta_data"), dict):
        candidates.append(data["meta_data"].get("status"))
    for status in candidates:
        if isinstance(status, dict) and status.get("code") not in (None, 0, "0", ""):
            return (status.get("code"), status.get("message") or status.get("desc") or "",
                    status.get("messageCn") or status.get("message_cn") or "")
    return None


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def backoff_delay(attempt, base=0.5, cap=MAX_SLEEP, rand=random.random):
    """Exponential backoff with full jitter: a random delay in [base*2**attempt / 2, base*2**attempt],
    never more than ``cap``.  ``attempt`` counts from 0."""
    ceiling = min(cap, base * (2 ** attempt))
    return ceiling / 2 + rand() * ceiling / 2


def normalize_urls(api_url):
    """Accept a string, a comma-separated string or a list; return a list of base URLs.

    A trailing ``/v1`` (what the documents' example URLs show before the endpoint) is dropped: the
    client adds it to every path itself.
    """
    if api_url is None:
        return []
    if isinstance(api_url, str):
        api_url = api_url.split(",")
    urls = []
    for item in api_url:
        for part in str(item).split(","):
            part = part.strip()
            base = part.rstrip("/")
            if base.lower().endswith("/v1"):
                base = base[:-3].rstrip("/")
            if part:
                # "http://" stays as written, so that its message says what is missing
                urls.append(base if "://" in base else part)
    return urls


# Sane bounds of ``timeout`` (seconds): more than 0 (0 or less cannot be waited for), at most an hour,
# more than any single answer of the manager needs (a huge number overflows the socket layer).
TIMEOUT_MAX = 3600
URL_SOURCE = "api_url (TOS_API_URL)"


def url_problem(url):
    """Why ``url`` cannot be a manager's base URL, or None.  The message names api_url/TOS_API_URL
    and never echoes a user name or password written into the URL."""
    where = "%s entry %r" % (URL_SOURCE, url)
    if not url:
        return "%s: an entry is empty" % URL_SOURCE
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "%s contains spaces or control characters" % where
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return "%s must start with http:// or https:// (e.g. https://192.0.2.10:9990)" % where
    if "@" in rest.split("/", 1)[0]:
        return "%s: a user name or password in the URL is not supported; set api_token (TOS_API_TOKEN) " \
               "instead" % URL_SOURCE
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        text = str(exc)
        if "Port" in text or "port" in text:
            return "%s has a port that is not a number from 1 to 65535" % where
        return "%s is not a valid URL (%s; an IPv6 address is written in brackets: https://[2001:db8::1]:9990)" % (
            where, text)
    if not parts.hostname:
        return "%s has no host name or address (e.g. https://192.0.2.10:9990)" % where
    if port == 0:
        return "%s has a port that is not a number from 1 to 65535" % where
    if not _is_ip(parts.hostname) and (len(parts.hostname) > 253 or not all(
            0 < len(label) <= 63 for label in parts.hostname.rstrip(".").split("."))):
        # RFC 1035 2.3.4: labels of 1-63 characters, names of at most 253 (what DNS can resolve)
        return "%s has a host name with an empty or too long part" % where
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return "%s must not have a query string or fragment" % where
    try:
        requests.models.PreparedRequest().prepare_url(url + "/v1/system/version", None)
    except (requests.exceptions.RequestException, ValueError, UnicodeError) as exc:
        return "%s is not a valid URL: %s" % (where, str(exc).split("\n", maxsplit=1)[0][:200])
    return None


def _is_ip(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def token_problem(token):
    """Why ``token`` (already stripped) cannot be sent in an HTTP header, or None; never shows the token.

    RFC 6750 section 2.1: a bearer token is visible ASCII (``b64token``); anything else cannot be
    written into the Authorization header."""
    if token is not None and not isinstance(token, str):
        return "api_token (TOS_API_TOKEN) must be a string"
    if token and any(not 33 <= ord(ch) <= 126 for ch in token):
        return "api_token (TOS_API_TOKEN) contains spaces, control or non-ASCII characters inside it, which an " \
               "HTTP header cannot carry (the token is not shown here); check that it was copied whole"
    return None


def timeout_problem(timeout):
    """Why ``timeout`` is not a usable number of seconds, or None."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or (isinstance(timeout, float) and math.isnan(timeout)):
        return "timeout (TOS_TIMEOUT): %r is not a number of seconds" % (timeout,)
    if not 0 < timeout <= TIMEOUT_MAX:
        return "timeout (TOS_TIMEOUT): %s is not a number of seconds from 1 to %s" % (timeout, TIMEOUT_MAX)
    return None


def connection_problems(api_url, api_token=None, timeout=30):
    """Check the connection options before any request.

    Returns ``(urls, token, problems)``: the base URLs (``/v1`` suffix dropped), the token without
    surrounding whitespace (an ``echo token | ansible-vault encrypt_string`` keeps a newline) and
    the list of messages, each naming the option and its environment variable.
    """
    urls = normalize_urls(api_url)
    problems = []
    if not urls:
        problems.append("%s is not set: give the manager's URL with the api_url option or the TOS_API_URL "
                        "environment variable (e.g. https://192.0.2.10:9990)" % URL_SOURCE)
    problems.extend(filter(None, (url_problem(url) for url in urls)))
    token = api_token.strip() if isinstance(api_token, str) else api_token
    problems.append(token_problem(token))
    problems.append(timeout_problem(30 if timeout is None else timeout))
    return urls, token or None, [p for p in problems if p]


def _not_sent(exc):
    """True when a transport error proves the request never reached a server."""
    if isinstance(exc, ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError)


class TosClient:
    """Talks to one manager, failing over across ``api_url`` entries.

    ``retries`` is how many extra attempts a safe request (GET) gets after a transient failure.
    """

    def __init__(self, api_url, api_token=None, validate_certs=True, ca_path=None, timeout=30,
                 retries=3, backoff=0.5, sleep=time.sleep):
        if not HAS_REQUESTS:
            raise TosApiError("The Python library 'requests' is required by tos.cloud but is not installed.",
                              kind="protocol")
        self.urls, api_token, problems = connection_problems(api_url, api_token, timeout)
        if problems:
            raise TosApiError("Invalid connection options: %s." % "; ".join(problems), kind="options")
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self._sleep = sleep
        self._current = 0
        # fail-over: the URLs that did not answer since the last answer, and the warnings given
        self.warn = None
        self._unanswered = []
        self._told = set()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        if api_token:
            self.session.headers["Authorization"] = "Bearer %s" % api_token
        # Passed with every request: a session-level setting loses to REQUESTS_CA_BUNDLE.
        if not validate_certs:
            self.verify = False
            if InsecureRequestWarning is not None:
                import warnings
                warnings.simplefilter("ignore", InsecureRequestWarning)
        else:
            if ca_path and not os.path.exists(ca_path):
                raise TosApiError("ca_path (TOS_CA_PATH) %s does not exist: give the PEM bundle of the CA that signed "
                                  "the manager's certificate." % ca_path, kind="tls")
            self.verify = ca_path or True

    # -- public API -------------------------------------------------------------------------

    @property
    def base_url(self):
        return self.urls[self._current]

    def get(self, path, params=None):
        """GET ``path`` with a query string; return ``data`` of the envelope."""
        return self.request("GET", path, params=params)

    def post(self, path, body=None):
        """POST ``path`` with a JSON body; return ``data`` of the envelope.  Never repeated once
        it may have reached a server: failures then carry ``may_have_landed=True``."""
        return self.request("POST", path, body=body if body is not None else {})

    def post_verified(self, path, body, landed, attempts=2):
        """POST, and when the answer is lost, ask ``landed()`` (which re-reads state) whether
        the change was applied before deciding to send it again.

        ``landed`` returns a truthy value when the desired state is already there; that value is
        then returned in place of the POST's data.
        """
        last = None
        for attempt in range(max(1, attempts)):
            try:
                return self.post(path, body)
            except TosApiError as exc:
                if not exc.may_have_landed:
                    raise
                last = exc
            if last.kind == "timeout":
                # No answer in time: the manager may still be working on the request, so state read
                # now can miss it and a second POST could apply it twice.  Watch state for a while
                # and never send it again.
                outcome = _watch(landed, max(float(getattr(self, "timeout", None) or 0), 5.0), self._sleep, self.backoff)
                if outcome:
                    return outcome
                last.message += (" It was not sent again, so that it cannot be applied twice; check the manager's "
                                 "state and re-run the task.")
                raise last
            self._sleep(backoff_delay(attempt, self.backoff))
            outcome = landed()
            if outcome:
                return outcome
        raise last

    def paginate(self, path, params=None, page_size=100, items_key="list", total_key="total_count"):
        """Yield every item of a paged list endpoint (``page_num`` from 1, ``page_size``)."""
        params = dict(params or {})
        page = 1
        seen = 0
        while True:
            query = dict(params, page_num=page, page_size=page_size)
            data = self.get(path, query) or {}
            items = data.get(items_key) or []
            yield from items
            seen += len(items)
            total = data.get(total_key)
            if not items or len(items) < page_size:
                return
            if isinstance(total, int) and seen >= total:
                return
            page += 1

    # -- the request loop -----------------------------------------------------------------

    def request(self, method, path, params=None, body=None):
        safe = method == "GET"
        attempt = 0
        tried_urls = 0
        while True:
            url = self.base_url + path
            try:
                data = self._once(method, path, url, params, body)
                self._tell_failover()
                return data
            except TosApiError as exc:
                if exc.kind == "connection" and not exc.may_have_landed and len(self.urls) > 1 \
                        and tried_urls < len(self.urls) - 1:
                    # Nothing reached this manager: the next URL is safe for any method.
                    tried_urls += 1
                    self._unanswered.append((self.base_url, exc.message.split(". Check ", 1)[0]))
                    self._current = (self._current + 1) % len(self.urls)
                    continue
                if not exc.retryable or attempt >= self.retries:
                    raise
                if not safe and exc.may_have_landed:
                    raise
                delay = backoff_delay(attempt, self.backoff)
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, MAX_SLEEP))
                attempt += 1
                tried_urls = 0
                self._sleep(delay)

    def _tell_failover(self):
        """Warn (once per client, i.e. per task or inventory run) which manager URL answered after the ones
        before it in api_url did not, and why."""
        unanswered, self._unanswered = self._unanswered, []
        for url, why in unanswered:
            if (url, self.base_url) in self._told or self.warn is None:
                continue
            self._told.add((url, self.base_url))
            self.warn("api_url: failed over from %s to %s, which answered; %s did not: %s" % (
                url, self.base_url, url, why))

    def _once(self, method, path, url, params, body):
        try:
            if method == "GET":
                resp = self.session.get(url, params=params, timeout=self.timeout, verify=self.verify)
            else:
                resp = self.session.request(method, url, json=body, timeout=self.timeout, verify=self.verify)
        except SSLError as exc:
            raise TosApiError(
                "TLS verification failed for %s %s: %s. Set ca_path (TOS_CA_PATH) to the CA bundle that "
                "signed the manager's certificate, or validate_certs=false (TOS_VALIDATE_CERTS) to skip the "
                "check on a trusted network." % (method, url, _short(exc)),
                method=method, path=path, url=url, kind="tls")
        except ReadTimeout:
            landed_note = "; the request may have been applied" if method != "GET" else ""
            raise TosApiError(
                "%s %s timed out after %ss waiting for the manager's answer%s. Raise timeout (TOS_TIMEOUT) "
                "if the manager is slow." % (method, url, self.timeout, landed_note),
                method=method, path=path, url=url, kind="timeout", retryable=True,
                may_have_landed=method != "GET")
        except (ConnectTimeout, _RequestsConnectionError) as exc:
            not_sent = _not_sent(exc)
            if not_sent:
                msg = "Cannot connect to the manager at %s (%s %s): %s. Check api_url (TOS_API_URL) and that " \
                      "the manager is reachable." % (self.base_url, method, path, _short(exc))
            else:
                msg = "The connection to %s was lost during %s %s: %s%s." % (
                    self.base_url, method, path, _short(exc),
                    "; the request may have been applied" if method != "GET" else "")
            raise TosApiError(msg, method=method, path=path, url=url, kind="connection", retryable=True,
                              may_have_landed=not not_sent and method != "GET")
        return self._interpret(method, path, url, resp)

    def _interpret(self, method, path, url, resp):
        try:
            payload = resp.json()
        except ValueError:
            payload = None
        envelope = parse_envelope(payload)
        status = resp.status_code
        if status in (401, 403):
            code, en, cn = (envelope[0], envelope[1], envelope[2]) if envelope else (None, None, None)
            raise TosApiError(
                "Authentication failed (HTTP %s) for %s %s%s. Set api_token (or the TOS_API_TOKEN "
                "environment variable) to a valid token for this manager." % (
                    status, method, path, _server_says(en, cn)),
                method=method, path=path, url=url, kind="auth", http_status=status, code=code,
                message_en=en, message_cn=cn)
        if status >= 400:
            retryable = status in RETRY_STATUSES
            # A gateway or server error on a POST does not prove the change was not applied.
            landed = method != "GET" and status in (500, 502, 503, 504)
            code, en, cn = (envelope[0], envelope[1], envelope[2]) if envelope else (None, None, None)
            raise TosApiError(
                "%s %s failed with HTTP %s%s%s." % (
                    method, path, status, " " + resp.reason if resp.reason else "", _server_says(en, cn)),
                method=method, path=path, url=url, kind="http", http_status=status, code=code,
                message_en=en, message_cn=cn, retryable=retryable, may_have_landed=landed,
                retry_after=parse_retry_after(resp.headers.get("Retry-After")))
        if envelope is None:
            content_type = resp.headers.get("Content-Type", "no content type")
            raise TosApiError(
                "%s %s returned a response that is not a /v1 API envelope (HTTP %s, %s). Check that api_url "
                "points at the manager's API port." % (method, path, status, content_type),
                method=method, path=path, url=url, kind="protocol", http_status=status)
        code, en, cn, data = envelope
        if code != 0:
            raise TosApiError(
                "%s %s was refused by the manager (code %s)%s." % (method, path, code, _server_says(en, cn)),
                method=method, path=path, url=url, kind="api", http_status=status, code=code,
                message_en=en, message_cn=cn)
        inner = inner_status(data)
        if inner:
            raise TosApiError(
                "%s %s was refused by the manager (code %s)%s." % (
                    method, path, inner[0], _server_says(inner[1], inner[2])),
                method=method, path=path, url=url, kind="api", http_status=status, code=inner[0],
                message_en=inner[1], message_cn=inner[2])
        return data


def _watch(landed, window, sleep, backoff):
    """Poll ``landed()`` with backoff for about ``window`` seconds; return its last outcome."""
    waited = 0.0
    attempt = 0
    while True:
        delay = min(backoff_delay(attempt, backoff), 2.0)
        sleep(delay)
        waited += delay
        outcome = landed()
        attempt += 1
        if outcome or waited >= window or attempt >= 30:
            return outcome


def _server_says(en, cn):
    parts = [p for p in (en, cn) if p]
    if not parts:
        return ""
    return ": " + " / ".join(parts)


def _short(exc):
    """A one-line description of a transport exception without the urllib3 noise."""
    reason = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    text = str(reason)
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "connection timed out"
    if "Name or service not known" in text or "Failed to resolve" in text:
        return "host name not found"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
        return "the server closed the connection without answering"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate verify failed"
    return text.split("\n", maxsplit=1)[0][:200]
