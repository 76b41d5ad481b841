"""What an HTTP endpoint, a URL or a query string says it does.

The verb of a URL's path (``/v1/users/list``), an act named in its query (``?action=delete``),
a request body that names a removal or a destination outside, a GraphQL mutation, and the
method and address of a call together (:func:`_endpoint_act`). Read by the shell reader
(``curl``, ``wget``), the code reader (a URL literal) and the step reader (an HTTP tool call).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mapek.safety.rules.recognise.verbs import (
    _PREDICATE,
    _class_of,
    _first_verb,
    _tokens,
    verb_class,
)

__all__: list[str] = []  # all private: shared by the readers of this package


_ACCESS = frozenset("""permission permissions acl acls policy policies role roles share shares
sharing access member members collaborator collaborators key keys token tokens secret secrets
credential credentials webhook webhooks grant grants binding bindings invite invitation public
visibility firewall ingress group groups""".split())
"""Nouns of access: creating or adding one changes who can reach something (a public link, an
IAM binding, an API key), which is not a constructive act the rules can vouch for."""


_ACT_PARAMS = frozenset("""command cmd action op operation method do func function call rpc
verb""".split())
"""Query parameters that name the operation of an RPC sent over a URL (``?Action=...``,
``?Command=namecheap.domains.dns.setCustom``, ``?method=flickr.photos.search``)."""


def _query_act(url: str) -> str | None:
    """The class of the operation a URL's query names (``read``, ``make``, ``change``,
    ``destroy``; ``unknown`` when it names one the rules do not know), None when it names
    none: an RPC over GET acts whatever the method says."""
    from urllib.parse import parse_qsl

    if "?" not in url:
        return None
    worst: str | None = None
    rank = {"read": 0, "make": 1, "unknown": 2, "change": 3, "destroy": 4}
    for k, v in parse_qsl(url.split("?", 1)[1].split("#", 1)[0], keep_blank_values=True)[:64]:
        if k.lower().replace("-", "_").strip("_") not in _ACT_PARAMS or not v.strip():
            continue
        c = verb_class(v.strip()) or _first_verb(_tokens(v)) or "unknown"
        if worst is None or rank[c] > rank[worst]:
            worst = c
    return worst


def _url_verb(url: str, *, stem: bool = True) -> str | None:
    """The verb an endpoint's path names, from its last part that names one
    (``/_search`` -> read, ``/admin.conversations.delete`` -> destroy)."""
    path = re.sub(r"^[a-z]+://[^/]+", "", url.split("?", 1)[0], flags=re.I)
    for seg in reversed([p for p in re.split(r"[/.:]", path) if p]):
        if _PREDICATE.match(seg.lstrip("_$")):
            return "read"  # /monitor/can_delete, /is_deleted: a question
        c = _class_of(seg.lstrip("_$").lower(), stem) or verb_class(seg, stem=stem)
        if c is not None:
            return c
    return None


def get_names_act(url: str) -> bool:
    """A GET whose endpoint names an act: a removal anywhere in its path, or a change in its
    last part (``/users/5/reset``). A change word earlier in the path names a service or a
    section, and the GET reads what the last part names (``/dispatch/v2/.../assignments``)."""
    c = _url_verb(url, stem=False)
    if c == "destroy":
        return True
    if c != "change":
        return False
    path = re.sub(r"^[a-z]+://[^/]+", "", url.split("?", 1)[0], flags=re.I)
    segs = [p for p in path.split("/") if p and not re.search(r"\d", p) and not
            p.startswith(("{", ":", "$"))]
    return not segs or _url_verb("/" + segs[-1], stem=False) is not None


_SAFE_POST = frozenset("""snapshot snapshots backup backups export exports dump preview validate
estimate search query lookup report reports""".split())
"""What a POST may name and still only read or copy out (``/tsdb/snapshot``,
``/jobs/users-exports``, ``/_search``): a new copy, nothing changed or sent."""
_REMOVAL_KEY = re.compile(r"^(?:destroy|delete|purge|wipe|erase|remove|drop|force_delete|"
                          r"delete_data|remove_data|permanent(?:ly)?_delete|hard_delete)$", re.I)


def _removal_flag(body: Any, depth: int = 0) -> bool:
    """A request body that switches a removal on (``{"destroy": true}``)."""
    if depth > 4:
        return False
    if isinstance(body, Mapping):
        return any((isinstance(k, str) and _REMOVAL_KEY.match(k) and v not in
                    (False, None, 0, "false", "no", "")) or _removal_flag(v, depth + 1)
                   for k, v in list(body.items())[:64])
    if isinstance(body, list):
        return any(_removal_flag(x, depth + 1) for x in body[:64])
    return False


_OUTWARD_WORDS = frozenset("""callback webhook hook destination dest recipient recipients
deliver delivery forward sink notify notification url uri endpoint email emails bucket upload
push share""".split())
"""Words of a request field that names where something goes (``callback_endpoint``,
``destination_bucket``, ``notify_email``)."""
_OUTWARD_VALUE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*://\S+|[^@\s/]+@[^@\s/]+\.[a-z]{2,})\s*$",
                            re.I)
_MATCH_KEYS = frozenset("""query q filter filters where match term terms search criteria
must should bool condition conditions""".split())
_ADDRESS_KEYS = frozenset("""url uri method headers header path endpoint route href http_method
request_method operation timeout auth""".split())
"""A request's own address and envelope, not its content."""


