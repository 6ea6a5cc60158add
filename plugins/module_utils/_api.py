# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one HTTP client of the collection, shared by every module and the inventory plugin.

It knows the two response envelopes of the /v1 API, owns the retry loop and the fail-over across
several manager URLs, and turns every failure into one exception type, ``TosApiError``.
It never calls ``fail_json``: callers decide what a failure means.
"""

from __future__ import annotations

import copy
import http.client
import ipaddress
import json
import math
import os
import random
import socket
import time
import traceback
import zlib
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlsplit, urlunsplit

# meta_data is defined with the checks (no client needed); the modules import it here
from ansible_collections.tos.cloud.plugins.module_utils._checks import meta_data  # noqa: F401  pylint: disable=unused-import
from ansible_collections.tos.cloud.plugins.module_utils._redact import MASK, redact
from ansible_collections.tos.cloud.plugins.module_utils._topology import READ_ONLY_POSTS

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


USER_AGENT = "tos.cloud-ansible/1.0.0"

# HTTP statuses worth another attempt for a request that is safe to repeat (GET).
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
# Longest we sleep between attempts, whatever Retry-After says.
MAX_SLEEP = 30.0
# Largest answer read (after decoding): no /v1 answer comes near it; a bigger one is a broken proxy.
MAX_BODY = 64 * 1024 * 1024
# Deepest nesting of containers accepted in an answer (the documents' deepest is about 6).
MAX_DEPTH = 100
# How long (s) a write whose answer was lost watches state for it before sending it again (post_verified).
LANDED_WATCH = 4.0
# Content encodings the client can decode (sent as Accept-Encoding).
ENCODINGS = ("gzip", "x-gzip", "deflate", "identity")
# Set by the in-process action (plugins/plugin_utils/in_process.py) while a module runs in a task's worker:
# the run's cache of answers; None in a module process.
RUN_CACHE = None


class TosApiError(Exception):
    """Any failure talking to the manager: transport, HTTP status or an error envelope.

    ``kind`` is one of ``connection`` (no server reached, or the connection broke before the whole
    answer arrived), ``timeout`` (no complete answer within ``timeout``), ``tls``, ``auth`` (HTTP
    401/403), ``http`` (other HTTP error), ``api`` (an error envelope), ``protocol`` (an answer that
    cannot be read as an envelope: bad encoding, not JSON, nested too deeply, a redirect, ``data`` of
    the wrong type) and ``config`` (the options cannot make a request: URL, header, timeout; nothing
    was sent).  ``may_have_landed`` is true when a mutating request may have been applied although no
    usable answer arrived: the caller must re-read state.
    """

    def __init__(
            self,
            message: str,
            method: str | None = None,
            path: str | None = None,
            url: str | None = None,
            kind: str = "api",
            http_status: int | None = None,
            code: int | None = None,
            message_en: str | None = None,
            message_cn: str | None = None,
            may_have_landed: bool = False,
            retryable: bool = False,
            retry_after: Any = None,
    ) -> None:
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

    def redact(self, secrets: Iterable[str]) -> Any:
        """Mask ``secrets`` in every text the error carries (the manager may echo a token back)."""
        self.message = redact(self.message, secrets)
        self.message_en = redact(self.message_en, secrets)
        self.message_cn = redact(self.message_cn, secrets)
        self.url = redact(self.url, secrets)
        self.args = (self.message,)
        return self

    def to_dict(self) -> dict[str, Any]:
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


def parse_envelope(payload: Any) -> Any:
    """Return ``(code, message_en, message_cn, data)`` for either documented envelope.

    New style: ``{"scode", "desc", "message", "message_cn"/"messageCn", "stack", "data"}``.
    Legacy:    ``{"status_code", "message_en", "message_cn", "data"}``.
    Returns None when ``payload`` is neither.  Only a code equal to 0 is a success: a null, missing
    or non-numeric code reads as -1 (every documented answer carries 0).  ``desc`` is kept next to
    ``message`` when both say something.
    """
    if not isinstance(payload, dict):
        return None
    if "scode" in payload:
        code = payload.get("scode")
        en = _join_texts(payload.get("message"), payload.get("desc"))
        cn = payload.get("message_cn") or payload.get("messageCn") or ""
    elif "status_code" in payload:
        code = payload.get("status_code")
        en = payload.get("message_en") or ""
        cn = payload.get("message_cn") or ""
    else:
        return None
    return as_code(code), en, cn, payload.get("data")


def as_code(value: Any) -> int:
    """A status code as an int: ``0``/``"0"`` -> 0; null, a bool or anything not a whole number -> -1."""
    if isinstance(value, bool) or value is None:
        return -1
    try:
        number = float(value)
    except (TypeError, ValueError):
        return -1
    if number != int(number):
        return -1
    return int(number)


def _join_texts(*texts: Any) -> Any:
    """The non-empty texts, each once, joined by " - " (``message`` and ``desc`` of an envelope)."""
    parts = []
    for text in texts:
        text = str(text).strip() if text is not None else ""
        if text and text not in parts:
            parts.append(text)
    return " - ".join(parts)


def inner_status(data: Any) -> Any:
    """Some answers carry a second status inside ``data`` (``data.status`` or
    ``data.meta_data.status``); return ``(code, en, cn)`` when it reports a failure (its code as an
    int; a status object without a code is not a failure)."""
    if not isinstance(data, dict):
        return None
    candidates = [data.get("status")]
    if isinstance(data.get("meta_data"), dict):
        candidates.append(data["meta_data"].get("status"))
    for status in candidates:
        if isinstance(status, dict) and status.get("code") not in (None, ""):
            code = as_code(status.get("code"))
            if code != 0:
                return (code, _join_texts(status.get("message"), status.get("desc")),
                        status.get("messageCn") or status.get("message_cn") or "")
    return None


def parse_retry_after(value: Any, now: float | None = None) -> float | None:
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


def backoff_delay(
        attempt: int,
        base: float = 0.5,
        cap: float = MAX_SLEEP,
        rand: Callable[..., Any] = random.random,
) -> float:
    """Exponential backoff with full jitter: a random delay in [base*2**attempt / 2, base*2**attempt],
    never more than ``cap``.  ``attempt`` counts from 0."""
    ceiling = min(cap, base * (2 ** attempt))
    return ceiling / 2 + rand() * ceiling / 2


def normalize_urls(api_url: Any) -> list[str]:
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


URL_CREDENTIALS = ("%s: a user name or password in the URL is not supported; set api_token (TOS_API_TOKEN) instead "
                   "(the URL is not shown: it holds credentials)" % URL_SOURCE)


def _url_entries(api_url: Any) -> list[str]:
    """The api_url entries as written, before any split on commas."""
    if api_url is None:
        return []
    return [str(item) for item in (api_url if isinstance(api_url, (list, tuple)) else [api_url])]


def url_has_credentials(api_url: Any) -> bool:
    """True when any api_url entry holds an ``@``: ``user:password@host``, maybe mistyped (no scheme, a space,
    a comma inside the password that the comma split would cut). No manager's base URL has one, and a message
    that quotes such an entry would show the password, so it is refused before any other check."""
    return any("@" in entry for entry in _url_entries(api_url))


def mask_url_credentials(api_url: Any) -> Any:
    """``api_url`` (a string or a list) with what precedes the last ``@`` of each entry, after its scheme,
    replaced by ``********``: what a result may show of a URL that held a user name or password."""
    def masked(entry: str) -> str:
        if "@" not in entry:
            return entry
        scheme, sep, rest = entry.rpartition("@")[0].partition("://")
        return "%s%s@%s" % (scheme + sep if sep else "", MASK, entry.rpartition("@")[2])
    if api_url is None:
        return None
    entries = [masked(entry) for entry in _url_entries(api_url)]
    return entries if isinstance(api_url, (list, tuple)) else entries[0]


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a manager's base URL, or None.  The message names api_url/TOS_API_URL and
    quotes ``url``: an entry holding a user name or password (an ``@``) never gets here, ``connection_problems``
    refuses it first without quoting it."""
    where = "%s entry %r" % (URL_SOURCE, url)
    if not url:
        return "%s: an entry is empty" % URL_SOURCE
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "%s contains spaces or control characters" % where
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return "%s must start with http:// or https:// (e.g. https://192.0.2.10:9990)" % where
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
    if not HAS_REQUESTS:
        # the module then says which library to install (TosModule); a host without requests gets that, not a NameError
        return None
    try:
        requests.models.PreparedRequest().prepare_url(url + "/v1/system/version", None)
    except (requests.exceptions.RequestException, ValueError, UnicodeError) as exc:
        return "%s is not a valid URL: %s" % (where, str(exc).split("\n", maxsplit=1)[0][:200])
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def token_problem(token: str) -> str | None:
    """Why ``token`` (already stripped) cannot be sent in an HTTP header, or None; never shows the token.

    RFC 6750 section 2.1: a bearer token is visible ASCII (``b64token``); anything else cannot be
    written into the Authorization header."""
    if token is not None and not isinstance(token, str):
        return "api_token (TOS_API_TOKEN) must be a string"
    if token and any(not 33 <= ord(ch) <= 126 for ch in token):
        return "api_token (TOS_API_TOKEN) contains spaces, control or non-ASCII characters inside it, which an " \
               "HTTP header cannot carry (the token is not shown here); check that it was copied whole"
    return None


