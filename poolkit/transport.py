"""The client's transport: urllib3's pool for the API (through the environment's proxy and CA
bundle, as requests reads them) and its answers as ``requests.Response`` objects. urllib3 is
driven directly, not through a requests ``Session``: what the Session adds to each request
(preparing it, merging settings, cookies, its adapter) was a third of poolkit's CPU time a
request, measured."""

from __future__ import annotations

import os
from urllib.parse import urljoin

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import LocationParseError, ProxySchemeUnknown

from .errors import ConfigurationError

__all__ = ["as_response", "describe", "pool_manager"]


def pool_manager(base_url: str, pool_size: int) -> urllib3.PoolManager:
    """urllib3's pool for the API: through the environment's proxy for ``base_url``, if it
    has one (``HTTPS_PROXY``, ``NO_PROXY``...), verifying TLS against the environment's CA
    bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) or certifi's, as requests does."""
    named = [v for v in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if os.environ.get(v)]
    bundle = os.environ[named[0]] if named else requests.utils.DEFAULT_CA_BUNDLE_PATH
    if base_url.lower().startswith("https:") and not os.path.exists(bundle):
        raise ConfigurationError(
            f"{named[0] if named else 'certifi'}: no CA bundle at {bundle}: name a file or "
            "folder of certificates there, or unset it for certifi's"
        )
    settings = {
        "num_pools": 4,
        "maxsize": pool_size,
        "cert_reqs": "CERT_REQUIRED",
        ("ca_cert_dir" if os.path.isdir(bundle) else "ca_certs"): bundle,
    }
    proxy = requests.utils.select_proxy(base_url, requests.utils.get_environ_proxies(base_url))
    if not proxy:
        return urllib3.PoolManager(**settings)
    try:
        proxy = requests.utils.prepend_scheme_if_needed(proxy, "http")  # proxy.corp:3128 too
        if proxy.lower().startswith("socks"):
            try:
                from urllib3.contrib.socks import SOCKSProxyManager
            except ImportError:  # urllib3 warns and raises when PySocks is missing
                raise ConfigurationError(
                    "the environment's proxy is a SOCKS proxy: install PySocks "
                    "(pip install pysocks)"
                ) from None
            return SOCKSProxyManager(proxy, **settings)
        user, password = requests.utils.get_auth_from_url(proxy)
        auth = urllib3.util.make_headers(proxy_basic_auth=f"{user}:{password}") if user else None
        return urllib3.ProxyManager(proxy, proxy_headers=auth, **settings)
    except (ProxySchemeUnknown, LocationParseError):  # not named: it may hold a password
        raise ConfigurationError(
            f"the environment's proxy for {base_url} (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) "
            "is not a proxy URL urllib3 can use, such as http://proxy.example:3128"
        ) from None


def as_response(
    answer: urllib3.BaseHTTPResponse, content: bytes, url: str, method: str, sent: dict[str, str]
) -> requests.Response:
    """urllib3's answer to ``url`` as a ``requests.Response``, its body read, as requests'
    adapter builds one: its ``url`` the last one redirected to; ``sent`` the headers it was
    asked with (the Authorization scrubbed)."""
    for step in answer.retries.history if answer.retries else ():
        if step.redirect_location:
            url = urljoin(url, step.redirect_location)
    response = requests.Response()
    response.status_code = answer.status
    response.reason = answer.reason
    response.headers = CaseInsensitiveDict(answer.headers)
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    response.url = url
    # read already: where requests keeps a body it has read (so content, text, json() and
    # iter_content all work as on any Response)
    response._content, response._content_consumed = content, True
    request = requests.PreparedRequest()
    request.method, request.url, request.headers = method, url, CaseInsensitiveDict(sent)
    response.request = request
    return response


def describe(reason: Exception) -> str:
    """What went wrong on the way, in a few words: ``connection refused``, ``read timed out``..."""
    text = str(reason)
    for marker in ("Connection refused", "Connection reset", "Read timed out"):
        if marker in text:
            return marker.lower()
    return type(reason).__name__
