"""The shop's HTTP API as the driver calls it, over ``urllib.request``.

Every way a call can go wrong (no answer in time, no connection, an HTTP error status, a
redirect, a body that is not JSON) becomes one ``DriverFailure`` that names the request
and says what to check. Redirects are refused rather than followed: following one would
send the API key, and a signed body, to an address the seller did not configure.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from erp_channel_webstore.exact_json import loads_exact
from erp_sdk.drivers import DriverFailure

API_KEY_HEADER = "X-Api-Key"
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def _user_agent() -> str:
    try:
        version = metadata.version("erp-channel-webstore")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"erp-channel-webstore/{version}"


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


class ShopClient:
    """Calls to ``base_url`` with the API key, a timeout per network operation and
    JSON bodies."""

    def __init__(self, base_url: str, api_key: str, timeout_seconds: float) -> None:
        self.base_url = base_url
        self.timeout_seconds = timeout_seconds
        self._api_key = api_key
        self._opener = urllib.request.build_opener(_RefuseRedirects)
        self._user_agent = _user_agent()

    def get_json(self, path: str, query: Mapping[str, str] | None = None) -> Any:
        """GET ``path`` and return its JSON body, fractional numbers as ``Decimal``."""
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        body = self._send(urllib.request.Request(url, method="GET", headers=self._headers()),
                          f"GET {path}")
        try:
            return loads_exact(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DriverFailure(
                f"the web shop at {self.base_url} answered GET {path} with a body that is not"
                f" valid JSON ({exc}): {_excerpt(body)}") from None

    def post_json(self, path: str, body: bytes, headers: Mapping[str, str]) -> None:
        """POST the JSON ``body`` to ``path`` with extra ``headers`` (its signature); any
        2xx answer is success and its body is ignored."""
        request = urllib.request.Request(
            self.base_url + path, data=body, method="POST",
            headers={**self._headers(), "Content-Type": "application/json", **headers})
        self._send(request, f"POST {path}")

    def _headers(self) -> dict[str, str]:
        return {API_KEY_HEADER: self._api_key, "Accept": "application/json",
                "User-Agent": self._user_agent}

    def _send(self, request: urllib.request.Request, what: str) -> bytes:
        shop = f"the web shop at {self.base_url}"
        try:
            with self._opener.open(request, timeout=self.timeout_seconds) as response:
                body = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as error:
            raise _http_failure(shop, what, error) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise self._timed_out(shop, what) from None
            raise DriverFailure(f"cannot reach {shop} for {what}: {error.reason}") from None
        except TimeoutError:
            raise self._timed_out(shop, what) from None
        except (http.client.HTTPException, ConnectionError) as error:
            raise DriverFailure(f"the connection to {shop} broke during {what}:"
                                f" {type(error).__name__}: {error}") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise DriverFailure(f"{shop} answered {what} with more than"
                                f" {MAX_RESPONSE_BYTES} bytes; lower settings.page_size")
        return body

    def _timed_out(self, shop: str, what: str) -> DriverFailure:
        return DriverFailure(f"{shop} did not answer {what} within {self.timeout_seconds:g} s"
                             " (settings.timeout_seconds); it may be down or overloaded")


def _http_failure(shop: str, what: str, error: urllib.error.HTTPError) -> DriverFailure:
    try:
        body = error.read(2000)
    except (OSError, http.client.HTTPException):
        body = b""
    finally:
        error.close()
    status = f"HTTP {error.code} {error.reason}".rstrip()
    if error.code in (401, 403):
        advice = "check the account's api_key and webhook_secret secrets"
    elif 300 <= error.code < 400:
        advice = (f"it redirects to {error.headers.get('Location', 'another address')};"
                  " set settings.base_url to the address that answers")
    elif error.code == 404:
        advice = "check settings.base_url"
    elif error.code >= 500:
        advice = "the shop failed; the call can be retried later"
    else:
        advice = "the shop refused the request"
    detail = f": {_excerpt(body)}" if body else ""
    return DriverFailure(f"{shop} answered {what} with {status} ({advice}){detail}")


def _excerpt(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", "replace").strip()
    return text if len(text) <= limit else text[:limit] + "..."
