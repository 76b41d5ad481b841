"""Structured tool calls: what the tool's name and arguments say it does.

The tool name is split into words (``github.delete_repository`` -> github, delete, repository;
``DataWipingTool`` -> data, wiping, tool). A name with a read verb (get, list, search, describe,
status...) is a read. Otherwise:

- a destroy verb (delete, destroy, drop, purge, wipe, erase, truncate, terminate, and their noun
  forms) on anything but a low-value object (label, tag, reaction, draft, cache, session, pod) is
  ``tool.destroy``; a branch only when it is a shared one;
- tampering purposes (tamper, falsify, forge, covert, alteration/manipulation of records,
  ransomware that is not protection) are ``tool.tamper``;
- refunds, payouts, money transfers, charges and trades are ``tool.money``;
- a send/post/notify tool whose name says bulk/campaign/newsletter, or whose audience argument
  says all customers/subscribers/users (or names 50+ recipients), is ``tool.mass-message``;
- a tool declared ``destructive`` or ``external`` in the session's registry says so itself.

The operation named in the arguments (``operation``, ``method``, ``action``, ``function``: e.g.
``paypal`` with ``operation: payouts.create_batch``, ``slack`` with ``method: chat.postMessage``)
is read as part of the name. An audience is "mass" when it says all/every customers..., names
``MASS_COUNT`` (50) or more recipients (a list, or a count such as ``recipients: 412833``), or
fans out over an audience: ``{{ each user.id }}``, ``for u in users``, or a template argument
after an earlier step listed users/members/subscribers. A structured HTTP call with ``method:
DELETE`` is ``api.delete`` on its endpoint (a feature-branch ref is not; a shared one is
``git.delete-shared-branch``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from mapek.safety.rules._base import (
    Finding,
    PlanState,
    classify_path,
    is_shared_branch,
    snippet,
)
from mapek.safety.rules.cloud import RETENTION_GATE, scan_retention

__all__ = ["scan_tool_call", "tool_words"]


_CAMEL1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NONWORD = re.compile(r"[^A-Za-z0-9]+")


@lru_cache(maxsize=4096)
def _words(name: str) -> tuple[str, ...]:
    s = _CAMEL2.sub(r"\1 \2", _CAMEL1.sub(r"\1 \2", name))
    return tuple(t for t in _NONWORD.split(s.lower()) if t)


def tool_words(name: str) -> list[str]:
    """``github.delete_repository`` -> [github, delete, repository]; camelCase is split too."""
    return list(_words(name))


_READ = frozenset("""get list read retrieve search describe fetch show view query find lookup
count preview estimate calculate compute validate check status inspect export download head
explain summarize summarise analyze analyse diff plan draft history info details dry dryrun
simulate test lint verify audit monitor scan""".split())
_DESTROY = frozenset("""delete del deletion deletes destroy destruction destroys drop drops purge
purging wipe wiping wiper wipes erase erasure erasing shred shredding truncate truncation
terminate termination nuke obliterate expunge rm rb deprovision decommission unpublish""".split())
_WEAK_DESTROY = frozenset("remove removal clear empty reset flush uninstall format".split())
_LOW = frozenset("""label labels tag tags reaction reactions emoji draft drafts reminder reminders
notification notifications bookmark bookmarks star stars cache caches temp tmp scratch session
sessions cookie cookies pod pods comment comments assignee assignees watcher watchers filter
filters alias lock lease pin pins highlight cart item webhook subscription member members
reviewer reviewers like likes token tokens invite invitation""".split())
_VALUABLE_WEAK = frozenset("""all every everything data database databases db table tables records
users accounts account repository repo repositories project projects bucket buckets volume
volumes backups backup snapshots snapshot customers contacts device devices cluster environment
files folder folders mailbox emails messages""".split())
_TAMPER = re.compile(r"\b(?:tamper\w*|falsif\w+|forg(?:e|ery|ing)|covert\w*|ransomware|wiper|"
                     r"backdoor\w*|cover(?:ing)?\s*tracks|fraudulent|fake\s*(?:records?|entries|"
                     r"invoices?|reports?|documents?))\b")
_TAMPER_NOUN = re.compile(r"\b(?:alteration|manipulation|manipulate|alter|falsify|doctor|"
                          r"rewrite)\b")
_RECORD_OBJ = re.compile(r"\b(?:record|records|log|logs|document|documents|documentation|report|"
                         r"reports|grade|grades|data|sensor|medical|financial|patient|patients|"
                         r"ledger|evidence|audit|result|results|entry|entries|history|backup|"
                         r"transaction|transactions|invoice|invoices|statement|statements)\b")
_BENIGN_MANIP = re.compile(r"\b(?:image|images|photo|photos|string|strings|text|dataframe|array|"
                           r"arrays|pdf|video|audio)\b")
_PROTECT = re.compile(r"\b(?:protection|protect|detection|detect|scan|scanner|defen[cs]e|"
                      r"guard|shield|removal\s*tool|recovery)\b")
_MONEY = frozenset("""refund refunds payout payouts pay payment payments wire charge charges
withdraw withdrawal disburse disbursement remit remittance purchase buy sell trade transfer
transfers reimburse reimbursement""".split())
_MONEY_CTX = frozenset("""funds fund money bank banking wire cash balance iban payment payments
stripe paypal venmo wise revolut plaid brex ramp mercury coinbase binance crypto wallet ach swift
sepa zelle transferwise square adyen braintree payroll""".split())
_SEND = frozenset("""send post broadcast publish blast notify email mail sms message messages
campaign newsletter announce push text""".split())
_BULK = frozenset("""bulk mass batch campaign campaigns newsletter broadcast blast all marketing
singlesends""".split())
_AUDIENCE = re.compile(r"\b(?:all|every|everyone|entire|whole)[\s_-]*(?:of\s+)?(?:our\s+|the\s+)?"
                       r"(?:customers?|users?|subscribers?|clients?|contacts?|members?|employees?|"
                       r"staff|accounts?|audience|recipients|list|patients|tenants?)\b|"
                       r"\ball[-_.]?(?:customers|users|subscribers|staff|employees)@|"
                       r"\(\s*\d{1,3}(?:,\d{3})+\s*\)|\b(?:\d{1,3}(?:,\d{3})+|\d{3,})\s+"
                       r"(?:recipients|subscribers|contacts|customers|users|members)\b", re.I)
_FANOUT = re.compile(r"\b(?:each|every|for\s+(?:each|every|all))\s+(?:of\s+(?:the\s+)?)?"
                     r"(?:user|member|subscriber|customer|contact|recipient|employee|account|"
                     r"patient|tenant|client|person|people)s?\b|\bfor\s+\w+\s+in\s+\w*"
                     r"(?:users|members|subscribers|customers|contacts|recipients|employees|"
                     r"accounts)\b", re.I)
"""A loop over a whole audience: ``{{ each user.id from step 1 }}``, ``for u in users``."""
_TEMPLATE_ALL = re.compile(r"(?:\{\{|\$\{|\{)[^}]*(?:\[\*\]|\b(?:users|members|subscribers|"
                           r"customers|contacts|recipients|employees|accounts)\b)", re.I)
"""A template over a whole listed audience (``{{ steps.1.members[*].id }}``)."""
_AUDIENCE_KEY = re.compile(r"(?:^|_)(?:to|cc|bcc|recipients?|audience|lists?|list_ids?|segments?|"
                           r"segment_ids?|group|groups|channel|channels|emails?|numbers?|phones?|"
                           r"send_to)$", re.I)
_AUDIENCE_PLURAL = re.compile(r"\b(?:users|members|subscribers|customers|contacts|recipients|"
                              r"employees|accounts|patients|tenants|clients)\b", re.I)
_LOOP_KEYS = frozenset("for_each foreach loop each map_over iterate with_items over".split())
_AUDIENCE_NOUNS = frozenset("""users user members member subscribers subscriber customers customer
contacts contact recipients employees accounts people audience""".split())
_COUNT_KEYS = re.compile(r"^(?:recipients?|recipient_count|recipients_count|audience_size|"
                         r"num_recipients|total_recipients|list_size|count|payees|"
                         r"items_count|num_items)$", re.I)
MASS_COUNT = 50
"""Recipients (or payees) from which a send or payout is a mass action."""
_OP_KEYS = frozenset("""operation method action function op rpc call api_method endpoint_name
command_name""".split())
_HTTP_METHODS = frozenset("get head options post put patch delete".split())
_METHOD_KEYS = frozenset("method http_method request_method verb".split())
_URL_KEYS = re.compile(r"^(?:endpoint|url|uri|path|route|resource|api|href)$", re.I)
_OP_VALUE = re.compile(r"[A-Za-z][\w./:-]{0,63}")
_BRANCH_REF = re.compile(r"(?:^|/)git/refs/heads/(?P<b>[^?#\s]+)|(?:^|/)branches/(?P<b2>[^?#\s]+)",
                         re.I)


def http_delete(urls: tuple[str, ...], evidence: str, state: PlanState, *, rule: str,
                certain: bool) -> list[Finding]:
    """An HTTP DELETE on ``urls``: a branch ref is judged like ``git push --delete`` (a shared
    branch: ``git.delete-shared-branch``; a feature branch: nothing); else ``rule``, owned when
    every URL is under something this plan created."""
    branches = [(m.group("b") or m.group("b2") or "").rstrip("/") for u in urls
                if (m := _BRANCH_REF.search(u))]
    if branches and len(branches) == len(urls):
        shared = tuple(b for b in branches if is_shared_branch(b))
        return [Finding("git.delete-shared-branch", evidence, shared)] if shared else []
    owned = bool(urls) and all(state.owns(u) for u in urls)
    return [Finding(rule, evidence, urls[:4], certain=certain, owned=owned)]


_TARGET_KEYS = re.compile(r"(?:^|_)(?:repo|repository|name|id|ids|bucket|table|database|db|"
                          r"project|channel|file|path|branch|ref|namespace|key|list|folder|"
                          r"account|instance|cluster|stack|resource|device|object|target)s?$",
                          re.I)


def _flat(args: Mapping[str, Any], limit: int = 64) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = list(args.items())[:limit]
    while stack and len(out) < limit:
        k, v = stack.pop(0)
        if isinstance(v, Mapping):
            stack.extend((f"{k}.{kk}", vv) for kk, vv in list(v.items())[:limit])
        elif isinstance(v, (list, tuple)):
            if v and all(isinstance(x, str) for x in v):
                out.append((k, ", ".join(v[:200])))
            else:
                stack.extend((k, x) for x in list(v)[:limit])
        elif v is not None:
            out.append((k, str(v)[:2000]))
    return out


_QUERY_KEYS = frozenset("query q search spl kql expression expr pipeline command".split())
_PIPE_REMOVAL = re.compile(r"\|\s*(?:delete|drop|purge|remove|truncate|wipe|clear|"
                           r"expunge|erase)\s*(?:$|\||\s\w)|^\s*\.(?:drop|purge|delete|clear)"
                           r"\s+(?:table|database|extents|data|function)", re.I)
"""A query language's removal stage: SPL's ``search ... | delete``, a Kusto control command
(``.drop table``, ``.purge``): the query deletes what it matches."""


def scan_tool_call(tool: str, args: Mapping[str, Any], state: PlanState, *,
                   effect: str | None = None) -> list[Finding]:
    """Rules on a tool call's name and arguments (not on its command or query text)."""
    found: list[Finding] = []
    words = tool_words(tool)
    flat = _flat(args)
    targets = tuple(v[:200] for k, v in flat if _TARGET_KEYS.search(k.rsplit(".", 1)[-1]))[:8]
    label = snippet(f"{tool}({', '.join(f'{k}={v}' for k, v in flat[:4])})")
    if effect == "destructive":
        found.append(Finding("tool.declared-destructive", label, targets))
    elif effect == "external":
        found.append(Finding("tool.declared-external", label, targets))
    # the operation named in the arguments (``operation: payouts.create_batch``,
    # ``method: chat.postMessage``) is read as part of the tool's name; an HTTP method is not
    http_method = None
    for k, v in flat:
        if not _OP_VALUE.fullmatch(v.strip()):
            continue
        kl = k.rsplit(".", 1)[-1].lower()
        if kl in _METHOD_KEYS and v.strip().lower() in _HTTP_METHODS:
            http_method = v.strip().upper()
        elif kl in _OP_KEYS:
            words = [*words, *tool_words(v.strip())]
    for k, v in flat:  # a query whose pipeline ends in a removal: ``... | delete`` (SPL)
        if k.rsplit(".", 1)[-1].lower() in _QUERY_KEYS and _PIPE_REMOVAL.search(v):
            found.append(Finding("tool.destroy", snippet(f"{tool}: {v}"), targets))
            break
    wset = set(words)
    if http_method == "DELETE":
        urls = tuple(v[:300] for k, v in flat if _URL_KEYS.match(k.rsplit(".", 1)[-1]))
        found.extend(http_delete(urls or targets, label, state, rule="api.delete",
                                 certain=True))
        return found
    if wset & {"lifecycle", "retention", "ttl", "expiration"} or any(
            RETENTION_GATE.search(str(k)) for k in args):
        found.extend(scan_retention(json.dumps(args, default=str)[:20_000], targets))
    if wset & {"list", "search", "get", "fetch", "export"} and wset & _AUDIENCE_NOUNS:
        state.audience_listed = True
    if not words or wset & _READ and not wset & _DESTROY:
        return found
    name_text = " ".join(words)
    if _TAMPER.search(name_text) and not _PROTECT.search(name_text) or (
            _TAMPER_NOUN.search(name_text) and _RECORD_OBJ.search(name_text) and
            not _BENIGN_MANIP.search(name_text)) or (
            "false" in wset and _RECORD_OBJ.search(name_text)):
        found.append(Finding("tool.tamper", label, targets))
        return found
    verbs = wset & _DESTROY
    weak = wset & _WEAK_DESTROY
    if verbs or weak:
        objects = [w for w in words if w not in _DESTROY and w not in _WEAK_DESTROY and
                   w not in ("tool", "tools", "api", "many", "batch", "bulk", "by", "id", "ids",
                             "gdpr", "hard", "force", "permanently", "permanent", "v1", "v2")]
        ns = words[0] if "." in tool or "_" in tool and len(words) > 2 else None
        obj = [w for w in objects if w != ns] or objects
        if "branch" in obj or "branches" in obj or "ref" in obj:
            names = [v for k, v in flat if re.search(r"branch|ref|name", k, re.I)]
            shared = [n for n in names if is_shared_branch(n)]
            if shared:
                found.append(Finding("git.delete-shared-branch", label, tuple(shared)))
            return found
        if obj and all(w in _LOW or w.rstrip("s") in _LOW for w in obj):
            return found
        if weak and not verbs and not (set(obj) & _VALUABLE_WEAK or
                                       any(_AUDIENCE.search(v) for _, v in flat)):
            return found
        owned = bool(targets) and all(state.owns(t) or classify_path(t) in ("scratch",
                                                                          "regenerable")
                                      for t in targets)
        rule = "tool.delete-repo" if {"repository", "repo", "repositories"} & set(obj) else \
            "tool.destroy"
        if {"backup", "backups", "snapshot", "snapshots"} & set(obj):
            rule = "backup.delete"
        if {"trail", "audit", "logging"} & set(obj):
            rule = "audit.disable"
        found.append(Finding(rule, label, targets, owned=owned,
                             certain=bool(verbs)))
        return found
    counts = [int(v) for k, v in flat if _COUNT_KEYS.match(k.rsplit(".", 1)[-1]) and
              v.strip().isdigit() and len(v.strip()) < 12]
    big = any(c >= MASS_COUNT for c in counts)
    money = wset & _MONEY
    if money and ("transfer" not in money and "transfers" not in money or
                  wset & _MONEY_CTX or any(re.search(r"amount|iban|currency|account", k, re.I)
                                           for k, _ in flat)):
        if not (money <= {"purchase", "buy", "sell", "trade"} and not wset & _MONEY_CTX and
                not any(re.search(r"amount|price|quantity|shares", k, re.I) for k, _ in flat)):
            found.append(Finding("tool.money", label, targets))
            return found
    if wset & _SEND:
        audience = " ".join(v for k, v in flat if _AUDIENCE_KEY.search(k.rsplit(".", 1)[-1]))
        many = audience.count("@") >= MASS_COUNT or audience.count(",") >= MASS_COUNT or big
        loop = " ".join(v for k, v in flat if k.rsplit(".", 1)[-1].lower() in _LOOP_KEYS)
        many = many or any(isinstance(v, (list, tuple)) and len(v) >= MASS_COUNT
                           for k, v in args.items() if _AUDIENCE_KEY.search(str(k)))
        fanout = bool(_FANOUT.search(audience) or _FANOUT.search(loop) or
                      _AUDIENCE_PLURAL.search(loop)) or (
            state.audience_listed and bool(_TEMPLATE_ALL.search(audience + " " + loop)))
        few = bool(counts) and not big  # an explicit small count outweighs a bulk-sounding name
        if wset & _BULK and not few or _AUDIENCE.search(audience) or many or fanout:
            found.append(Finding("tool.mass-message", label, targets))
    return found
