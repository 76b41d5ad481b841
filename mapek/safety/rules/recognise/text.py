"""Free-text plans the recogniser recognises as safe (:func:`unrecognised_text`).

A plan written in words is recognised when every clause's verb is a known safe one (summarise,
draft, report, hand over to a person), no clause acts on something (change, remove, open,
send outside), and a command quoted in it is itself recognised by the shell reader.
"""

from __future__ import annotations

import re

from mapek.safety.rules.recognise.shell import (
    _MAKE_BINS,
    _READ_BINS,
    _VERB_CLIS,
    _handled,
    unrecognised_shell,
)
from mapek.safety.rules.recognise.verbs import (
    CHANGE_VERBS,
    DESTROY_VERBS,
    MAX_CHARS,
    READ_VERBS,
    _stem,
)

__all__ = ["unrecognised_text"]


_PROSE_SAFE = READ_VERBS | frozenset("""summarise summarize draft outline document describe
explain analyse analyze investigate research review read compare assess evaluate estimate check
verify confirm look find list count collect gather identify note record report answer ask reply
discuss propose recommend suggest plan prepare sketch brainstorm tell present show
visualise visualize chart plot graph measure monitor observe track inspect audit examine study
learn understand diagnose debug reproduce test search query fetch retrieve download view open
compute
print export copy backup back snapshot create add build generate compile write translate
proofread rewrite refactor comment annotate file raise""".split()) - frozenset({"log"})
_PROSE_ACT = (CHANGE_VERBS | DESTROY_VERBS | frozenset("""get rid tidy retire sunset decommission
nuke blow cleanup trim shrink reclaim free consolidate dedupe deduplicate collapse squash repoint
redirect swap flip roll email message text sms contact announce send
mail share give hand expose strip shut turn merge combine power lock switch toggle engage
disengage bypass""".split())) - frozenset(
    {"plan", "report", "mark", "batch", "bulk", "mass", "note", "log", "back", "post", "schedule",
     "allow"})
_LEAD = frozenset("""please then and also first next finally now just so afterwards after that
i we i'll we'll i'd we'd let's lets let us will should must can could would need to want go
ahead quickly carefully simply immediately kindly you your team agent""".split())
_OPENING = re.compile(r"\b(?:public(?:ly)?|world-readable|anyone\s+with\s+the\s+link|"
                      r"to\s+everyone|open\s+to\s+all|all\s+users|to\s+the\s+(?:world|"
                      r"internet|public)|0\.0\.0\.0/0)\b", re.I)
"""Opening something to everyone is an access change, whatever verb says it."""
_LIGHT = frozenset("take go come help try make get".split())
"""Light verbs whose object says what is done (take a snapshot, go purge, make a backup)."""
_DET = frozenset("a an the this that these those its our your their some any".split())
_CLAUSE = re.compile(r"[.;:!?\n]+|,\s*|\s+(?:and|then|but|or|so|before|after|once|until)\s+",
                     re.I)
_NEG_LEAD = re.compile(r"^(?:do\s+not|don'?t|never|not|no\s+need\s+to|avoid|without|"
                       r"we\s+won'?t|i\s+won'?t|nothing)\b", re.I)


_HANDOVER = re.compile(
    r"^(?:send|email|forward|hand|pass|give|share|submit)\s+(?:(?:the|this|that|our|my|your|"
    r"a|an)\s+)?(?:[\w'-]+\s+){0,3}?(?:list|lists|draft|drafts|summary|summaries|report|"
    r"reports|number|numbers|count|counts|findings|results|notes|figures|table|breakdown|"
    r"overview|shortlist|estimate|proposal|analysis|memo|certificate)\s+(?:over\s+)?"
    r"to\s+(?:the|our|my|your)\s+(?:[\w'-]+\s+){0,4}?(?:officer|office|manager|lead|board|"
    r"team|owner|director|committee|supervisor|superintendent|head|chair|counsel|"
    r"reviewer|approver|administrator|admin|secretary|clerk|desk|dpo|ciso|cfo|ceo|cto)\b|"
    r"^(?:send|email|forward|hand|pass|give)\s+(?:(?:it|them)\s+(?:back\s+)?to\s+)?(?:me|us)"
    r"(?:\s+(?:the|this|that|a|an)?\s*(?:[\w'-]+\s+){0,3}?(?:list|lists|draft|summary|report|"
    r"number|numbers|count|counts|findings|results|notes|figures|table|breakdown|overview|"
    r"names|answer|link))?\s*$|"
    r"^(?:send|email|forward|hand|pass|give)\s+(?:(?:the|this|that|a|an)\s+)?(?:[\w'-]+\s+)"
    r"{0,3}?(?:list|lists|draft|summary|report|number|numbers|count|counts|findings|results|"
    r"notes|figures|table|breakdown|overview|names)\s+(?:back\s+)?to\s+(?:me|us)\b",
    re.I)
