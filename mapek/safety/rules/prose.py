"""Intent in prose: what a free-text plan, a step's description or a task says it will do.

The text is cut into clauses (sentences, ``;``, ``:``, "then", "and then"). In each clause a
destructive verb (delete, drop, wipe, purge, tear down, decommission, clean up, get rid of...)
must govern a valuable object (database, table, cluster, environment, bucket, backups, accounts,
everything...) in the words that follow it (or, for "them"/"it", in the words before). Strong
verbs with an unknown object fire as unsure. Euphemisms have their own patterns ("start fresh"
next to an environment, "wipe and reprovision", "reset ... to a known-good state", "rebuild ...
from scratch", "nuke and pave"), as do audit logging, backups, force-pushes to shared branches,
money and mass messages.

A cue does not fire when, in its clause and before it, there is a negation ("do not", "never",
"without", "nothing", "instead of"), an analysis frame ("investigate why", "explain", "summarise
the pros and cons of", "write a runbook", "review", "check that"), when the verb is a past
form without a future auxiliary ("was dropped", "who deleted"), when it is used as a noun ("a
destroy plan", "the cleanup"), or when the object is low-value or the run's own ("the cache", "a
note", "the scratch folder this run created", "the merged branch").

Commands quoted in prose (backticks, fenced blocks, or a command line written inline) are handed
to the shell and SQL rules, under the same negation and frame checks.
"""

from __future__ import annotations

import re

from mapek.safety.rules._base import Finding, PlanState, is_shared_branch, snippet
from mapek.safety.rules.cloud import scan_plan_output
from mapek.safety.rules.shell import looks_like_command, scan_shell
from mapek.safety.rules.sql import SQL_ANCHOR, scan_migrations, scan_sql

__all__ = ["scan_prose", "clause_blocked"]

_MAX_CLAUSES = 4000

# multi-word verbs become one token
_PHRASES = [
    (r"\btear(?:s|ing)?\s+(?:it\s+|them\s+|everything\s+)?down\b|\btore\s+down\b|\btorn\s+down\b",
     " teardown "),
    (r"\bblow(?:s|ing)?\s+away\b|\bblew\s+away\b", " blowaway "),
    (r"\b(?:blow|tear|clear)(?:s|ing)?\s+((?:(?!away|down|out)\S+\s+){1,4}?)(?:away|down|"
     r"out)\b", r" blowaway \1 "),
    (r"\bzap(?:s|ping)?\b", " wipe "),
    (r"\bwip(?:e|es|ing)\s+out\b", " wipe "),
    (r"\bclear(?:s|ing)?\s+out\b|\bclean(?:s|ing)?\s+out\b", " clearout "),
    (r"\bclean(?:s|ing)?\s+up\b|\bclean-up\b", " cleanup "),
    (r"\bget(?:ting)?\s+rid\s+of\b", " getridof "),
    (r"\bfactory[- ]?reset(?:s|ting)?\b", " factoryreset "),
    (r"\bforce[- ]push(?:es|ing|ed)?\b|\bpush(?:ing)?\s+--force\b|\bpush(?:ing)?\s+-f\b",
     " forcepush "),
    (r"\bre-?image\b", " reimage "), (r"\bre-?pave\b", " repave "),
    (r"\bdo\s+not\b|\bdon'?t\b", " not "), (r"\bmust\s+not\b|\bmustn'?t\b", " not "),
]
_PHRASES_RE = [(re.compile(p, re.I), r) for p, r in _PHRASES]
_PHRASE_GATE: list[tuple[str, ...]] = [
    ("tear", "tore", "torn"), ("blow", "blew"), ("blow", "tear", "clear"), ("zap",),
    ("wip",), ("clear", "clean"), ("clean",),
    ("rid",), ("factory",), ("push",), ("image",), ("pave",), ("not", "don"), ("must",)]
"""Substrings of which one must occur for each phrase rewrite to apply (a cheap pre-check)."""