def timeout_problem(timeout: float) -> str | None:
    """Why ``timeout`` is not a usable number of seconds, or None."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or (isinstance(timeout, float) and math.isnan(timeout)):
        return "timeout (TOS_TIMEOUT): %r is not a number of seconds" % (timeout,)
    if not 0 < timeout <= TIMEOUT_MAX:
        return "timeout (TOS_TIMEOUT): %s is not a number of seconds from 1 to %s" % (timeout, TIMEOUT_MAX)
    return None


def connection_problems(
        api_url: Any,
        api_token: str | None = None,
        timeout: float = 30,
) -> tuple[list[str], Any, list[str]]:
    """Check the connection options before any request.

    Returns ``(urls, token, problems)``: the base URLs (``/v1`` suffix dropped), the token without
    surrounding whitespace (an ``echo token | ansible-vault encrypt_string`` keeps a newline) and
    the list of messages, each naming the option and its environment variable.
    """
    # an entry with an "@" is refused before the split on commas, which could cut a password in two, and before
    # url_problem, whose messages quote the entry
    credentials = url_has_credentials(api_url)
    urls = [] if credentials else normalize_urls(api_url)
    problems = [URL_CREDENTIALS] if credentials else []
    if not urls and not credentials:
        problems.append("%s is not set: give the manager's URL with the api_url option or the TOS_API_URL "
                        "environment variable (e.g. https://192.0.2.10:9990)" % URL_SOURCE)
    problems.extend(filter(None, (url_problem(url) for url in urls)))
    token = api_token.strip() if isinstance(api_token, str) else api_token
    problems.append(token_problem(token))
    problems.append(timeout_problem(30 if timeout is None else timeout))
    return urls, token or None, [p for p in problems if p]


def writes(method: str, path: str) -> bool:
    """True for a request that may change the manager's state: any but a GET or a POST that only reads
    (``READ_ONLY_POSTS``); a failed one may have been applied, so it is never sent again blindly."""
    return method != "GET" and path not in READ_ONLY_POSTS


def _not_sent(exc: BaseException) -> bool:
    """True when a transport error proves the request never reached a server."""
    if isinstance(exc, ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError)


def _session(headers: Any) -> Any:
    """A requests session that sends ``headers`` and takes nothing from the environment per request.

    With ``trust_env`` (requests' default) every request would read ~/.netrc, and an entry for the manager's
    host replaces the ``Authorization: Bearer`` header with that entry's Basic credentials (the token is not
    sent, the netrc password is); it would also read the proxy variables again for every request. The
    client reads the proxies once per URL (``_environ_proxies``) and the CA bundle variables once."""
    session = requests.Session()
    session.trust_env = False
    session.headers.update(headers)
    return session


def _environ_proxies(url: str) -> dict[str, str]:
    """The proxies the environment sets for ``url`` (http_proxy, https_proxy, all_proxy, no_proxy), as requests
    would pick them for each request with ``trust_env``."""
    scheme = urlsplit(url).scheme
    try:
        found = requests.utils.get_environ_proxies(url)
    except Exception as exc:  # noqa: BLE001 - whatever the environment holds, a message, never a traceback
        raise TosApiError("The proxy settings of the environment (https_proxy, http_proxy, all_proxy, no_proxy) "
                          "could not be applied to %s: %s. Correct or unset them." % (safe_url(url), exc),
                          kind="config") from None
    proxy = found.get(scheme) or found.get("all")
    return {scheme: proxy} if proxy else {}


class TosClient:
    """Talks to one manager, failing over across ``api_url`` entries.

    ``retries`` is how many extra attempts a safe request (GET) gets after a transient failure.
    """

    def __init__(
            self,
            api_url: Any,
            api_token: str | None = None,
            validate_certs: bool = True,
            ca_path: str | None = None,
            timeout: float = 30,
            retries: int = 3,
            backoff: float = 0.5,
            sleep: Callable[..., Any] = time.sleep,
    ) -> None:
        if not HAS_REQUESTS:
            raise TosApiError("The Python library 'requests' is required by tos.cloud but is not installed.",
                              kind="protocol")
        raw_token = api_token
        self.urls, api_token, problems = connection_problems(api_url, api_token, timeout)
        if problems:
            raise TosApiError("Invalid connection options: %s." % "; ".join(problems), kind="config")
        # The environment's proxies (https_proxy, no_proxy, ...) for each manager URL, read once: the session does
        # not read the environment per request (_session).
        self._proxies = {url: _environ_proxies(url) for url in self.urls}
        # What must never show in a message: the token (as given and stripped), and a password given in a URL
        # (user:password@host), the manager's or a proxy's.
        urls = list(self.urls) + [proxy for proxies in self._proxies.values() for proxy in proxies.values()]
        self.secrets = tuple(s for s in [raw_token, api_token] + [_url_password(u) for u in urls] if s)
        self.timeout = _check_timeout(timeout)
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self._sleep = sleep
        self._current = 0
        # fail-over: the URLs that did not answer since the last answer, and the warnings given
        self.warn = None
        self._unanswered = []
        self._told = set()
        # this client's own view of the run's cache (a read-ahead's clone, plugin_utils/run_cache.py); None: RUN_CACHE
        self.run_cache = None
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"}
        if api_token:
            headers["Authorization"] = "Bearer %s" % api_token
        self.session = _session(headers)
        # Passed with every request. As requests does: ca_path, else REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, else
        # the default bundle.
        if not validate_certs:
            self.verify = False
            if InsecureRequestWarning is not None:
                import warnings
                warnings.simplefilter("ignore", InsecureRequestWarning)
        else:
            if ca_path and not os.path.exists(ca_path):
                raise TosApiError("ca_path (TOS_CA_PATH) %s does not exist: give the PEM bundle of the CA that signed "
                                  "the manager's certificate." % ca_path, kind="tls")
            self.verify = ca_path or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True

    # -- public API -------------------------------------------------------------------------

    def clone(self, run_cache: Any = None, retries: int | None = None) -> TosClient:
        """The same manager, credentials and settings on a session of its own (for another thread), its requests
        going through ``run_cache`` instead of ``RUN_CACHE``."""
        other = copy.copy(self)
        other.__dict__.pop("post", None)  # the module's write counters wrap the original's methods, not this one's
        other.__dict__.pop("post_verified", None)
        other.run_cache = run_cache
        other.retries = self.retries if retries is None else max(0, int(retries))
        other._unanswered = []
        other._told = set()
        other.warn = None
        other.session = _session(self.session.headers)
        return other

    @property
    def base_url(self) -> Any:
        return self.urls[self._current]

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` with a query string; return ``data`` of the envelope."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        """POST ``path`` with a JSON body; return ``data`` of the envelope.  Never repeated once
        it may have reached a server: failures then carry ``may_have_landed=True``."""
        return self.request("POST", path, body=body if body is not None else {})

    def post_verified(self, path: str, body: Any, landed: Callable[..., Any], attempts: int = 2) -> Any:
        """POST, and when the answer is lost, ask ``landed()`` (which re-reads state) whether
        the change was applied before deciding to send it again.

        ``landed`` returns a truthy value when the desired state is already there; that value is
        then returned in place of the POST's data.
        """
        last = None
        for _attempt in range(max(1, attempts)):
            try:
                return self.post(path, body)
            except TosApiError as exc:
                if last is not None and exc.kind == "api":
                    # Sent again because state did not show the first POST yet, and refused: the first one
                    # may have landed after all (the manager refuses a duplicate). Ask state once more.
                    outcome = landed()
                    if outcome:
                        return outcome
                    raise
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
            # The answer was lost (a dropped connection, a 5xx from a proxy): the manager may have applied the
            # request and state may not show it at once (a deploy that has just started reads progress 0, as an
            # idle host does). Watch state for a few seconds before sending it again.
            outcome = _watch(landed, LANDED_WATCH, self._sleep, self.backoff)
            if outcome:
                return outcome
        raise last

    def paginate(
            self,
            path: str,
            params: dict[str, Any] | None = None,
            page_size: int = 100,
            items_key: str = "list",
            total_key: str = "total_count",
            key: str | None = None,
            max_pages: int = 1000,
            on_page: Callable[..., Any] | None = None,
    ) -> Iterator[Any]:
        """Yield every item of a paged list endpoint once, whatever the server's first page number.

        The tables give ``page_num`` the default 0 and the examples ask for page 0 as the first page,
        while other servers count from 1 (and read 0 as 1): pages are asked from 0 on, items are
        deduplicated by ``key(item)`` (default: the whole item), so a server counting from 1 costs at most
        one extra request and no duplicate.  Stops at ``total_count`` items, at an empty page (page 0
        only when the total is 0 or page 1 is empty too), at a page
        that brings nothing new (after page 1), at a short page when no total is given, and after
        ``max_pages`` pages whatever happens.  ``on_page(data)`` sees each page's whole answer.
        ``page_size`` is always sent: its default 0 means "all"
        on some readings and "a default page" on others (docs/api-notes.md).
        """
        params = dict(params or {})
        seen = set()
        for page in range(max(1, max_pages)):
            query = dict(params, page_num=page, page_size=page_size)
            data = self.get(path, query) or {}
            items = data.get(items_key) or [] if isinstance(data, dict) else []
            if on_page is not None:
                on_page(data)
            new = 0
            for item in items:
                ident = _identity(item, key)
                if ident in seen:
                    continue
                seen.add(ident)
                new += 1
                yield item
            total = data.get(total_key) if isinstance(data, dict) else None
            if isinstance(total, bool) or not isinstance(total, int):
                total = None
            if not items and (page >= 1 or total == 0):
                return  # (an empty page 0 with a total, or none, may be a server counting from 1)
            if total is not None and len(seen) >= total:
                return
            if new == 0 and page >= 2:  # page 1 repeats page 0 on a server counting from 1
                return
            if total is None and items and len(items) < page_size:
                return

    # -- the request loop -----------------------------------------------------------------

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        try:
            cache = self.run_cache if self.run_cache is not None else RUN_CACHE
            if cache is not None:  # an in-process task's view of the run's answers (plugin_utils/run_cache.py)
                return cache.request(self, self._request, method, path, params, body)
            return self._request(method, path, params, body)
        except TosApiError as exc:
            raise exc.redact(self.secrets)

    def _request(self, method: str, path: str, params: dict[str, Any], body: Any) -> Any:
        safe = not writes(method, path)
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

    def _tell_failover(self) -> None:
        """Warn (once per client, i.e. per task or inventory run) which manager URL answered after the ones
        before it in api_url did not, and why."""
        unanswered, self._unanswered = self._unanswered, []
        for url, why in unanswered:
            if (url, self.base_url) in self._told or self.warn is None:
                continue
            self._told.add((url, self.base_url))
            self.warn("api_url: failed over from %s to %s, which answered; %s did not: %s" % (
                url, self.base_url, url, why))

    def _once(self, method: str, path: str, url: str, params: dict[str, Any], body: Any) -> Any:
        """One request and its whole answer within ``timeout`` seconds: the error boundary.

        Whatever requests, urllib3, http.client, the socket, zlib or json raise on the way becomes a
        ``TosApiError`` here; ``answered`` tells whether the manager had begun to answer (so a write
        reached it and may have been applied)."""
        deadline = time.monotonic() + self.timeout
        resp = None
        try:
            resp = self.session.request(
                method, url, params=params if method == "GET" else None,
                json=body if method != "GET" else None, timeout=(self.timeout, self.timeout), verify=self.verify,
                proxies=self._proxies.get(self.base_url), stream=True, allow_redirects=False)
            content = self._read_body(resp, deadline)
        except Exception as exc:  # noqa: BLE001 - the one place transport failures are mapped
            if resp is not None:
                resp.close()  # the connection is in an unknown state: never reused
            raise self._transport_error(exc, method, path, url, answered=resp is not None) from None
        resp.raw.release_conn()  # read to its end: back to the pool for the next request
        if 300 <= resp.status_code < 400:
            location = safe_url(resp.headers.get("Location") or "", keep_query=False) or "no Location header"
            raise TosApiError(
                "%s %s was answered with a redirect (HTTP %s to %s); the client does not follow redirects. Set "
                "api_url (TOS_API_URL) to the address the manager answers on." % (
                    method, path, resp.status_code, location),
                method=method, path=path, url=safe_url(url), kind="protocol", http_status=resp.status_code)
        payload = self._decode(method, path, url, resp, content)
        return self._interpret(method, path, url, resp, payload)

    def _read_body(self, resp: Any, deadline: float) -> Any:
        """The answer's body, read in pieces as they arrive, never past ``deadline``; then decoded."""
        raw = resp.raw
        read = getattr(raw, "read1", None) or raw.read  # urllib3 1.26 has no read1: a deadline per 64 KiB
        chunks = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _DeadlinePassed()
            _limit_socket(raw, remaining)
            chunk = read(65536, decode_content=False)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BODY:
                raise _BadContent("an answer larger than %d bytes" % MAX_BODY)
            chunks.append(chunk)
        return _decode_content(b"".join(chunks), resp.headers.get("Content-Encoding"))

    def _decode(self, method: str, path: str, url: str, resp: Any, content: Any) -> Any:
        """The JSON of the answer, None when it is not JSON; a protocol error when it nests too deeply."""
        problem = None
        try:
            payload = json.loads(content)
        except RecursionError:
            problem = "JSON nested too deeply to decode"
        except ValueError:  # not JSON, not UTF-8: _interpret reports "not an envelope" with the HTTP status
            return None
        else:
            if _deeper_than(payload, MAX_DEPTH):
                problem = "JSON nested more than %d levels deep" % MAX_DEPTH
        if problem is None:
            return payload
        landed = writes(method, path) and resp.status_code < 400
        raise TosApiError(
            "%s %s returned an answer the client cannot use (HTTP %s, %s)%s. Check that api_url points at the "
            "manager's API port and that no proxy rewrites its answers." % (
                method, path, resp.status_code, problem, "; the request may have been applied" if landed else ""),
            method=method, path=path, url=safe_url(url), kind="protocol", http_status=resp.status_code,
            may_have_landed=landed)

    def _transport_error(self, exc: BaseException, method: str, path: str, url: str, answered: Any) -> Any:
        """The ``TosApiError`` for an exception raised while sending or reading: see ``_once``."""
        write = writes(method, path)
        shown = safe_url(self.base_url)
        url = safe_url(url)
        landed_note = "; the request may have been applied" if write else ""
        common = dict(method=method, path=path, url=url)
        if isinstance(exc, _DeadlinePassed) or (answered and _is_timeout(exc)):
            return TosApiError(
                "%s %s did not get a complete answer within timeout=%ss%s. Raise timeout (TOS_TIMEOUT) if the manager "
                "is slow." % (method, url, _seconds(self.timeout), landed_note),
                kind="timeout", retryable=True, may_have_landed=write, **common)
        if isinstance(exc, _BadContent) or _is_decoding(exc):
            return TosApiError(
                "%s %s returned an answer the client cannot decode (%s)%s. Check that no proxy between the client and "
                "the manager rewrites its answers." % (method, path, _short(exc), landed_note),
                kind="protocol", may_have_landed=write, **common)
        if answered:
            # the manager had sent its status line: the connection broke, or the body was cut short, afterwards
            return TosApiError(
                "The answer to %s %s from %s was cut short (%s)%s." % (method, path, shown, _short(exc), landed_note),
                kind="connection", retryable=True, may_have_landed=write, **common)
        if isinstance(exc, SSLError):
            return TosApiError(
                "TLS verification failed for %s %s: %s. Set ca_path (TOS_CA_PATH) to the CA bundle that "
                "signed the manager's certificate, or validate_certs=false (TOS_VALIDATE_CERTS) to skip the "
                "check on a trusted network." % (method, url, _short(exc)), kind="tls", **common)
        if isinstance(exc, ReadTimeout):
            return TosApiError(
                "%s %s timed out after %ss waiting for the manager's answer%s. Raise timeout (TOS_TIMEOUT) "
                "if the manager is slow." % (method, url, _seconds(self.timeout), landed_note),
                kind="timeout", retryable=True, may_have_landed=write, **common)
        proxy = self._proxies.get(self.base_url)
        if proxy and _is_proxy_error(exc):
            # nothing went past the proxy: it could not be reached, or it refused to carry the request
            via = safe_url(next(iter(proxy.values())), keep_query=False)
            return TosApiError(
                "Cannot reach the manager at %s through the proxy %s (%s %s): %s. The proxy comes from the environment "
                "(https_proxy, http_proxy, all_proxy): check that it is up and lets this host through, or add the "
                "manager's host to no_proxy." % (shown, via, method, path, _short(exc)),
                kind="connection", retryable=True, **common)
        if isinstance(exc, (ConnectTimeout, _RequestsConnectionError)):
            not_sent = _not_sent(exc)
            if not_sent:
                msg = "Cannot connect to the manager at %s (%s %s): %s. Check api_url (TOS_API_URL) and that " \
                      "the manager is reachable." % (shown, method, path, _short(exc))
            else:
                msg = "The connection to %s was lost during %s %s: %s%s." % (
                    shown, method, path, _short(exc), landed_note)
            return TosApiError(msg, kind="connection", retryable=True, may_have_landed=not not_sent and write, **common)
        problem = _request_problem(exc)
        if problem:
            return TosApiError("Cannot send %s %s: %s." % (method, path, problem), kind="config", **common)
        if isinstance(exc, (http.client.HTTPException, OSError, requests.exceptions.RequestException)):
            return TosApiError(
                "The connection to %s failed during %s %s: %s%s." % (shown, method, path, _short(exc), landed_note),
                kind="connection", retryable=True, may_have_landed=write, **common)
        return TosApiError(
            "%s %s failed in the HTTP client (%s: %s)%s." % (method, path, type(exc).__name__, _short(exc), landed_note),
            kind="protocol", may_have_landed=write, **common)

    def _interpret(self, method: str, path: str, url: str, resp: Any, payload: Any) -> Any:
        url = safe_url(url)
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
            landed = writes(method, path) and status in (500, 502, 503, 504)
            code, en, cn = (envelope[0], envelope[1], envelope[2]) if envelope else (None, None, None)
            raise TosApiError(
                "%s %s failed with HTTP %s%s%s." % (
                    method, path, status, " " + resp.reason if resp.reason else "", _server_says(en, cn)),
                method=method, path=path, url=url, kind="http", http_status=status, code=code,
                message_en=en, message_cn=cn, retryable=retryable, may_have_landed=landed,
                retry_after=parse_retry_after(resp.headers.get("Retry-After")))
        if envelope is None:
            content_type = resp.headers.get("Content-Type", "no content type")
            # a success status to a write: whatever mangled the answer, the manager may have applied it
            landed = method != "GET" and status < 300
            raise TosApiError(
                "%s %s returned a response that is not a /v1 API envelope (HTTP %s, %s)%s. Check that api_url "
                "points at the manager's API port." % (
                    method, path, status, content_type[:80], "; the request may have been applied" if landed else ""),
                method=method, path=path, url=url, kind="protocol", http_status=status, may_have_landed=landed)
        code, en, cn, data = envelope
        if code != 0:
            raise TosApiError(
                "%s %s was refused by the manager (code %s)%s." % (method, path, code, _server_says(en, cn)),
                method=method, path=path, url=url, kind="api", http_status=status, code=code,
                message_en=en, message_cn=cn)
        if data is not None and data != "" and not isinstance(data, dict):
            # every documented answer's data is an object (or null): a list or a string is not the manager's API
            landed = method != "GET"
            raise TosApiError(
                "%s %s answered success with data of type %s where an object was expected%s. Check that api_url "
                "points at the manager's /v1 API." % (
                    method, path, type(data).__name__, "; the request may have been applied" if landed else ""),
                method=method, path=path, url=url, kind="protocol", http_status=status, may_have_landed=landed)
        if data == "":
            data = None
        inner = inner_status(data)
        if inner:
            raise TosApiError(
                "%s %s was refused by the manager (code %s)%s." % (
                    method, path, inner[0], _server_says(inner[1], inner[2])),
                method=method, path=path, url=url, kind="api", http_status=status, code=inner[0],
                message_en=inner[1], message_cn=inner[2])
        return data