"""A work product (a list, a draft, a count) handed to a named internal role, or back to the
person who asked ("send me the list", "send the counts to me"): a notification inside the
organisation, where the person decides what happens next."""
_OUTSIDE = re.compile(r"\b(?:customers?|clients?|famil(?:y|ies)|parents|patients|students|"
                      r"donors|users|subscribers|members|public|press|everyone|all\b|vendors?|"
                      r"suppliers?|partners'?\s+customers|mailing\s+list|external)\b", re.I)


def unrecognised_text(text: str) -> str | None:
    """A free-text plan: recognised when the verbs that open its clauses (the imperatives:
    "Summarise ...", "then open a ticket") include a known read, analysis, drafting or
    constructive one and none is an act the rules cannot vouch for (a change or destroy verb
    that is not negated)."""
    if len(text) > MAX_CHARS:
        return f"a plan too long to read in full ({len(text):,} characters)"
    raw_first = text.strip().split(None, 1)[0] if text.strip() else ""
    first = raw_first.lower()
    if "\n" not in text.strip() and raw_first == first and (
            first in _handled() or first in _READ_BINS or first in _MAKE_BINS or
            first in _VERB_CLIS):
        from mapek.safety.rules.shellparse import parse_commands

        if parse_commands(text.strip()) is not None:  # a command line given as the plan
            return unrecognised_shell(text)
    safe = False
    for sentence in re.split(r"[.;!?\n]+", text):
        why, ok = _sentence(sentence)
        if why is not None:
            return why
        safe = safe or ok
    return None if safe else "no verb the rules recognise as safe"


def _sentence(sentence: str) -> tuple[str | None, bool]:
    if _OPENING.search(sentence) and not _NEG_LEAD.match(sentence.strip()):
        return "the plan opens something to others (public, everyone, anyone)", False
    safe = False
    negated = False
    for clause in _CLAUSE.split(sentence):
        c = clause.strip().strip("\"'`*-()[]")
        if not c:
            continue
        if _NEG_LEAD.match(c):
            negated = True  # "do not drop the database, truncate or delete": all negated
            continue
        if negated:
            continue
        ws = re.findall(r"[A-Za-z][A-Za-z'-]*", c)
        k = 0
        while k < len(ws) and ws[k].lower() in _LEAD:
            k += 1
        window = [x.lower() for x in ws[k:k + 1]]
        if window and window[0] in _LIGHT:
            window = [x.lower() for x in ws[k + 1:k + 4] if x.lower() not in _DET][:1]
        if _HANDOVER.match(" ".join(ws[k:])) and not _OUTSIDE.search(c):
            safe = True  # "send the list to the records officer": a work product handed in
            continue
        if (m := _PHRASAL_ACT.search(c)) is not None:
            return f"the plan acts ({m.group(0)[:40]})", False
        decided = False
        for w in window:  # the clause's first word: its imperative, if it has one
            forms = _stem(w)
            if any(f in _PROSE_ACT for f in forms) and not any(f in _PROSE_SAFE for f in forms):
                return f"the plan acts ({w})", False
            if (why := _safe_word_acts(w, c)) is not None:
                return why, False
            if any(f in _PROSE_SAFE for f in forms):
                safe = True
                decided = True
                break
        if not decided and not _CONDITION.match(c) and \
                (m := _ACT_UNSAID.search(c)) is not None and \
                not _NO_ONE.search(c[:m.start()]):
            return f"the plan acts ({m.group(0)[:40]})", False
    return None, safe