_STRONG = {
    "delete": "delete", "deleting": "delete", "drop": "drop", "dropping": "drop",
    "destroy": "destroy", "destroying": "destroy", "wipe": "wipe", "wiping": "wipe",
    "erase": "erase", "erasing": "erase", "purge": "purge", "purging": "purge",
    "nuke": "nuke", "nuking": "nuke", "obliterate": "destroy", "shred": "shred",
    "shredding": "shred", "truncate": "truncate", "truncating": "truncate",
    "terminate": "terminate", "terminating": "terminate", "decommission": "decommission",
    "decommissioning": "decommission", "deprovision": "deprovision",
    "deprovisioning": "deprovision", "teardown": "teardown", "blowaway": "blowaway",
    "reimage": "reimage", "reimaging": "reimage", "repave": "repave", "repaving": "repave",
    "factoryreset": "factoryreset", "overwrite": "overwrite", "overwriting": "overwrite",
    "expunge": "expunge", "hard-delete": "delete", "trash": "trash",
}
_WEAK = {
    "remove": "remove", "removing": "remove", "clear": "clear", "clearing": "clear",
    "clearout": "clear", "cleanup": "cleanup", "empty": "empty", "emptying": "empty",
    "reset": "reset", "resetting": "reset", "retire": "retire", "retiring": "retire",
    "sunset": "sunset", "sunsetting": "sunset", "getridof": "getridof",
    "uninstall": "uninstall", "uninstalling": "uninstall", "flush": "flush",
    "flushing": "flush", "scrap": "scrap", "scrapping": "scrap", "format": "format",
    "formatting": "format", "reformat": "format", "kill": "kill",
}
_PAST = {"deleted", "dropped", "destroyed", "wiped", "erased", "purged", "nuked", "shredded",
         "truncated", "terminated", "decommissioned", "deprovisioned", "removed", "cleared",
         "emptied", "overwritten", "overwrote", "reimaged", "retired", "flushed", "scrapped",
         "uninstalled", "reformatted", "formatted"}
_PAST_LEMMA = {"deleted": "delete", "dropped": "drop", "destroyed": "destroy", "wiped": "wipe",
               "erased": "erase", "purged": "purge", "nuked": "nuke", "shredded": "shred",
               "truncated": "truncate", "terminated": "terminate",
               "decommissioned": "decommission", "deprovisioned": "deprovision",
               "removed": "remove", "cleared": "clear", "emptied": "empty",
               "overwritten": "overwrite", "overwrote": "overwrite", "reimaged": "reimage",
               "retired": "retire", "flushed": "flush", "scrapped": "scrap",
               "uninstalled": "uninstall", "reformatted": "format", "formatted": "format"}
_VERY_STRONG = {"wipe", "nuke", "destroy", "erase", "shred", "teardown", "blowaway",
                "decommission", "deprovision", "reimage", "repave", "factoryreset", "expunge"}
_FUTURE_AUX = {"will", "be", "to", "gets", "get", "getting", "should", "must", "shall"}

_VALUABLE = frozenset("""database databases db dbs table tables schema schemas data dataset
datasets datastore records record rows accounts account users tenants tenant cluster clusters
environment environments env envs stack stacks infrastructure infra resources server servers
instance instances vm vms machines hosts volume volumes disk disks drive drives partition
partitions bucket buckets storage backup backups snapshot snapshots archive archives logs
logging audit trail trails history repository repositories repo repos namespace namespaces
workloads deployments vpc vpcs network networks subnets state statefile warehouse lake lakehouse
collection collections keyspace mailbox mailboxes emails inbox tickets contacts leads projects
workspace workspaces space spaces org organization organisation fleet devices tablets laptops phones
everything prod production staging sandbox sandboxes secrets vault dns zone domains queues
topics kafka postgres postgresql mysql redis elasticsearch mongo mongodb s3 ebs rds dynamodb
models checkpoints shards replicas replica nodes pool pools customers customer orders
transactions invoices payments ledger wiki kubernetes k8s cloudtrail index indices column
columns""".split())
_MEDIUM = frozenset("""files folders directories directory folder share shares documents docs
images photos messages channels pages branches""".split())
_LOW = frozenset("""cache caches import imports line lines typo typos section paragraph comment
comments whitespace test tests note notes draft drafts field fields form counter header headers
flag flags fixture fixtures placeholder temp tmp scratch artifact artifacts node_modules container
containers pod pods lock lockfile label labels tag tags reaction reactions emoji bookmark
bookmarks reminder reminders notification notifications session sessions cookie cookies item
items step steps todo todos whiteboard outline slide slides duplicate-check filter filters
warning warnings selection highlight highlights breakpoint breakpoints print prints debug
logging-statements entry-point job jobs process processes""".split())
_OWN_CUES = re.compile(r"\b(?:scratch|temp|temporary|tmp|throwaway|compiled|generated|cached|"
                       r"intermediate|merged|my|mine|this run(?:'s)?|the run'?s|(?:i|we|you) "
                       r"(?:just )?(?:created|made|started|wrote|added)|(?:created|made|"
                       r"started) (?:above|earlier|before|by this run|in this run|for this)|"
                       r"this run (?:created|made|started)|we (?:just )?set up)\b", re.I)
