"""The client's transport: urllib3's pool for the API (through the environment's proxy and CA
bundle, as requests reads them) and its answers as ``requests.Response`` objects. urllib3 is
driven directly, not through a requests ``Session``: what the Session adds to each request
(preparing it, merging settings, cookies, its adapter) was a third of poolkit's CPU time a
request, measured."""

from __future__ import annotations

import os
from typing import Any

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from .errors import ConfigurationError

__all__ = ["as_response", "describe", "pool_manager"]


def pool_manager(base_url: str, pool_size: int) -> urllib3.PoolManager:
    """urllib3's pool for the API: through the environment's proxy for ``base_url``, if it
    has one (``HTTPS_PROXY``, ``NO_PROXY``...), verifying TLS against the environment's CA
    bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) or certifi's, as requests does."""
    bundle = (
        os.environ.get("REQUESTS_CA_BUNDLE")
        or os.environ.get("CURL_CA_BUNDLE")
        or requests.utils.DEFAULT_CA_BUNDLE_PATH
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
    if proxy.lower().startswith("socks"):
        try:
            from urllib3.contrib.socks import SOCKSProxyManager
        except ImportError:  # urllib3 warns and raises when PySocks is missing
            raise ConfigurationError(
                "the environment's proxy is a SOCKS proxy: install PySocks (pip install pysocks)"
            ) from None
        return SOCKSProxyManager(proxy, **settings)
    user, password = requests.utils.get_auth_from_url(proxy)
    auth = urllib3.util.make_headers(proxy_basic_auth=f"{user}:{password}") if user else None
    return urllib3.ProxyManager(proxy, proxy_headers=auth, **settings)


def as_response(
    answer: urllib3.BaseHTTPResponse, content: bytes, method: str, sent: dict[str, str]
) -> requests.Response:
    """urllib3's answer as a ``requests.Response``, its body read, as requests' adapter
    builds one; ``sent`` the headers it was asked with (the Authorization scrubbed)."""
    response = requests.Response()
    response.status_code = answer.status
    response.reason = answer.reason
    response.headers = CaseInsensitiveDict(answer.headers)
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    response.url = answer.url or ""
    # read already: where requests keeps a body it has read (so content, text, json() and
    # iter_content all work as on any Response)
    response._content, response._content_consumed = content, True
    request = requests.PreparedRequest()
    request.method, request.url, request.headers = method, response.url, CaseInsensitiveDict(sent)
    response.request = request
    return response


def describe(reason: Any) -> str:
    """What went wrong on the way, in a few words: ``connection refused``, ``read timed out``..."""
    text = str(reason)
    for marker in (
        "Connection refused",
        "Connection reset",
        "Read timed out",
        "Max retries exceeded",
    ):
        if marker in text:
            return marker.lower()
    return type(reason).__name__ if not isinstance(reason, str) else text[:200]
