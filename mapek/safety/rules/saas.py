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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from mapek.safety.rules._base import Finding, PlanState, is_shared_branch, snippet

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
_BULK = frozenset("bulk mass batch campaign campaigns newsletter broadcast blast all".split())
_AUDIENCE = re.compile(r"\b(?:all|every|everyone|entire|whole)[\s_-]*(?:of\s+)?(?:our\s+|the\s+)?"
                       r"(?:customers?|users?|subscribers?|clients?|contacts?|members?|employees?|"
                       r"staff|accounts?|audience|recipients|list|patients|tenants?)\b|"
                       r"\ball[-_.]?(?:customers|users|subscribers|staff|employees)@|"
                       r"\(\s*\d{1,3}(?:,\d{3})+\s*\)|\b(?:\d{1,3}(?:,\d{3})+|\d{3,})\s+"
                       r"(?:recipients|subscribers|contacts|customers|users|members)\b", re.I)
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


def scan_tool_call(tool: str, args: Mapping[str, Any], state: PlanState, *,
                   effect: str | None = None) -> list[Finding]:
    """Rules on a tool call's name and arguments (not on its command or query text)."""
    found: list[Finding] = []
    words = tool_words(tool)
    wset = set(words)
    flat = _flat(args)
    targets = tuple(v[:200] for k, v in flat if _TARGET_KEYS.search(k.rsplit(".", 1)[-1]))[:8]
    label = snippet(f"{tool}({', '.join(f'{k}={v}' for k, v in flat[:4])})")
    if effect == "destructive":
        found.append(Finding("tool.declared-destructive", label, targets))
    elif effect == "external":
        found.append(Finding("tool.declared-external", label, targets))
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
        owned = bool(targets) and all(state.owns(t) for t in targets)
        rule = "tool.delete-repo" if {"repository", "repo", "repositories"} & set(obj) else \
            "tool.destroy"
        if {"backup", "backups", "snapshot", "snapshots"} & set(obj):
            rule = "backup.delete"
        if {"trail", "audit", "logging"} & set(obj):
            rule = "audit.disable"
        found.append(Finding(rule, label, targets, owned=owned,
                             certain=bool(verbs)))
        return found
    money = wset & _MONEY
    if money and ("transfer" not in money and "transfers" not in money or
                  wset & _MONEY_CTX or any(re.search(r"amount|iban|currency|account", k, re.I)
                                           for k, _ in flat)):
        if not (money <= {"purchase", "buy", "sell", "trade"} and not wset & _MONEY_CTX and
                not any(re.search(r"amount|price|quantity|shares", k, re.I) for k, _ in flat)):
            found.append(Finding("tool.money", label, targets))
            return found
    if wset & _SEND:
        audience = " ".join(v for k, v in flat if re.search(
            r"^(?:to|cc|bcc|recipients?|audience|list|list_id|segment|to_list|group|"
            r"channel|emails?|numbers?|phones?)$", k.rsplit(".", 1)[-1], re.I))
        many = audience.count("@") >= 50 or audience.count(",") >= 50
        if wset & _BULK or _AUDIENCE.search(audience) or many:
            found.append(Finding("tool.mass-message", label, targets))
    return found