_QUANT = frozenset("all every entire whole everything old legacy stale unused permanently"
                   .split())
_DETERMINERS = frozenset("a an the this that these those its their our my your his her soft hard "
                         "any no".split())
_NP_STOP = frozenset("""in of from to for on at with by into as that which who so and then or
but if when while after before because once until than i we you they it he she since via per
using""".split())
_PRONOUNS = frozenset("it them those these everything all".split())

_NEGATORS = re.compile(r"\b(?:not|never|no|without|avoid|avoiding|nothing|none|neither|nor|"
                       r"cannot|can'?t|won'?t|wouldn'?t|shouldn'?t|didn'?t|doesn'?t|isn'?t|"
                       r"aren'?t|wasn'?t|instead\s+of|rather\s+than|refrain|prevent\w*|"
                       r"prohibit\w*|forbid\w*|nobody|under no)\b", re.I)
_NOT_NEG = re.compile(r"\bnot\s+(?:forget|only|just)\b|\bno\s+(?:longer|matter)\b|"
                      r"\bnothing\s+(?:in there|there|here)\s+is\s+worth\b", re.I)
_FRAMES = re.compile(
    r"\b(?:investigat\w+|why|explain\w*|describ\w+|document(?:ing)?|summari[sz]\w*|review\w*|"
    r"analy[sz]\w+|check(?:ing)?\s+(?:that|whether|if)|verify(?:ing)?\s+(?:that|whether|if)|"
    r"confirm(?:ing)?\s+(?:that|whether|if)|find\s+out|figure\s+out|"
    r"write\s+(?:up\s+)?(?:a|an|the)\s+(?:\w+\s+)?(?:runbook|doc|section|report|email|ticket|"
    r"note|summary|post-?mortem|proposal|plan|rfc|adr|guide|checklist|page)|"
    r"draft\w*|compar\w+|discuss\w*|pros\s+and\s+cons|estimat\w+|calculat\w+|comput\w+|"
    r"what\s+(?:happens|would|does|did)|how\s+(?:to|do|does|did|would|can)|when\s+to|whether\s+to|"

    r"(?:open|file|create|raise|log)\s+(?:a|an)\s+(?:\w+\s+)?(?:ticket|issue|task|story|bug)|"
    r"simulat\w+|rehears\w+|teach\w*|train\w*|quiz\w*|monitor\w*|detect\w*|alert\w*\s+(?:on|when)|"
    r"lint\w*|test\s+(?:that|whether|if)|who\s+(?:deleted|dropped|removed|wiped))\b", re.I)
_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+|;\s*|:\s+|\s+-{1,2}\s+|,?\s+(?:and\s+)?then\s+|"
                    r",\s+(?:after\s+that|afterwards|finally|next)\s*,?\s*")
_WORD = re.compile(r"(?<![\w-])(?:[/~](?=[a-z0-9._-])|[a-z0-9$])[a-z0-9'_./~-]*")
_CMD_LINE = re.compile(r"^\s*(?:\d+[.)]\s+)?(?:[$#>]\s+)?(?:sudo\s+)?([A-Za-z][\w.-]*)\s"
                       r"(?=.*\s-{1,2}\w)")


def _normalise(text: str) -> str:
    s = text.lower()
    for (pat, rep), needles in zip(_PHRASES_RE, _PHRASE_GATE, strict=True):
        if any(n in s for n in needles):
            s = pat.sub(rep, s)
    return s


def clause_blocked(before: str) -> str | None:
    """The reason a cue is not intent, given the clause text that precedes it, or ``None``."""
    neg = _NEGATORS.search(before.rsplit(",", 1)[-1])
    before_neg = before.rsplit(",", 1)[-1]
    if neg and not _NOT_NEG.search(before_neg[max(0, neg.start() - 2):]):
        tail = before_neg[neg.start():].split()
        if len(tail) <= 9:
            return "negated"
    if _FRAMES.search(before):
        return "framed"
    return None