def _names_destination(body: Any, depth: int = 0) -> bool:
    """A request's content names a place it sends something (a callback or webhook, a
    destination bucket, an address, any URL or e-mail address): an export or a copy there
    hands the data to whoever holds that place."""
    if depth > 5:
        return False
    if isinstance(body, str):
        return _OUTWARD_VALUE.match(body) is not None
    if isinstance(body, Mapping):
        for k, v in list(body.items())[:128]:
            if v in (None, "", [], {}, False) or str(k).lower() in _MATCH_KEYS:
                continue  # a filter's values are what is looked for, not where it goes
            if isinstance(k, str) and (set(_tokens(k)) & _OUTWARD_WORDS or
                                       k.lower() in ("to", "cc", "bcc", "recipient")):
                return True
            if _names_destination(v, depth + 1):
                return True
        return False
    if isinstance(body, (list, tuple)):
        return any(_names_destination(x, depth + 1) for x in list(body)[:128])
    return False


def _graphql_mutation(url: str, args: Mapping[str, Any] | None) -> bool:
    """A GraphQL mutation in a request's query string or body: it acts, whatever the method
    or the endpoint's name says."""
    from urllib.parse import unquote_plus

    texts = [unquote_plus(url)] + [str(v) for v in (args or {}).values()
                                   if isinstance(v, (str, Mapping, list))]
    return any(re.search(r"\bmutation\b\s*[\w({]", t[:20_000]) for t in texts)


def _endpoint_act(method: str, url: str, args: Mapping[str, Any] | None = None) -> str | None:
    """What a write request does by what its endpoint names: ``removes`` (``/delete_batch``,
    ``/tsdb/delete_series``, or a body that switches a removal on), ``safe`` (a read, or a
    POST that only makes a copy: ``/snapshot``, ``/users-exports``, and names no place the
    result goes: no callback, destination, URL or address), else None."""
    body = {k: v for k, v in (args or {}).items() if str(k).lower() in
            ("body", "json", "data", "payload", "params", "form")}
    if _removal_flag(body):
        return "removes"
    verb = _url_verb(url)
    if verb == "destroy":
        return "removes"
    if _graphql_mutation(url, args):
        return None
    if _names_destination({k: v for k, v in (args or {}).items()
                           if str(k).lower() not in _ADDRESS_KEYS}):
        return None  # a read or an export whose result is sent somewhere
    if (q := _query_act(url)) is not None and q != "read":
        return None
    if verb == "read" and method not in ("put", "patch"):
        return "safe"  # a PATCH to .../fraud-checks changes the checks, whatever they are called
    path = re.sub(r"^[a-z]+://[^/]+", "", url.split("?", 1)[0], flags=re.I)
    last = next((seg for seg in reversed(re.split(r"[/.:]", path)) if seg and
                 verb_class(seg, stem=True) is not None), "")
    if method == "post" and last and any(t in _SAFE_POST or (t.endswith("s") and t[:-1] in
                                                             _SAFE_POST)
                                         for t in _tokens(last)) and \
            verb_class(last, stem=True) in ("make", "read"):
        return "safe"
    return None