def by_field(*names: str) -> Callable[[Any], Any]:
    """A ``paginate`` key: the first of ``names`` (dotted for nested objects) that the item has, else
    None (the whole item then tells items apart)."""
    def key(item: Any) -> Any:
        for name in names:
            value = item
            for part in name.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value not in (None, ""):
                return (name, str(value))
        return None
    return key


def _identity(item: Any, key: str) -> Any:
    """What tells two list items apart when paging: ``key(item)``, else (or when it gives None) the item
    itself."""
    if key is not None:
        ident = key(item)
        if ident is not None:
            return ident
    try:
        return json.dumps(item, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(item)


class _DeadlinePassed(Exception):
    """The answer did not arrive completely before the request's deadline."""


class _BadContent(Exception):
    """The answer's body cannot be decoded (its Content-Encoding, or its size)."""


def _check_timeout(timeout: float) -> Any:
    """``timeout`` as seconds (a float); a ``config`` error when it cannot be a deadline."""
    try:
        value = float(timeout)
    except (TypeError, ValueError, OverflowError):
        value = float("nan")
    # socket timeouts must fit a C timeval; a day is far beyond any request of the API
    if not math.isfinite(value) or value <= 0 or value > 86400:
        raise TosApiError("timeout (TOS_TIMEOUT) must be a number of seconds greater than 0 and at most 86400, "
                          "not %r." % (timeout,), kind="config")
    return value


def _seconds(value: Any) -> Any:
    return int(value) if float(value).is_integer() else value


def safe_url(url: str, keep_query: bool = True) -> str:
    """``url`` without a user name or password (``user:password@host``), and without its query unless asked."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query if keep_query else "", ""))
    except ValueError:  # not even splittable ("http://[::1"): the text up to any user info
        return url.rpartition("@")[2] if "@" in url else url


def _url_password(url: str) -> Any:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _limit_socket(raw: Any, seconds: float) -> None:
    """Make the next read of the answer's socket wait at most ``seconds`` (the time left to the deadline)."""
    connection = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(0.001, seconds))
        except OSError:  # already closed: the read reports it
            pass