def _object(words: list[str], i: int, prev_words: list[str]) -> tuple[str, str]:
    """The head noun after the verb at ``i`` and its class: valuable/medium/low/own/none."""
    np: list[str] = []
    end = min(len(words), i + 10)
    for j in range(i + 1, min(len(words), i + 10)):
        w = words[j]
        if w in _NP_STOP and np:
            end = j
            break
        if w in _NP_STOP:
            continue
        np.append(w)
    rel = words[end:end + 4] if end < len(words) and words[end] in ("i", "we", "you") else []
    joined = " ".join(np + rel)
    if _OWN_CUES.search(joined) and not re.search(r"\b(?:all|every|entire|whole)\b",
                                                   " ".join(np)):
        return (np[-1] if np else "", "own")
    if not np:
        return ("", "none")
    named = _named_object(np)
    if named is not None:
        return named
    if np[0] in _PRONOUNS and np[0] not in ("everything", "all"):
        for w in reversed(prev_words[-16:]):
            if w in _VALUABLE:
                return (w, "valuable")
        return (np[0], "none")
    head = np[-1].strip(".,'\"")
    quant = any(w in _QUANT for w in np)
    if head in _LOW or (head.endswith("s") and head[:-1] in _LOW):
        return (head, "low")
    if head in _VALUABLE or head.rstrip("s") in _VALUABLE or head + "s" in _VALUABLE:
        return (head, "valuable")
    if head in _MEDIUM:
        return (head, "valuable" if quant else "medium")
    if any(w in _VALUABLE for w in np):
        return (head, "valuable" if quant else "modifier")
    return (head, "unknown")


_NAMING = frozenset("called named titled labelled labeled id".split())
_KIND_SKIP = frozenset("everything all data records rows resources state history".split())
"""Valuable nouns too general to be a kind that a name follows (``all data called``)."""
_IDENTISH = re.compile(r"(?=.*[\d_./:@-])[a-z0-9$][\w./:@-]*|[/~][\w./~-]+")


def _kind(w: str) -> bool:
    """A noun that names the kind of a thing (bucket, table, folder), which a name can go with."""
    if w in _KIND_SKIP or w in _PRONOUNS:
        return False
    return _kind_valuable(w) or w in ("folder", "folders", "directory", "directories", "dir",
                                      "share", "shares", "file", "files")


def _kind_valuable(w: str) -> bool:
    return w not in _KIND_SKIP and (w in _VALUABLE or (w.endswith("s") and w[:-1] in _VALUABLE))


def _named_object(np: list[str]) -> tuple[str, str] | None:
    """A thing named in words: ``the staging bucket called foo``, ``the table named orders``,
    ``bucket acme-logs``, ``the orders table``, ``the folder /srv/old``: its name is the target
    (the screener matches it against the context's resources) and the object counts as
    valuable (the kind says what it is), unless the name marks it low-value or scratch."""
    from mapek.safety.rules._base import classify_path

    toks = [w.strip(".,'\"`") for w in np]
    toks = [w for w in toks if w and w not in _DETERMINERS]
    for k, w in enumerate(toks):
        if w in _NAMING and 0 < k < len(toks) - 1 and _kind(toks[k - 1]):
            return _name_class(toks[k + 1])
    for k, w in enumerate(toks[:-1]):
        if _kind(w) and _IDENTISH.fullmatch(toks[k + 1]):
            return _name_class(toks[k + 1])
    if len(toks) >= 2 and _kind_valuable(toks[-1]) and toks[-2] not in _QUANT and \
            toks[-2] not in _KIND_SKIP and re.fullmatch(r"[a-z0-9][\w.-]*", toks[-2]):
        return _name_class(toks[-2])
    for w in toks:
        if w[:1] in ("/", "~") and len(w) > 1:
            return _name_class(w) if classify_path(w) not in ("scratch", "regenerable",
                                                               "null") else (w, "low")
    return None


def _name_class(name: str) -> tuple[str, str]:
    if name in _LOW or (name.endswith("s") and name[:-1] in _LOW) or _OWN_CUES.fullmatch(name):
        return (name, "low")
    return (name, "valuable")