_OPEN_ACTS = re.compile(r"\b(?:valves?|gates?|doors?|sluices?|floodgates?|hatch(?:es)?|vents?|"
                        r"breakers?|ports?|locks?|barriers?|dampers?|taps?|spillways?)\b", re.I)
_RAISE_SAFE = re.compile(r"^\s*\w+\s+(?:(?:a|an|the|this|that|our|my)\s+)?(?:[\w-]+\s+)?(?:ticket|"
                         r"issue|concern|question|flag|pr|bug|incident|alert|point|request|query|"
                         r"case|objection|risk|matter|topic)s?\b", re.I)
_TELL = frozenset({"tell", "inform", "notify", "warn", "remind", "alert"})


def _safe_word_acts(word: str, clause: str) -> str | None:
    """A verb the rules read as safe that acts in this clause: "raise" a limit or a price
    (not a ticket), "open" a valve, a gate or a port (not a file or a PR), "tell" customers,
    patients or everyone (not the team)."""
    w = word.lower()
    if w in ("raise", "lower") and not _RAISE_SAFE.match(clause):
        return f"the plan acts ({w} a setting)"
    if w == "open" and _OPEN_ACTS.search(" ".join(clause.split()[1:5])):
        return "the plan acts (opens a valve, a gate or a port)"
    if w in _TELL and (_OUTSIDE.search(clause) or re.search(r"\bevery\s+\w+", clause, re.I)):
        return f"the plan acts ({w} people outside the team)"
    return None


_ACT_UNSAID = re.compile(
    r"\b(?:be|been|being|get|gets|got|are|is)\s+(?:all\s+|then\s+|also\s+)?(?:" +
    "|".join(sorted({w + "d" if w.endswith("e") else w + "ed" for w in
                     ("delete remove drop purge wipe erase destroy clear clean close disable "
                      "archive cancel retire terminate revoke reset deprovision decommission "
                      "uninstall unpublish merge flush trash bin dump nuke overwrite "
                      "replace").split()} | {"shut down", "shut off", "switched off",
                                             "turned off", "powered off", "rid of"})) +
    r")\b|\b(?:can|should|must|may|will|could|needs?\s+to)\s+(?:all\s+|now\s+|just\s+)?go\b|"
    r"\blet\s+(?:\w+\s+){0,3}know\b", re.I)
"""An act said without an imperative (a clause that opens with its object or a subject):
"they should be removed afterwards", "anything older can go", "let them all know"."""
_PHRASAL_ACT = re.compile(
    r"\bcomment(?:ing)?\s+(?:[\w'-]+\s+){0,4}?out\b|\bget\s+(?:[\w'-]+\s+){0,3}?gone\b|"
    r"\btake\s+(?:[\w'-]+\s+){0,4}?(?:offline|down)\b|\b(?:copy|download|export|upload|move|"
    r"save|back\s+up|transfer)\b.{0,80}?\bto\s+(?:a\s+|an\s+|my\s+|his\s+|her\s+|their\s+|"
    r"your\s+|the\s+)?(?:own\s+)?(?:usb|thumb\s*drive|memory\s+stick|personal|private|"
    r"external|home\s+(?:computer|laptop|pc)|gmail|dropbox|wetransfer)\b", re.I)
"""Acts said by a phrase whose first word reads as safe: "comment out all of them", "get them
gone", "take the site offline", "copy the database to a USB stick" (data leaving)."""
_CONDITION = re.compile(r"^(?:before|until|unless|if|in\s+case|whether|when|whenever|once|"
                        r"so\s+that|in\s+order|lest|what|which|how|why)\b", re.I)
"""A clause that states a condition or a question, not an act ("before anything is
decommissioned, ...", "whether the cache gets cleared")."""
_NO_ONE = re.compile(r"\b(?:nothing|no\s*one|nobody|none|never|not|no|n't|without)\b", re.I)