def _decode_content(body: Any, encoding: str) -> Any:
    """``body`` decoded from its Content-Encoding (``gzip``, ``deflate``; several, comma-separated)."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in ENCODINGS:
            raise _BadContent("unsupported Content-Encoding %r" % coding[:40])
        body = _inflate(body, coding)
    return body


def _inflate(body: Any, coding: str) -> Any:
    attempts = (16 + zlib.MAX_WBITS,) if coding in ("gzip", "x-gzip") else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    for wbits in attempts:
        decoder = zlib.decompressobj(wbits)
        try:
            out = decoder.decompress(body, MAX_BODY + 1)
            if len(out) > MAX_BODY or decoder.unconsumed_tail:
                raise _BadContent("an answer larger than %d bytes once decoded" % MAX_BODY)
            out += decoder.flush()
        except zlib.error as exc:
            problem = "a corrupt %s body (%s)" % (coding, exc)
            continue
        if not decoder.eof:
            problem = "a %s body cut short" % coding
            continue
        return out
    raise _BadContent(problem)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers more than ``limit`` levels deep (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values() if isinstance(child, (dict, list)))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))
    return False


def _chain(exc: BaseException) -> Any:
    """``exc`` and the exceptions it wraps (requests wraps urllib3's, which wrap http.client's and the socket's)."""
    seen = []
    while isinstance(exc, BaseException) and all(exc is not e for e in seen) and len(seen) < 8:
        seen.append(exc)
        wrapped = (getattr(exc, "reason", None), exc.args[0] if exc.args else None, exc.__cause__, exc.__context__)
        exc = next((e for e in wrapped if isinstance(e, BaseException)), None)
    return seen


def _is_timeout(exc: BaseException) -> bool:
    return any(isinstance(e, (socket.timeout, TimeoutError)) or type(e).__name__ in ("ReadTimeoutError", "ReadTimeout")
               for e in _chain(exc))


def _is_proxy_error(exc: BaseException) -> bool:
    """A failure to reach the proxy or to get it to carry the request (requests' or urllib3's ProxyError)."""
    return any(type(e).__name__ == "ProxyError" for e in _chain(exc))


def _is_decoding(exc: BaseException) -> bool:
    return any(isinstance(e, zlib.error) or type(e).__name__ in ("ContentDecodingError", "DecodeError")
               for e in _chain(exc))


# requests' and urllib3's exceptions for a request the options cannot make, by name (they moved between versions)
_REQUEST_PROBLEMS = {
    "InvalidURL": "api_url (TOS_API_URL) is not a valid URL",
    "InvalidSchema": "api_url (TOS_API_URL) is not a valid http:// or https:// URL",
    "MissingSchema": "api_url (TOS_API_URL) is not a valid http:// or https:// URL",
    "URLRequired": "api_url (TOS_API_URL) is not a valid URL",
    "LocationParseError": "api_url (TOS_API_URL) is not a valid URL",
    "LocationValueError": "api_url (TOS_API_URL) is not a valid URL",
    "InvalidProxyURL": "the proxy URL of the environment (HTTPS_PROXY, HTTP_PROXY) is not a valid URL",
    "InvalidHeader": "a header value cannot be sent: api_token (TOS_API_TOKEN) must not contain line breaks, "
                     "surrounding whitespace or control characters",
    "InvalidJSONError": "the request body cannot be sent as JSON (a value such as NaN or infinity)",
}


def _request_problem(exc: BaseException) -> Any:
    """Why the request could not be made from the options, for exceptions raised before sending; else None.

    The exception's own text is left out where it quotes the value (a header with the token)."""
    for e in _chain(exc):
        name = type(e).__name__
        if name in _REQUEST_PROBLEMS:
            return _REQUEST_PROBLEMS[name]
    if isinstance(exc, (UnicodeError, ValueError, OverflowError, TypeError)):
        # a host name IDNA cannot encode, a port out of range, a timeout a socket refuses
        return "the connection options cannot make a request (%s)" % _short(exc)
    return None


def _watch(landed: Callable[..., Any], window: float, sleep: Callable[..., Any], backoff: float) -> Any:
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


def _server_says(en: str | None, cn: str | None) -> Any:
    parts = [p for p in (en, cn) if p]
    if not parts:
        return ""
    return ": " + " / ".join(parts)


def _short(exc: BaseException) -> Any:
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


# ---- the client from connection options, and the envelopes inside ``data`` --------------------------

def client_from_options(options: dict[str, Any], warn: Callable[..., Any] | None = None) -> TosClient:
    """Build the client from connection options (a module's params or a plugin's options)."""
    if not options.get("validate_certs", True) and warn is not None:
        warn("validate_certs is false: the manager's TLS certificate is not verified.")
    if options.get("api_token") and warn is not None:
        exposed = [url for url in normalize_urls(options.get("api_url")) if _plain_http_off_host(url)]
        if exposed:
            warn("api_token is sent over plain http:// to %s: anyone on the network path can read it. Use an "
                 "https:// api_url." % ", ".join(safe_url(url) for url in exposed))
    client = TosClient(
        api_url=options.get("api_url"),
        api_token=options.get("api_token"),
        validate_certs=options.get("validate_certs", True),
        ca_path=options.get("ca_path"),
        timeout=30 if options.get("timeout") is None else options.get("timeout"),
    )
    client.warn = warn
    return client


def _plain_http_off_host(url: str) -> bool:
    """Whether ``url`` is plain http:// to another machine (loopback traffic never leaves the host)."""
    if not url.lower().startswith("http://"):
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return True
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True