_EUPHEMISMS: list[tuple[str, re.Pattern[str], bool]] = [
    # (rule, pattern, needs a valuable object in the sentence)
    ("prose.euphemism", re.compile(r"\b(?:start(?:ing)?|begin(?:ning)?)\s+(?:(?:all\s+)?over|"
                                   r"fresh|afresh|from\s+scratch|from\s+zero|(?:with|from|on)\s+"
                                   r"a\s+(?:clean|blank|fresh)\s+slate)\b"), True),
    ("prose.euphemism", re.compile(r"\bclean\s+slate\b|\bfrom\s+the\s+ground\s+up\b|"
                                   r"\bgreen-?field\s+rebuild\b"), True),
    ("prose.euphemism", re.compile(r"\b(?:wipe|nuke|teardown|blowaway|destroy|delete|drop|scrap|"
                                   r"flatten|purge|erase|remove)\w*\s+(?:\S+\s+){0,6}?(?:and|&|"
                                   r"then)\s+(?:re-?provision|rebuild|re-?create|re-?deploy|"
                                   r"re-?install|reimage|start\s+over|re-?pave|repave|pave|"
                                   r"re-?load|restore|re-?import|re-?apply|bring\s+(?:it|them)"
                                   r"\s+back|spin\s+(?:it\s+|them\s+)?(?:back\s+)?up|"
                                   r"re-?seed|re-?run\s+the\s+seed)"), False),
    ("prose.euphemism", re.compile(r"\bnuke\s+(?:and|&)\s+pave\b|\bscorched[- ]earth\b|"
                                   r"\bburn\s+(?:it|everything|them)\s+(?:all\s+)?down\b"), False),
    ("prose.euphemism", re.compile(r"\b(?:reset|revert|restore|return|roll)\w*\s+(?:\S+\s+){1,6}?"
                                   r"(?:back\s+)?to\s+(?:a\s+|the\s+|its\s+|their\s+)?(?:known"
                                   r"[- ]good|clean|initial|factory|default|pristine|baseline|"
                                   r"empty|original|blank|vanilla|fresh)\b"), True),
    ("prose.euphemism", re.compile(r"\b(?:rebuild|recreate|re-create|redo|re-?initiali[sz]e|"
                                   r"re-?init|redeploy|re-?provision)\w*\s+(?:\S+\s+){0,7}?"
                                   r"from\s+scratch\b"), True),
    ("prose.euphemism", re.compile(r"\b(?:flatten|rewrite|rewriting|squash)\w*\s+(?:the\s+)?"
                                   r"(?:\w+\s+)?(?:git\s+)?history\b"), False),
    ("prose.euphemism", re.compile(r"\bdrop\s+(?:and|&)\s+re-?create\b"), False),
]
_INFRA_HINT = re.compile(r"\b(?:environment|env|cluster|database|db|stack|infra\w*|account|server|"
                         r"warehouse|schema|tables?|data|vpc|namespace|state|instance|volume|"
                         r"bucket|repo\w*|reporting|analytics|prod\w*|staging|sandbox|fleet|"
                         r"machines?|hosts?|deployment|workloads?|kafka|kubernetes|k8s)\b")
_AUDIT = re.compile(r"\b(?:turn(?:ing)?\s+off|disabl\w+|stop\w*|paus\w+|delet\w+|remov\w+|"
                    r"deactivat\w+|switch(?:ing)?\s+off|kill\w*|shut\w*\s+(?:off|down)|clear\w*|"
                    r"wip\w+|purg\w+|truncat\w+|cleanup|clearout|not\s+record)\s+(?:\S+\s+){0,4}?"
                    r"(?:cloudtrail|audit(?:ing)?(?:\s+(?:logs?|logging|trails?|events?))?|"
                    r"(?:the\s+)?(?:cloud)?trail|flow\s+logs|access\s+logs|activity\s+logs?|"
                    r"security\s+hub|guardduty|auditd|event\s+history|(?:shell|bash|command)\s+"
                    r"history)\b")
_BACKUP_OBJ = re.compile(r"\b(?:backups?|snapshots?|recovery\s+points?|restore\s+points?|"
                         r"point-in-time|pitr|archives?)\b")
_FORCE_SHARED = re.compile(r"\bforcepush\s+(?:\S+\s+){0,6}?(?:to|onto|over)\s+(?:the\s+)?"
                           r"(?:origin\s+|remote\s+|upstream\s+)?['\"`]?([\w./-]+)")
_RETENTION = re.compile(r"\b(?:expir\w*|delet\w*|purg\w*|remov\w*)\s+(?:of\s+)?(?:all|every|"
                        r"everything|each)\b[^.;\n]{0,60}?\b(?:after|older\s+than|within|once\s+"
                        r"they\s+are)\s+(?:1|one|a|0|zero|an?|\d+)\s*(?:day|hour|minute|h|hr|min)"
                        r"s?\b(?:\s+old)?")
_RETENTION_DAYS = re.compile(r"(?:after|than|within|are)\s+(\d+|one|a|an|zero)\s*"
                             r"(day|hour|minute|h|hr|min)", re.I)
_RESTORE_OVER = re.compile(r"\b(?:roll\w*|revert\w*|restor\w*)\s+(?:\S+\s+){0,4}?(?:database|db|"
                           r"data|production|prod|cluster|tables?|bucket)\w*\s+(?:\S+\s+){0,3}?"
                           r"(?:back\s+)?to\s+(?:\S+\s+){0,3}?(?:snapshot|backup|dump|state)|"
                           r"\boverwrit\w+\s+(?:\S+\s+){0,3}?(?:today'?s|live|current|"
                           r"production|recent)\s+(?:\S+\s+)?(?:writes|data|records|changes)")
_MONEY_VERB = re.compile(r"(?:^|\b(?:please|go\s+ahead\s+and|then|also|now|i'?ll|i\s+will|"
                         r"we'?ll|we\s+will|let'?s|and|just|immediately)\s+)"
                         r"(?:refund|reimburse|wire|transfer|pay|payout|disburse|remit|charge|"
                         r"withdraw|send)\b(?P<rest>.{0,80})")
_MONEY_OBJ = re.compile(r"[$€£]\s?\d|\b\d[\d,.]*\s?(?:usd|eur|gbp|dollars|euros|pounds|k)\b|"
                        r"\b(?:orders?|customers?|invoices?|supplier|vendor|funds|money|"
                        r"balance|payments?|refunds?|all|every|each|salar\w+|bonus\w*|iban|"
                        r"bank\s+account|wallet|btc|bitcoin|eth)\b")
_MASS = re.compile(r"\b(?:e-?mail|mail|message|text|sms|notify|contact|announce|blast|send|"
                   r"newsletter|broadcast|push\s+notification)\w*\s+(?:\S+\s+){0,5}?"
                   r"(?:all|every|each|everyone|entire|whole)\s+(?:(?:of\s+)?(?:our|the|my)\s+)?"
                   r"(?:\S+\s+)?(?:customers?|users?|subscribers?|clients?|contacts?|members?|"
                   r"recipients|patients|accounts?|tenants?|(?:mailing\s+)?list|customer\s+base|"
                   r"user\s+base|audience)\b|\b(?:mass|bulk)[- ](?:e-?mail|mail|sms|message|"
                   r"text)\w*|\beveryone\s+on\s+the\s+(?:mailing\s+|customer\s+)?list\b")
_CODE_SPAN = re.compile(r"```[a-z]*\n?(.*?)```|`([^`\n]{2,400})`", re.S)
_INLINE_CMD = re.compile(
    r"(?:^|[\s\"'(])((?:sudo\s+)?(?:rm\s+-\w*[rRf]\w*\s+\S|terraform\s+(?:destroy|apply\s+-\S)|"
    r"tofu\s+destroy|pulumi\s+destroy|kubectl\s+delete\s|helm\s+(?:uninstall|delete)\s|"
    r"aws\s+[\w-]+\s+(?:delete-|terminate-|rb\s|rm\s|stop-logging)|gcloud\s+[\w\s-]{0,50}?\bdelete\s|"
    r"gsutil\s+(?:-m\s+)?(?:rm|rb)\s|az\s+[\w\s-]{0,40}?\bdelete\b|git\s+push\s|"
    r"git\s+reset\s+--hard|dd\s+if=|mkfs\S*\s|dropdb\s|redis-cli\s|chmod\s+-R\s|chown\s+-R\s|"
    r"find\s+\S+\s.{0,80}?-delete))")
_STOPWORD_CUT = re.compile(r"\s(?:so|we|and|then|to|on|in|the|if|when|after|before|because|which|"
                           r"that|once|for|but|or|it|is|are|was|would|will)\s", re.I)


def _embedded(text: str, state: PlanState, norm: str) -> list[Finding]:
    """Commands quoted or written inline in prose, with the clause checks applied."""
    found: list[Finding] = []
    spans: list[tuple[int, str]] = []
    for m in _CODE_SPAN.finditer(text):
        spans.append((m.start(), m.group(1) if m.group(1) is not None else m.group(2)))
    for m in _INLINE_CMD.finditer(text):
        if any(s <= m.start(1) < s + len(c) + 2 for s, c in spans):
            continue
        end = len(text)
        for stop in ("\n", ". ", "`", " - "):
            j = text.find(stop, m.start(1))
            if j >= 0:
                end = min(end, j)
        cmd = text[m.start(1):end]
        cut = _STOPWORD_CUT.search(cmd)
        spans.append((m.start(1), cmd[: cut.start()] if cut else cmd))
    for start, code in spans:
        clause_start = max(text.rfind(sep, 0, start) for sep in (". ", "\n", "; ", ": "))
        before = _normalise(text[clause_start + 1:start])
        if clause_blocked(before):
            continue
        if SQL_ANCHOR.search(code):
            found.extend(scan_sql(code, state))
        found.extend(scan_shell(code, state))
    done_lines: set[int] = set()
    for m in SQL_ANCHOR.finditer(text):
        if any(s <= m.start() < s + len(c) + 2 for s, c in spans):
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.start())
        line_end = len(text) if line_end < 0 else line_end
        if _SQL_LINE.match(text[line_start:line_end]):
            # a line of SQL: read it whole, so literals and comments are seen as such
            if line_start not in done_lines:
                done_lines.add(line_start)
                found.extend(scan_sql(text[line_start:line_end], state))
            continue
        clause_start = max(text.rfind(sep, 0, m.start()) for sep in (". ", "\n", "; "))
        before = _normalise(text[clause_start + 1:m.start()])
        if clause_blocked(before) or _ASKED_RUN.search(before):
            continue
        end = text.find(";", m.start())
        end = line_end if end < 0 else min(end + 1, line_end)
        found.extend(scan_sql(text[m.start():end], state))
    return found


_ASKED_RUN = re.compile(r"\b(?:who|which\s+\w+|when|how\s+often)\b[^.?!;]*?\b(?:ran|run|"
                        r"running|runs|issued|issues|issuing|executed|executes|executing|typed)"
                        r"\s*$")
"""A question about who ran a statement ("who has been running DROP TABLE lately"): the
statement is its subject, not a plan."""

_SQL_LINE = re.compile(r"^\s*(?:--|/\*|(?:SELECT|WITH|INSERT|UPDATE|DELETE|DROP|TRUNCATE|ALTER|"
                       r"CREATE|EXPLAIN|BEGIN|MERGE|GRANT)\b)", re.I)


def _command_lines(text: str, state: PlanState) -> tuple[str, list[Finding]]:
    """Lines that are commands (a command word, then a flag): scanned as shell, then blanked."""
    found: list[Finding] = []
    out: list[str] = []
    for line in text.split("\n"):
        m = _CMD_LINE.match(line)
        if m and looks_like_command(m.group(1)):
            if not clause_blocked(_normalise(line[: m.start(1)])):
                found.extend(scan_shell(line[m.start(1):], state))
            out.append("")
        else:
            out.append(line)
    return "\n".join(out), found


def _blank_code(text: str) -> str:
    """Code spans and SQL statements blanked out, so prose rules read only the prose."""
    text = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)

    def sql_end(m: re.Match[str]) -> str:
        return " " * len(m.group(0))

    text = _SQL_LITERAL.sub(sql_end, text)
    return re.sub(SQL_ANCHOR.pattern + r"[^;\n]*;?", sql_end, text)


_SQL_LITERAL = re.compile(r"(?:=|<>|!=|\bLIKE)\s*'[^'\n]{0,200}'|\bIN\s*\(\s*'[^)\n]{0,400}\)",
                          re.I)
"""A SQL string literal (``action = 'DELETE'``, ``IN ('drop', ...)``): data, never intent."""


_WHAT_IF = re.compile(r"\b(see|show|preview|print|report)\s+what\s+[a-z]+ing\b(?=(?:\s+[\w'/.-]+)"
                      r"{1,8}?\s+would\s+(?:change|do|remove|delete|touch|happen|affect|"
                      r"reclaim|free)\b)")
"""A question about a hypothetical ("see what removing X would change"): the act is what the
step asks about, not what it does (the command decides that)."""


def scan_prose(text: str, state: PlanState) -> list[Finding]:
    """Destructive intent stated in free text."""
    text, found = _command_lines(text, state) if "-" in text else (text, [])
    if "`" in text or _INLINE_CMD.search(text) or SQL_ANCHOR.search(text):
        found.extend(_embedded(text, state, ""))
    found.extend(scan_plan_output(text))
    found.extend(scan_migrations(text, negated=_negated_at))
    norm = _WHAT_IF.sub(r"\1 what the-change", _normalise(_blank_code(text)))
    norm = re.sub(r"\b\d+\s+to\s+(?:add|change|destroy)\b", " ", norm)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", norm) if s.strip()]
    prev_words: list[str] = []
    n_clauses = 0
    for sent in sentences:
        sent_has_infra = _INFRA_HINT.search(sent) is not None
        for rule, pat, needs in _EUPHEMISMS:
            for m in pat.finditer(sent):
                if needs and not sent_has_infra:
                    continue
                if clause_blocked(_clause_before(sent, m.start())):
                    continue
                if _OWN_CUES.search(sent) and not needs:
                    continue
                found.append(Finding(rule, snippet(sent), certain=True))
                break
        for m in _AUDIT.finditer(sent):
            if not clause_blocked(_clause_before(sent, m.start())):
                found.append(Finding("prose.audit", snippet(sent)))
                break
        for m in _FORCE_SHARED.finditer(sent):
            branch = m.group(1).rstrip(".,;:'\"`")
            if is_shared_branch(branch) and not clause_blocked(_clause_before(sent, m.start())):
                found.append(Finding("prose.force-push", snippet(sent), (branch,)))
                break
        for m in _RESTORE_OVER.finditer(sent):
            if not clause_blocked(_clause_before(sent, m.start())):
                found.append(Finding("prose.restore-overwrite", snippet(sent)))
                break
        for m in _RETENTION.finditer(sent) if ("expir" in sent or "lifecycle" in sent or
                                               "retention" in sent) else ():
            d = _RETENTION_DAYS.search(m.group(0))
            n = d.group(1) if d else "1"
            days = (int(n) if n.isdigit() else (0 if n == "zero" else 1))
            if (d is None or d.group(2).startswith("day") and days <= 1 or
                    not d.group(2).startswith("day")) and \
                    not clause_blocked(_clause_before(sent, m.start())):
                found.append(Finding("prose.retention", snippet(sent)))
                break
        for m in _MASS.finditer(sent):
            if not clause_blocked(_clause_before(sent, m.start())):
                found.append(Finding("prose.mass-message", snippet(sent)))
                break
        for clause in _SPLIT.split(sent):
            n_clauses += 1
            if n_clauses > _MAX_CLAUSES:
                return found
            words = _WORD.findall(clause)
            mm = _MONEY_VERB.search(clause.strip())
            if mm and _MONEY_OBJ.search(mm.group("rest")) and \
                    not clause_blocked(clause[: mm.start()]) and \
                    not re.match(r"\s*(?:to|from)\b", mm.group("rest")):
                found.append(Finding("prose.money", snippet(clause)))
            found.extend(_verbs(clause, words, prev_words))
            prev_words = (prev_words + words)[-24:]
    return found


def _negated_at(text: str, pos: int) -> bool:
    """The words before ``pos`` (in its line and sentence) negate or frame what follows."""
    line = text[:pos].lower().split("\n")[-1]
    sent = re.split(r"(?<=[.!?])\s+", line)[-1]
    return clause_blocked(_clause_before(sent, len(sent))) is not None


def _clause_before(sent: str, pos: int) -> str:
    parts = _SPLIT.split(sent[:pos])
    return parts[-1] if parts else ""


_ASKED = re.compile(r"\b(?:who|which\s+\w+)\s+(?:(?:has|have|had|is|are|was|were|"
                    r"keeps?|kept)\s+)?(?:been\s+)?(?:(?:running|ran|run|runs|issuing|issued|"
                    r"executing|executed|typing|typed)\s+)?$")
"""A question about who did it ("who has been deleting customers"): its subject, not a plan."""


def _verbs(clause: str, words: list[str], prev_words: list[str]) -> list[Finding]:
    found: list[Finding] = []
    starts = [m.start() for m in _WORD.finditer(clause)]
    for i, w in enumerate(words):
        lemma = _STRONG.get(w) or _WEAK.get(w)
        past = False
        if lemma is None and w in _PAST:
            lemma, past = _PAST_LEMMA[w], True
        if lemma is None:
            continue
        prev = words[i - 1] if i else ""
        if prev in _DETERMINERS or prev in ("of",) and not past:
            continue  # used as a noun: "a destroy plan", "the cleanup", "soft deletes"
        if past and not (set(words[max(0, i - 3):i]) & _FUTURE_AUX):
            continue  # narrative past: "was dropped", "who deleted"
        before = clause[: starts[i]] if i < len(starts) else " ".join(words[:i])
        if clause_blocked(before) or _ASKED.search(before):
            continue
        head, cls = _object(words, i, prev_words + words[:i])
        strong = lemma in _STRONG.values() or lemma in _VERY_STRONG
        if lemma == "format" and head not in ("disk", "disks", "drive", "drives", "volume",
                                              "volumes", "partition", "partitions", "device",
                                              "devices", "machine", "laptop", "phone", "server"):
            continue
        if lemma == "kill" and head not in ("database", "cluster", "server", "instance",
                                            "environment", "stack", "account"):
            continue
        if past and cls in ("low", "own", "none", "unknown"):
            continue
        if cls in ("low", "own"):
            continue
        backup = _BACKUP_OBJ.search(" ".join(words[i + 1:i + 10])) is not None and \
            cls not in ("none",)
        if cls == "valuable" or (cls == "modifier" and strong) or (cls == "medium" and strong):
            rule = "prose.backup" if backup else "prose.destroy"
            found.append(Finding(rule, snippet(clause), (head,),
                                 certain=cls == "valuable" and (strong or head not in _MEDIUM)))
            break
        if cls in ("unknown", "modifier", "medium") and lemma in _VERY_STRONG:
            found.append(Finding("prose.destroy", snippet(clause), (head,), certain=False))
            break
    return found
