"""Instructions aimed at the model that reads a tool's output, found by their structure.

Trigger words ("system", "instructions", "from now on") occur in ordinary text all the time;
what marks an injection is its shape: text *addressed to* the AI reading it and telling it to do
something, a role marker or fake system/supervisor message followed by a directive, an override
of the reader's instructions or task, a request to send the user's data somewhere, a URL built
to carry the user's data, a tool call written into data with a cue to run it, a break out of
the data's delimiters followed by a new "user" turn, and any of these hidden in an encoding the
text asks the reader to decode. :func:`find` runs these detectors over every
:func:`~mapek.safety.normalise.views` of the text and returns ``(kind, start, end, excerpt)``.

Kinds: ``addressed``, ``override``, ``role-change``, ``fake-system``, ``exfiltration``,
``tool-call``, ``delimiter``, ``prompt-leak``, ``authority``, ``encoded``, ``foreign``.

Text that *discusses* injection (an article, an advisory, a test fixture) and quotes an example
is not flagged for the quoted example. Patterns compile on first use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache

from mapek.safety import addressee, automated, reader_address
from mapek.safety._scan import dispatching
from mapek.safety.normalise import _CONFUSABLES, ZERO_WIDTH, View, views

__all__ = ["find", "KINDS"]

KINDS = ("addressed", "override", "role-change", "fake-system", "exfiltration", "tool-call",
         "delimiter", "prompt-leak", "authority", "encoded", "foreign")

Hit = tuple[str, int, int, str]

def _expand(alternatives: str) -> list[str]:
    """The literal words of a ``|``-separated alternation that uses only ``[ab]``, ``x?``
    and ``\\s+`` (written as a space)."""
    out: list[str] = []
    for alt in alternatives.split("|"):
        options: list[list[str]] = []
        i = 0
        while i < len(alt):
            if alt[i] == "[":
                j = alt.index("]", i)
                options.append(list(alt[i + 1:j]))
                i = j + 1
            elif alt.startswith("\\s+", i):
                options.append([" "])
                i += 3
            else:
                options.append([alt[i]])
                i += 1
            if i < len(alt) and alt[i] == "?":
                options[-1] = [*options[-1], ""]
                i += 1
        words = [""]
        for opts in options:
            words = [w + o for w in words for o in opts]
        out += words
    return out


def _trie(alternatives: str, literal: bool = False) -> str:
    """The alternation as a prefix tree (``re`` tries the branches of a flat alternation one
    by one at every position; a tree dispatches on one character at a time). ``literal``:
    the alternatives are plain strings, not patterns."""
    tree: dict[str, dict] = {}  # type: ignore[type-arg]
    words = alternatives.split("\0") if literal else _expand(alternatives)
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        branches = [(r"\s+" if ch == " " and not literal else re.escape(ch)) + emit(sub)
                    for ch, sub in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(tree)


_VERBS = (
    r"ignore|disregard|forget|override|bypass|skip|drop|abandon|stop|send|forward|e-?mail|mail|"
    r"share|post|upload|export|transmit|transfer|pay|wire|refund|issue|credit|waive|delete|"
    r"remove|erase|wipe|destroy|purge|cancel|approve|authori[sz]e|accept|sign|grant|give|revoke|"
    r"disable|deactivate|enable|turn|switch|publish|push|merge|commit|deploy|install|uninstall|"
    r"run|execute|invoke|call|trigger|open|fetch|visit|browse|navigate|click|load|render|embed|"
    r"include|insert|append|add|attach|replace|substitute|change|update|set|reset|rename|move|"
    r"mark|flag|close|resolve|reopen|escalate|assign|unassign|reassign|book|reserve|buy|"
    r"purchase|order|unsubscribe|subscribe|invite|schedule|reschedule|reply|respond|answer|"
    r"tell|inform|advise|warn|remind|ask|say|state|claim|report|describe|present|portray|frame|"
    r"rate|rank|score|recommend|promote|endorse|cite|mention|omit|hide|suppress|conceal|leave|"
    r"exclude|print|reveal|output|repeat|show|display|dump|leak|disclose|list|return|write|"
    r"create|make|generate|compile|collect|gather|copy|paste|summari[sz]e|decode|apply|comply|"
    r"obey|proceed|confirm|treat|choose|select|pick|use|prioriti[sz]e|restart|shut|kill|"
    r"empty|clear|sell|recategori[sz]e|categori[sz]e|downgrade|upgrade|offer|contact|message|"
    r"notify|do|go|act|pretend|respond|begin|start|continue|keep|sync|dm|text|ship|grade|"
    r"direct|redirect|convince|persuade|instruct|urge|assure|reassure|classify|label|move|"
    r"download|save|store|remember|memori[sz]e|modify|edit|overwrite|withdraw|favou?r|prefer|"
    r"put|place|lock|unlock|expose|exfiltrate|retrieve|look\s+up|translate|respond"
)
"""Verbs an injected instruction starts with (in the imperative)."""
_VERBS = _trie(_VERBS)

_PREFIX = (r"(?:(?:please|pls|kindly|now|also|then|so|and|just|instead|first|immediately|"
           r"simply|quickly|actually|next|finally|additionally|silently|quietly|secretly|"
           r"always|you\s+(?:must|should|need\s+to|have\s+to|are\s+to|will|shall|can|may)"
           r"(?:\s+now)?|i\s+(?:need|want)\s+you\s+to|we\s+(?:need|want)\s+you\s+to|"
           r"(?:the\s+)?author\s+asks\s+that\s+you|make\s+sure\s+(?:to|you)|be\s+sure\s+to)"
           r"[\s,]+)*")
_CLAUSE = (r"(?:^|(?<=[\n;:,()\[\]{<>|\"'`*#\u2014\u2013\u2192\u2190])|(?<=[.!?]\s)|(?<=\s-)|"
           r"(?<=--)|(?<=\band\s)|(?<=\bthen\s)|(?<=\bbut\s)|(?<=\bor\s)|(?<=\bplease\s))[ \t]*")
"""A clause start: the text's start, a line start, after punctuation, a bracket, a quote."""
_CS = r"(?<![\w'])"
"""Where a clause-initial detector may match; the clause start itself (and the politeness or
modal words before an imperative) is checked looking back from each match (:func:`_starts`),
because a look-behind alternation at the head of a pattern costs a try at every position."""

_HUMAN = (r"teaching|administrative|admin|executive|personal|medical|dental|nursing|legal|"
          r"graduate|lab|office|shop|store|sales|travel|estate|insurance|secret|free|double|"
          r"special|field|border|customs|ticket|gate|press|literary|sports|talent|shipping|"
          r"leasing|letting|managing|care|home|health|research|our|your|my|their|his|her|a|an|"
          r"the|this|that|new|former|previous|virtual|human|marketing|hr|finance|accounts?|"
          r"editorial|production|program|project|purchasing|library|kitchen|camera|pharmacy|"
          r"veterinary|physician|surgical|clinical|court|district|attorney|property|operations|"
          r"warehouse|logistics|design|engineering|product|customer|client|communications|events?|"
          r"social|media|content|art|photo|video|studio|stage|support|service|call|booking|"
          r"principal|chief|senior|junior|head|lead|deputy|general|first|second|store|retail|"
          r"patient|family|school|class|classroom|library|bank|branch|front|desk|reception|"
          r"one|two|any|all|every|each|other|some|no|and|or|of|for|to|with|as|is|are|was|"
          r"job|role|position|vacancy|hiring|hired|junior|trainee|intern|temporary|temp|part-time|"
          r"full-time|remote|live|real|local|licensed|certified|registered|independent")
_HUMAN = _trie(_HUMAN)
_PEOPLE = (r"(?:researchers?|engineers?|developers?|enthusiasts?|users?|teams?|students?|"
           r"professionals?|experts?|specialists?|scientists?|startups?|companies|company|"
           r"founders?|practitioners?|leaders?|leads?|managers?|consultants?|vendors?|"
           r"providers?|ethicists?|artists?|writers?|community|communities|fans?|"
           r"enthusiasts?|investors?|policy|safety\s+researchers?|labs?|champions?)\b")
_PEOPLE_AFTER = re.compile(rf"[\s-]+{_PEOPLE}", re.I)
"""People named by their field ("AI researchers", "bot developers", "Copilot users")."""
_AI_STRICT = (
    r"(?:ai|a\.i\.|llms?|gpt-?\w*|chatgpt|claude|gemini|copilot|bard|siri|alexa|cortana|"
    r"perplexity|llama|mistral|grok|deepseek|qwen|(?:large\s+)?language\s+models?|"
    rf"(?:(?!(?:{_HUMAN})\b)[a-z][a-z-]*\s+)?(?:summari[sz]ers?|automations?)|automated\s+(?:readers?|systems?|tools?|processing|"
    r"assistants?|agents?|summar(?:y|ies)|reviewers?|parsers?|screeners?)|machine\s+readers?|"
    r"(?:ai|llm|gpt|automated|autonomous|intelligent)\s+(?:[a-z][a-z-]*\s+)?(?:assistants?|agents?|"
    r"bots?|models?|readers?|reviewers?|tools?|systems?|shoppers?|helpers?|summari[sz]ers?|"
    rf"crawlers?|scrapers?|screeners?)|(?:(?!(?:{_HUMAN})\b)[a-z][a-z-]*\s+)?(?:bots?|models?)|"
    r"(?:any\s+)?automated\s+summary)")
"""Names that can only mean a model or automated agent."""
_AI_NOUN = (rf"(?:{_AI_STRICT}|(?:(?!(?:{_HUMAN})\b)[a-z][a-z-]*\s+)?(?:assistants?|agents?|"
            r"copilots?))")
"""A model, or an assistant or agent not qualified as a human one."""

_AGENTIC = (
    r"\bthe\s+user'?s?\b|\byour\s+user\b|\bon\s+behalf\s+of\s+(?:a|the|your)\s+"
    r"user\b|\bon\s+(?:the\s+user'?s|their|his|her|"
    r"the\s+owner'?s|my|our)\s+behalf\b|\bwithout\s+(?:(?:the|any|a)\s+)?(?:[\w-]+\s+)?(?:asking|confirm\w*|checking|telling|"
    r"notifying|informing|review\w*|approval|escalat\w*|verif\w*|further)|\bno\s+(?:further\s+|"
    r"additional\s+)?(?:confirmation|approval|review|verification|checks?)\b|"
    r"\b(?:system|hidden|initial|original)\s+prompt|\byour\s+(?:instructions|guidelines|rules|"
    r"prompt|task|tools|sandbox|environment|memory|context|safety|polic\w+|answer|reply|"
    r"response|summary|output|next\s+message)\b|\bthis\s+(?:conversation|session|chat|"
    r"calendar|mailbox|workspace|account|repo\w*)\b|\bconversation\s+so\s+far\b|\bapi\s+keys?\b|"
    r"\bpasswords?\b|\bcredentials?\b|\btokens?\b|\bsecrets?\b|\.env\b|\bprintenv\b|~/\.ssh|"
    r"\bseed\s+phrase\b|\bone-time\s+code\b|\bcard\s+(?:number|details)\b|\bevery\s+(?:other\s+)?"
    r"(?:message|email|file|meeting|contact|order|ticket|issue|applicant|account|user|slot|"
    r"branch|release|repo\w*|customer|record|document|invoice|payment)\b|"
    r"\ball\s+(?:pending|open|other|of\s+the|the\s+user|files|emails|messages|contacts|"
    r"branches|repos\w*|records|customers|orders|invoices|payments|accounts)\b|"
    r"[\w.+-]+@[\w-]+\.[\w.-]+|https?://|\b[\w-]+\.(?:com|net|io|cc|biz|app|dev|shop|co|org|"
    r"info|xyz|link|site|online|center|cn|ru)\b")
"""Objects only an agent acting for someone has: the user, their data, the session, a prompt,
an outside address."""

_CONSEQ = (
    r"\b(?:delete|remove|drop|wipe|erase|destroy|purge|push|merge|deploy|publish|transfer|pay|"
    r"wire|refund|send|forward|e-?mail|share|upload|export|grant|revoke|disable|approve|reset|"
    r"restart|install|run|execute|call|invoke|cancel|close|post|unsubscribe|accept|sign|book|"
    r"buy|purchase|issue|waive|escalate|mark|set|change|add|make|reply|print|reveal|output|"
    r"dump|leak|disclose|rank|recommend|tell|say|state|report|describe|leave\s+out|omit|hide|"
    r"update|modify|edit|overwrite|recategori[sz]e|categori[sz]e|suppress|conceal|give|grade|"
    r"score|rate|unassign|assign|invite|download|withdraw|unlock|expose|exfiltrate|store|"
    r"remember|memori[sz]e)\b"
)
"""Verbs whose act reaches beyond reading: a label alone ("Assistant:") followed by one of
these is an instruction."""

_STEER = re.compile(
    r"(?:tell|inform|advise|warn|remind|ask|answer|reply|respond|convince|persuade|urge|assure|"
    r"reassure|notify|recommend|show|rate|rank|describe|leave|omit|render|include|say|state|"
    r"claim|report|choose|cancel|accept|approve|pay|transfer|wire|forward|ignore|disregard|"
    r"mark|score|cite|portray|present|frame|summari[sz]e|book|install|run)$", re.I)
"""Verbs that change what the agent does or tells its user."""
_SPEAKER = re.compile(r"(?m)^[ \t>*-]*(?:\[[^\]\n]{1,25}\][ \t]*)?([A-Za-z][\w .'-]{0,24}?)"
                      r"[ \t]*:(?!//)")
"""A line that starts with a name and a colon: a speaker in a transcript or a field."""
_STRICT = re.compile(
    r"\b(?:ai|a\.i\.|llms?|gpt\S*|chatgpt|claude|gemini|copilot|bard|siri|alexa|cortana|"
    r"perplexity|llama|mistral|grok|deepseek|qwen|language\s+models?|chatbots?|"
    r"automat\w*|summari[sz]\w*|machine|screening|automated)\b|\b(?:reading|processing|parsing|"
    r"scanning|indexing|crawling|summari[sz]ing)\s+(?:this|these)\b|"
    rf"\b(?!(?:{_HUMAN})\b)[a-z][a-z-]*\s+(?:assistants?|agents?)\b", re.I)
"""An addressee that can only be a model (not an assistant or agent who may be a person)."""
_NEGATED = re.compile(r"[\s,]*(?:please\s+)?(?:do\s+not|don'?t|never|must\s+not)\s+(?!mention|"
                      r"tell|reveal|include|list|show|say|ask|wait|confirm|check|verify|"
                      r"escalate|flag|warn|notify)", re.I)
"""A prohibition ("do not use this for training"), unless it suppresses what the agent says."""
_SHELL = re.compile(r"\brm\s+-\w*[rf]|\bsudo\s|--force\b|\|\s*(?:ba|z)?sh\b|\bmkfs\b|"
                    r"\bdd\s+if=|\bchmod\s+-R\b|\bdrop\s+(?:table|database)\b|\bcurl\s", re.I)
"""A shell command with effect: a decoded payload that is one is an instruction."""
_COMMENT = re.compile(r"<!--(.{0,2000}?)-->", re.S)

_QUOTES = re.compile(# an elided article ("l'assistant IA de l'association") opens no quotation
                     r"(?<!\b[cdjlmnstCDJLMNST])(?<!\b[qQ]u)"
                     r"'(?:[^'\n]|(?<=\w)'(?=\w)){4,300}'|\"[^\"\n]{4,300}\"|"
                     r"\u2018[^\u2019\n]{4,300}\u2019|"
                     r"\u201c[^\u201d\n]{4,300}\u201d|"
                     # other languages' quotation marks: « », „ “ (or ”), 「 」, 『 』
                     r"\u00ab[^\u00bb\n]{4,300}\u00bb|\u201e[^\u201c\u201d\n]{4,300}[\u201c\u201d]|"
                     r"\u300c[^\u300d\n]{4,300}\u300d|\u300e[^\u300f\n]{4,300}\u300f")
_DISCUSS = ("injection", "jailbreak", "payload", "fixture", "attack", "attacker", "phishing",
            "malicious", "example", "examples", "e.g.", "for instance", "such as", "red team",
            "red-team", "ctf", "bug bounty", "exploit", "scanner", "filter", "test case",
            "saying", "like ", "prompt-injection", "prompt_injection", "prompt injection",
            "\"expected", "expected_behaviour", "expected_behavior", "assert ",
            "detector", "to say", "zoals", "comme ", "como ", "wie ")
"""Words of text that discusses injection: an example it quotes is not an instruction."""


@cache
@dispatching  # the same matches, found faster (mapek.safety._scan)
def _rx() -> dict[str, re.Pattern[str]]:
    """The compiled detectors (on first use)."""
    f = re.I | re.M
    imp = rf"{_CS}(?:(?:do\s+not|don'?t|never)\s+)?(?P<verb>{_VERBS})\b(?![(_=]|\.\w)"
    return {
        "back": re.compile(rf"{_CLAUSE}{_PREFIX}\Z", f),
        "back_addr": re.compile(
            rf"{_CLAUSE}(?:(?:hey|hi|hello|dear|attention|attn\.?|important|urgent|p\.?s\.?)"
            r"[\s,:]+)?(?P<pre>(?:(?:(?:a|an|this|the|important|special|quick|helpful|private|"
            r"hidden)\s+)?(?:note|notice|message|instructions?|tip|hint|reminder|directive|"
            r"request|memo|update)\s+(?:for|to)\s+|(?:for|to|attention|attn\.?)\s+))?"
            r"(?:(?P<det>the|all|any|every|each|our)\s+)?(?:other\s+)?(?:@\s*)?\Z", f),
        "head": re.compile(
            r"\b(?:" + _trie(
                "assistants?|agents?|copilots?|chatbots?|bots?|models?|summari[sz]ers?|"
                "automations?|readers?|reviewers?|tools?|systems?|shoppers?|helpers?|crawlers?|"
                "scrapers?|screeners?|ai|llms?|chatgpt|claude|gemini|copilot|bard|siri|alexa|"
                "cortana|perplexity|llama|mistral|grok|deepseek|qwen|summary|summaries|"
                "processing|parsers?") + r"|a\.i\.|gpt-?\w*)\b", f),
        "noun": re.compile(_AI_NOUN, f),
        "addr_tail": re.compile(
            r"(?:(?:\s*,\s*|\s+)(?:or|and)\s+(?:any\s+other\s+)?[^\n:.!?]{1,60}?)?"
            r"(?:\s+(?:(?:reading|processing|summari[sz]ing|parsing|handling|working(?:\s+on)?|"
            r"reviewing|screening|installing|generating|editing|booking|indexing|scanning|seeing|"
            r"using|visiting|crawling|helping|assisting|running|analy[sz]ing|grading|triaging|"
            r"answering|translating|managing|shopping|writing|preparing)\b|(?:that|who|which)\s+"
            r"(?:reads?|process\w*|sees?|parses?|summari[sz]es?|handles?|is|are|will|may|might|"
            r"can)\b|in\s+charge\b|on\s+(?:this|duty)\b|of\s+(?:this|these|the)\b)"
            r"[^\n:,.!?\u2014\u2013]{0,60})?"
            r"\s*(?:\*\*)?\s*(?P<term>[:,\u2014\u2013\u2192]|\s-\s|\*\*|(?=please\b))", f),
        "addr_verb": re.compile(rf"(?=\s+(?:please\s+)?(?:{_VERBS})\b)", f),
        "third_tail": re.compile(
            r"(?:\s+[\w'-]+){0,6}?\s+(?:must|should|shall|needs?\s+to|has\s+to|have\s+to|"
            r"(?:is|are)\s+(?:now\s+)?(?:required|expected|authori[sz]ed|permitted|allowed|"
            r"instructed|asked|cleared|to)|(?:has|have)\s+been\s+(?:authori[sz]ed|approved|"
            r"instructed|cleared|permitted)|may\s+now)\s+(?:to\s+)?"
            r"(?:not\s+|no\s+longer\s+|also\s+|first\s+|always\s+|immediately\s+|now\s+|only\s+)*"
            rf"(?P<verb>{_VERBS})\b", f),
        "imperative": re.compile(imp, f),
        "modal": re.compile(r"\byou\s+(?:must|should|need\s+to|have\s+to|are\s+(?:to|required\s+"
                            r"to|asked\s+to|instructed\s+to|authori[sz]ed\s+to|permitted\s+to|"
                            r"allowed\s+to|now\s+(?:in|an?|allowed|free|permitted))|will\s+now|"
                            r"may\s+now|can\s+now)\b|\b(?:authori[sz]ed|instructed|asked|"
                            r"permitted)\s+you\s+to\b|\b(?:new\s+)?(?:task|directive|"
                            r"instructions?)\s*:", f),
        "direct": re.compile(rf"\s*(?:(?:if|when|whenever|before|after|while|once)\b"
                             rf"[^.\n]{{0,100}}?,\s*)?(?:please\s+|now\s+|also\s+|kindly\s+|just\s+)*"
                             rf"(?:(?:do\s+not|don'?t|never)\s+)?(?P<verb>{_VERBS})\b", f),
        "mention": re.compile(r"(?<![\w.])@(?:copilot|claude|chatgpt|gpt\w*|gemini|assistant|"
                              r"ai|llm)\b", f),
        "if_ai": re.compile(
            r"\b(?:if|when|whenever|in\s+case)\s+(?:you\s+are|you're|an?|the|any)\s+(?:an?\s+)?"
            rf"{_AI_STRICT}(?!\s+{_PEOPLE})(?:\s+\w+){{0,3}}\s*(?:is|are|reads?|reading|processes|processing|"
            r"summari[sz]\w*|sees?|parses?|handles?)?\b", f),
        "task_cond": re.compile(
            r"\b(?:if|when)\s+you\s+(?:were|are|have\s+been)\s+(?:asked|told|instructed|prompted)"
            r"\s+to\b|\bbefore\s+(?:answering|responding|replying|you\s+(?:answer|reply|respond|"
            r"summari[sz]e|continue)|summari[sz]ing)\b", f),
        "agentic": re.compile(_AGENTIC + r"|\biban\b|\bbank\s+details\b|\baccount\s+number\b|"
                              r"\bsort\s+code\b|\bno\s+callback\b|\bwithout\s+(?:a\s+)?callback\b|"
                              r"\bsudo\b|\brm\s+-\w*r|--force\b|\bpush\s+-f\b|"
                              r"\|\s*(?:ba|z)?sh\b|\bdrop\s+table\b", f),
        "conseq": re.compile(_CONSEQ, f),
        "override": re.compile(
            rf"{_CS}(?:ignore|disregard|forget(?:\s+about)?|override|bypass|"
            r"set\s+aside|drop|abandon|discard|stop\s+following|do\s+not\s+follow|"
            r"don'?t\s+follow|cancel)\s+"
            r"(?:(?:all|any|of|the|your|these|those|every|whatever|my|its)\s+)*"
            r"(?:(?:previous|prior|above|earlier|preceding|former|original|initial|existing|"
            r"current|system|safety|real|other|old|given)\s+)+(?:[\w-]+\s+){0,2}?"
            r"(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|"
            r"polic(?:y|ies)|context|conversation|messages?|tasks?|requests?|questions?|"
            r"programming|constraints|restrictions|guidance|orders|commands|settings|"
            r"content|text|input|data)\b"
            rf"|{_CS}(?:ignore|disregard|forget(?:\s+about)?|override|bypass|"
            r"set\s+aside|drop|abandon|discard)\s+(?:(?:all|any|of|the|whatever)\s+)*"
            r"(?:your\s+(?:[\w-]+\s+){0,2}?(?:instructions?|prompts?|rules|guidelines|task|"
            r"polic(?:y|ies)|programming|constraints|restrictions|training|orders|job|"
            r"assignment|directives?|context)|the\s+user'?s?(?:\s+(?:question|request|query|"
            r"instructions?|task|message|prompt))?|the\s+(?:person|people|human|customer|"
            r"client)\s+(?:you'?re|you\s+are)\s+(?:working|acting)|(?:the|that|this|your)\s+"
            r"(?:[\w-]+\s+)?(?:task|request|question|refactor|job|summary|assignment)\s+you\s+"
            r"(?:were|have\s+been|are)\s+(?:asked|given|told)|(?:the\s+)?instructions\s+you\s+"
            r"(?:were|have\s+been)\s+given|(?:that|this|your)\s+task)\b"
            rf"|{_CS}(?:ignore|disregard|forget|drop|stop)\s+(?:(?:all|the)\s+)?"
            r"(?:other|above|everything|what\s+you\s+are\s+doing|that\s+task|this\s+task)"
            r"(?:\s+[\w-]+){0,3}?\s*(?:,|;|\.|\band\b|\u2014|\bthen\b)\s*(?:instead\s+)?"
            rf"(?:just\s+|only\s+)?(?:{_VERBS})\b"
            r"|\b(?:ignore|disregard)\s+(?:all\s+|any\s+)?(?:previous|prior|above)\s+"
            r"(?:instructions?|prompts?)", f),
        "role_strong": re.compile(
            r"<\|\s*(?:im_start|im_end|system|user|assistant|developer|endoftext|end|eot_id|"
            r"start_header_id)\s*\|>|\[/?INST\]|<</?SYS>>|<\|?(?:system|developer)\|?>|"
            r"</?(?:system|user_message|user_input|human_turn|developer|instructions?|"
            r"system_prompt|admin)>|^\s*#{1,4}\s*(?:system|developer)\s*(?::|$)|"
            # a tag whose attribute names the AI reader (<instructions for="assistant">)
            r"<(?:instructions?|system|notes?|messages?|directives?)\s+(?:for|to|target|"
            r"audience|recipient|role)\s*=\s*[\"']?(?:assistant|ai|agent|model|bot|llm)s?\b|"
            # a tag named for the AI reader (<llm_instruction>, <ai-note>, <assistant_task>)
            r"<(?:[\w-]*[_-])?(?:llm|ai|assistant|agent|model|bot)[_-](?:instructions?|"
            r"directives?|notes?|messages?|tasks?|prompts?|commands?|only|hints?)>|"
            # an instruction-tuning format's header on its own line (### Instruction:)
            r"^\s*#{2,4}\s*(?:instruction|instructions)\s*:?\s*$", f),
        "role_label": re.compile(
            rf"{_CS}(?:>\s*|\*\*|\[|#{{1,4}}\s*)?(?P<label>system(?:\s+(?:prompt|message|update|"
            r"instructions?|override|alert))?|developer|human|user|h|assistant|ai|instruction|"
            r"new\s+(?:system\s+)?(?:instructions?|task|directive|orders|prompt|request)"
            r"(?:\s+from\s+(?:the\s+)?[\w-]+)?)\s*(?:\]|\*\*)?\s*:", f),
        "breakout": re.compile(
            r"</(?:search_results?|tool_results?|tool_output|tool_response|function_results?|"
            r"function_output|results?|context|documents?|data|observation|output|untrusted"
            r"[\w-]*|external[\w-]*|email|webpage|page|file|retrieved[\w-]*|source)>|"
            r"[\[(<=-]*\s*end\s+of\s+(?:the\s+)?(?:tool\s+output|tool\s+result|web\s?page|page|"
            r"document|data|log|file|email|search\s+results?|context|results?|output|untrusted"
            r"\s+content|input|message|transcript)\s*[\])>=-]*|-{2,}\s*end\s*(?:of\s+)?\w*\s*-{2,}"
            r"|\"\s*\}\s*\]\s*\}", f),
        "user_turn": re.compile(
            rf"{_CS}(?:>\s*)?(?:user|human|h|customer|operator)\s*:|<user_message>|<(?:user|human)>|"
            r"\"role\"\s*:\s*\"(?:user|system|developer)\"|\bnew\s+(?:task|request|"
            r"instructions?)\b|\b(?:actually|the\s+real\s+request)\b", f),
        "authority": re.compile(
            r"\b(?:safety|content)\s+(?:filters?|guidelines|restrictions|polic(?:y|ies)|rules)"
            r"[^.\n]{0,40}?\b(?:have|has|were|was|are|is)\s+(?:been\s+|now\s+)?(?:disabled|"
            r"lifted|removed|turned\s+off|updated|suspended|relaxed)|\bapproval\s+(?:has\s+been\s+"
            r"|is\s+)?granted\s+for\s+all\b|<<\s*(?:admin|system|root|developer)[^>\n]{0,40}>>|"
            r"\bproceed\s+(?:with|without)\b[^.\n]{0,80}?\b(?:no\s+further|without\s+(?:further|"
            r"additional|any)?\s*(?:checks|confirmation|approval|review))|\bproceed\s+without\s+"
            r"(?:further|additional|any)\s+(?:checks|confirmation|approval|review)", f),
        "authority_tag": re.compile(
            r"\[\s*(?:system|admin\w*|supervisor|human\s+supervisor|operator|moderator|security"
            r"(?:\s+team)?|developer|openai|anthropic|google|microsoft|tool\s+runtime|[\w-]+\s+"
            r"supervisor)\b[^\]\n]{0,50}\]|\b(?:system|admin|security|compliance|safety)\s+"
            r"(?:override|notice|directive|alert)\b|\b(?:system|admin|security|compliance|"
            r"safety)\s+message\b(?!\s+(?:tells|says|sets|is|was|describes|gives|defines|"
            r"contains|holds|carries|and|or|to|for|of|in)\b)|\bpolicy\s+(?:update|\d[\d.]*)\b|"
            r"={2,}\s*[\w &]{0,40}(?:trust|safety|security|system|admin)[\w &]{0,20}={2,}|"
            r"\b(?:openai|anthropic|microsoft\s+copilot|google\s+gemini)\s+(?:policy|notice|"
            r"trust|safety|system)", f),
        "prompt_leak": re.compile(
            rf"{_CS}(?:print|reveal|output|repeat|show|share|display|dump|leak|"
            r"disclose|list|return|send|e-?mail|include|tell\s+me|reply\s+with|respond\s+with|"
            r"write\s+out|copy|paste|post)\s+(?:me\s+)?(?:(?:the|your|all|full|complete|entire|"
            r"exact|verbatim|hidden|secret|internal|original|initial|whole)\s+)*"
            r"(?:system\s+prompt|system\s+message|hidden\s+instructions|instructions\s+you\s+"
            r"(?:were|have\s+been)\s+given|initial\s+prompt|original\s+prompt|developer\s+"
            r"message|tool\s+list|(?:list\s+of\s+)?tools\s+you\s+(?:can|have)|conversation\s+so"
            r"\s+far|(?:full\s+)?conversation\s+history|chat\s+history|prompt\b)", f),
        "send": re.compile(
            rf"{_CS}(?P<v>send|forward|e-?mail|mail|post|upload|share|export|transmit|"
            r"copy|paste|sync|leak|submit|deliver|dm|message|text|compile|collect|reply\s+with|"
            r"respond\s+with|include|attach|give)\b(?P<obj>(?:[^\n.!?]|[.!?](?=\S)){0,160}?)\b"
            r"(?:to|with|at|into|in|"
            r"on)\s+(?P<dest>[\w.+-]+@[\w-]+\.[\w.-]+|https?://\S+|@[\w-]+|[\w-]+\.(?:com|net|io"
            r"|cc|biz|app|dev|shop|co|org|info|xyz|link|site|online|center|cn|ru)\b|this\s+"
            r"(?:channel|thread|chat|issue|ticket|room|page)|here\b|the\s+(?:organi[sz]er|"
            r"sender|attendees|link\s+below))", f),
        "sensitive": re.compile(
            r"\bthe\s+user'?s?\b|\byour\s+user'?s?\b|\b(?:their|his|her)\s+(?:login|password|"
            r"credentials?|data|details|files?|emails?|messages?|calendar|contacts?|history|"
            r"location|address|phone|card|passport)|\bcontacts?\b|\bcustomer\s+(?:list|data|"
            r"records)|\baddress\s+book|\bcalendar\b|\bmailbox\b|\b(?:every|all)\s+(?:\w+\s+)?"
            r"(?:messages?|emails?|files?|documents?|vcards?|records?|contacts?|email\s+"
            r"address(?:es)?)|\bcredentials?\b|\bpasswords?\b|\btokens?\b|\bapi\s+keys?\b|"
            r"\bsecrets?\b|\.env\b|\bssh\b|\b(?:chat|conversation)\s*(?:log|history|records)?\b|"
            r"\bhistory\b|\bsalary|\bpayroll|\borg\s+chart|\bpersonal\s+data|\bcard\s+number|"
            r"\bone-time\s+code|\botp\b|\b2fa\b|\bseed\s+phrase|\bsystem\s+prompt|"
            r"\bcontents?\s+of\b|\bprivate\b|\bconfidential\b|\bdm\b|\bfull\s+text\b", f),
        "url_template": re.compile(
            r"https?://[^\s)\]\"']*?[?&=/](?:<[^>\n]{3,90}>|\[[^\]\n]{3,90}\]|\{[^}\n]{3,90}\})",
            f),
        "url_caps": re.compile(r"https?://[^\s)\]\"']*?[?&=/](?P<ph>[A-Z][A-Z0-9_]{3,30})\b"),
        "url_tail": re.compile(
            r"https?://\S*[?&][\w-]+=\s*(?:\S+\s+)?(?:with|followed\s+by|plus)\b[^.\n]{0,120}"
            r"\b(?:appended|encod\w+|of\s+(?:your|the\s+user)|the\s+user'?s?|your\s+system)", f),
        "render": re.compile(
            rf"{_CS}(?:render|embed|include|display|show|load|open|fetch|visit|"
            r"click|insert|append)\s+(?:this|the|an?|following)?\s*(?:image|link|url|pixel|"
            r"markdown|badge)?[^\n]{0,40}?!?\[[^\]\n]*\]\(https?://", f),
        "tool_wrapper": re.compile(
            r"<\s*(?:tool_call|function_call|function_calls|tool_use|tool_code|antml:invoke|"
            r"invoke\s+name=|\|tool_call\||function=[\w.-]+>|\|python_tag\|)|\[\[\s*call\s*:|"
            r"```\s*tool_code\b", f),
        "tool_json": re.compile(
            r"\"(?:tool_calls|function_call|tool_use|agent_command|tool_call)\"{1,2}\s*:\s*[\[{]|"
            r"\"method\"{1,2}\s*:\s*\"{1,2}tools/call\"|"
            r"\{\s*\"{1,2}(?:tool|tool_name|name|function|action|command)\"{1,2}\s*:\s*\"{1,2}"
            r"[\w.:/-]+\"{1,2}\s*,\s*\"{1,2}(?:args|arguments|parameters|input|params|kwargs)"
            r"\"{1,2}\s*:", f),
        "react": re.compile(r"^\s*Action\s*:\s*[\w.-]+\s*\n\s*Action\s+Input\s*:", f),
        "pycall": re.compile(r"\b[a-z_]{3,}(?:\.[a-z_]+)+\([^()\n]{0,300}=[^()\n]{0,300}\)|"
                             r"\b[a-z]+_[a-z_]+\((?:\w+\s*=\s*[^()\n]{1,100}(?:,\s*)?)+\)", f),
        "exec_cue": re.compile(
            r"\b(?:run|execute|perform|process|invoke|trigger|carry\s+out|make|do|apply)\s+"
            r"(?:(?:it|this|these|them|that)\b|the\s+(?:(?:above|below|following)\s+)?(?:call|"
            r"action|request|function|tool\s+call|command|step)s?\b|(?:the\s+)?(?:above|below|"
            r"following)\b)|\bon\s+receipt\b|\bexecute\s+on\b|\brequired\s+(?:tracking\s+)?"
            r"call\b|\bmust\s+(?:be\s+)?(?:execute|run|call)\w*\b|\bas\s+a\s+tool\s+request\b", f),
        "answer_steer": re.compile(
            r"\b(?:in|from|to|at\s+the\s+end\s+of)\s+(?:your|the|every|each)\s+(?:next\s+)?"
            r"(?:answer|reply|response|summary|output|message|comparison|recommendation)s?\b|"
            r"\b(?:every|each|any)\s+(?:comparison|summary|answer|recommendation|response)\s+"
            r"you\s+(?:produce|write|give|make|generate)|\byour\s+(?:answer|reply|response|"
            r"summary)\s+(?:must|should)\b|\b(?:tell|inform|advise|warn|remind|ask|answer|reply\s+"
            r"to|respond\s+to|convince|persuade|urge|assure|reassure|notify|recommend\s+to|show)"
            r"\s+(?:the|your|this)\s+(?:user|shopper|reader|customer|listener|requester|"
            r"caller|visitor|viewer|audience|buyer|client)s?\b(?!\s+(?:that\s+)?(?:you|we|i)\b)|\b(?:in|to)\s+the\s+user'?s\s+"
            r"(?:environment|account|browser|machine|name|terminal|repo\w*)|\bthey\s+would\s+"
            r"want\b|\bon\s+(?:the\s+user'?s|their)\s+behalf\b", f),
        "steer_verb": re.compile(
            r"\b(?:reply|respond|answer|say|state|claim|report|confirm|write|mention)\s+(?:only\s+)?"
            r"that\b|\b(?:leave\s+out|omit|hide|(?:do\s+not|don'?t|never)\s+mention|without\s+"
            r"mentioning)\b", f),
        "decode_cue": re.compile(
            r"\b(?:decode|decoded|base-?64|hex|rot-?13|encoded|cipher|caesar)\b|"
            r"\b(?:for|to)\s+(?:the\s+|any\s+)?(?:ai|assistants?|agents?|bots?|llms?|models?|"
            r"automated\s+\w+|machine|scheduling\s+assistant)\b|\bmachine\s+note|directive|"
            r"\binstructions?\b|\bapply\b|\bcomply\b|\bact\b|\bassistant", f),
        "decode_act": re.compile(
            rf"{_CS}decode\b[^.\n]{{0,60}}?\b(?:and|then|to)\s+(?:\w+\s+){{0,2}}?"
            r"(?:follow|act|apply|run|execute|comply|do|carry\s+out|obey|perform)\b", f),
        "persona": re.compile(
            r"\byou\s+are\s+now\s+(?:an?|the|my)\s+(?:[\w-]+\s+){0,3}?(?:bot|assistant|ai|agent|"
            r"model|persona|character|chatbot)|"
            r"\byou\s+are\s+now\s+(?:in\s+\w+\s+mode|dan\b|an?\s+(?:unrestricted|uncensored|"
            r"jailbroken|unfiltered|new|different|evil|rogue)\b|no\s+longer\s+(?:bound|"
            r"restricted|limited|required|an?\s+(?:ai|assistant)))|\bfrom\s+now\s+on,?\s+you\s+"
            r"(?:will\s+|must\s+|shall\s+|should\s+)?(?:only\s+)?(?:answer|respond|reply|speak|"
            r"write|talk|output)\s+(?:only\s+)?(?:in|with|as|using)\b|\bfrom\s+now\s+on,?\s+you\s+"
            r"(?:will\s+|must\s+|shall\s+)?(?:obey|act\s+as|behave\s+as|pretend|ignore|refuse|"
            r"are\s+(?:an?\s+)?(?:unrestricted|different|new|evil|jailbroken|dan)\b)|\bact\s+as\s+"
            r"(?:an?\s+)?(?:unrestricted|jailbroken|uncensored|admin|root|dan)\b|\bpretend\s+"
            r"(?:to\s+be|you\s+are)\s+(?:an?\s+)?(?:unrestricted|different|evil|jailbroken)|"
            r"\bfrom\s+now\s+on,?\s+(?:always\s+|only\s+|never\s+)?(?:tell\s+(?:the\s+)?"
            r"users?|say\s+that|call\s+me|address\s+me)\b|\b(?:remember|memori[sz]e|store|save)\s+"
            r"(?:this\s+)?(?:in|to)\s+your\s+(?:memory|long-term\s+memory|notes)\b|\bupdate\s+"
            r"your\s+(?:memory|instructions|system\s+prompt|guidelines)\b", f),
    }


@cache
def _foreign() -> dict[str, re.Pattern[str]]:
    """Other-language overrides and addresses (in the original script)."""
    f = re.I | re.M
    return {
        "override": re.compile(
            r"ignore[zr]?\s+(?:toutes\s+)?(?:les|vos)\s+(?:\w+\s+)?(?:instructions|consignes|"
            r"directives)|"
            r"ignor(?:a|ez|iere|ieren\s+sie|ier|uj|uje|ujcie|eer|era|ér|ar|ate)\s+"
            r"(?:\w+\s+){0,3}?(?:instrucciones|istruzioni|instruções|instrucoes|"
            r"anweisungen|instruktionen|befehle|vorgaben|polecenia|instrukcje|instructies|"
            r"instruktioner|instruksjoner|instrukser|pokyny|instrukce|utasításokat|"
            r"ohjeet|talimatları|indicaciones|consignes|órdenes)|"
            r"zignoruj\w*\s+(?:\w+\s+){0,3}?(?:instrukcj\w*|polece\w*|wytyczn\w*|zasad\w*|"
            r"regu\w*|prompt\w*|ogranicze\w*|zabezpiecze\w*|wszystk\w*\s+wcze\w*)|negeer\s+(?:alle\s+)?(?:eerdere|vorige|bovenstaande)|"
            r"(?:игнорируй|игнорируйте|проигнорируй|забудь|забудьте|ігноруй|ігноруйте)\s+"
            r"(?:\w+\s+){0,3}?(?:инструкци|указани|команд|правил|інструкці|вказівк)|"
            r"talimatları(?:nı)?\s+(?:yok\s+say|görmezden\s+gel|unut)|yok\s+say|"
            r"(?:忽略|无视|無視|忽视|不要理会|忘记|忘掉)(?:之前|以上|前面|先前|上面|所有|全部|的|用户|"
            r"使用者|ユーザー|の|\s)*(?:指令|指示|说明|說明|命令|提示|规则|規則|要求)|"
            r"(?:指示|命令|指令|プロンプト|ルール)(?:を|は)?(?:すべて|全て)?無視|"
            r"(?:지시|명령|지침|프롬프트|규칙)(?:을|를|은|는)?\s*(?:모두\s*)?무시|"
            r"تجاهل\s+(?:\S+\s+){0,2}?(?:التعليمات|الأوامر|التوجيهات)|"
            r"(?:पिछले|पूर्व)\s+(?:सभी\s+)?निर्देशों\s+को\s+(?:अनदेखा|नज़रअंदाज़)|"
            r"(?:olvida|oublie[zr]?|vergiss|vergessen\s+sie|esque[çc]a|dimentica)\s+(?:\w+\s+)"
            r"{0,3}?(?:instrucciones|instructions|consignes|anweisungen|instruções|istruzioni|"
            r"reglas|règles|regeln|regras|regole)|"
            r"ignore\s+(?:todas\s+)?as\s+(?:\w+\s+){0,2}?instru[çc](?:õ|o)es|"
            r"(?:系统提示|系統提示|システムプロンプト|시스템\s*프롬프트|системн\w+\s+(?:промпт|"
            r"подсказк\w*|инструкци\w*)|prompt\s+del\s+sistema|prompt\s+do\s+sistema|"
            r"prompt\s+syst[eè]me|systemprompt|prompt\s+systemowy)[^\n]{0,40}?(?:输出|輸出|出力|"
            r"출력|显示|表示|보여|выведи|покажи|muestra|revela|affiche|r[ée]v[eè]le|zeig|gib|"
            r"poka[żz]|mostra|rivela|print)|(?:输出|輸出|出力|출력|显示|выведи|покажи|muestra|"
            r"revela|affiche|zeig|gib|poka[żz]|mostra|rivela)[^\n]{0,30}?(?:系统提示|"
            r"系統提示|システムプロンプト|시스템\s*프롬프트|системн\w+\s+промпт|prompt\s+del\s+"
            r"sistema|prompt\s+do\s+sistema|prompt\s+syst[eè]me|systemprompt|prompt\s+"
            r"systemowy)|"
            r"abaikan\s+(?:semua\s+)?(?:instruksi|perintah)|bỏ\s+qua\s+(?:tất\s+cả\s+)?"
            r"(?:các\s+)?(?:hướng\s+dẫn|chỉ\s+dẫn)|αγνόησε|"
            r"התעלם\s+(?:\S+\s+){0,2}?(?:ה?הוראות|ה?הנחיות|ה?כללים|ה?פקודות)", f),
        "address": re.compile(
            r"(?:^|[\n.!?:;,(\[>\"'])\s*(?:\S+\s+){0,3}?(?:asystenci[ea]|asystent\w*\s+ai|"
            r"ki-?assistent\w*|ki-?agent\w*|assistente\s+(?:di\s+|de\s+)?ia|asistente\s+(?:de\s+)?"
            r"ia|assistant\s+ia|agente\s+(?:de\s+)?ia|ии-?ассистент\w*|ассистент\w*|"
            r"помощник\w*\s+ии|нейросеть|ai-?асистент\w*|yapay\s+zek[aâ]|asistan(?:ı)?|"
            r"人工智能|AI助手|AI助理|助手|助理|アシスタント|AIへ|AI様|ＡＩへ|"
            r"어시스턴트|인공지능|AI에게|AI\s*님|مساعد\s+الذكاء|الذكاء\s+الاصطناعي|एआई|"
            r"ai-?assistent\w*|assistente|asistente|asystent|assistent|agente|modelo\s+de\s+linguagem|"
            r"modelo\s+de\s+lenguaje|modello\s+linguistico|sprachmodell|taalmodel)"
            r"\w*(?:\s+(?:di|de|da|del|della|do|für)\s+\w+)?(?:\s+(?:die|que|qui|che|der|das|"
            r"den)\s+[^\n:：]{1,50})?\s*[:,：，、]|\[\s*para\s+(?:la|el)\s+ia\b[^\]\n]{0,40}\]",
            f),
        "consequential": re.compile(
            r"https?://|[\w.+-]+@[\w-]+\.[\w.-]+|\biban\b|[A-Z]{2}\d{2}(?:\s?\d{4}){3,}|"
            r"reembols|rückerstatt|überweis|transf[eé]r|envi[aeé]|wyślij|wyslij|удали|отправ|"
            r"aprueb|aprova|approva|keur\w*\s+goed|stuur|wachtwoord|olvida|negeer|"
            r"ignorier|ignore\s+as\b|dame\s+acceso|acceso\s+de\s+administrador|"
            r"перешли|删除|发送|傳送|送信|삭제|전송|elimin|borr|exclu|aprov|approv|zatwierd|"
            r"genehmig|password|contraseñ|senha|пароль|密码|密碼|パスワード|비밀번호|hasło|passwort|"
            r"system\s*prompt|システムプロンプト|系统提示|системн\w*\s+промпт|prompt\s+(?:del\s+)?"
            r"sistem|dane\s+logowania|zugangsdaten|credenciales|identifiants|"
            r"sofort|immediat|imediat|inmediat|natychmiast|немедленно|立即|すぐ|즉시|"
            r"ohne\s+rückfrage|sin\s+verificar|sem\s+verificar|senza\s+verificare|bez\s+"
            r"weryfik|без\s+провер|nie\s+pytaj|no\s+preguntes", f),
    }


_CUE: dict[str, tuple[str, ...]] = {
    "override": ("ignor", "disregard", "forget", "overrid", "bypass", "aside", "drop", "abandon",
                 "discard", "follow", "cancel", "stop"),
    "persona": ("you are now", "from now on", "act as", "pretend", "memor", "remember",
                "store", "save", "update your"),
    "prompt_leak": ("prompt", "instruction", "tool", "conversation", "history", "developer"),
    "address": ("assistant", "agent", "copilot", "bot", "model", " ai", "ai ", "ai:", "ai,",
                "ai-", "a.i.", "llm", "gpt", "claude", "gemini", "bard", "summari", "automat",
                "machine", "siri", "alexa", "cortana", "perplexity", "llama", "mistral", "grok",
                "deepseek", "qwen"),
    "mention": ("@",),
    "if_ai": (" ai", "ai ", "llm", "gpt", "model", "assistant", "agent", "bot", "automat",
              "asked to", "told to", "instructed", "prompted", "before "),
    "role_strong": ("<|", "inst]", "<<", "<system", "<user", "<human", "<developer",
                    "<instruction", "<admin", "#", "llm_", "llm-", "ai_", "ai-", "assistant_",
                    "assistant-", "agent_", "agent-", "model_", "model-", "bot_", "bot-"),
    "role_label": ("system:", "system :", "system]", "system*", "system prompt", "system message",
                   "system update", "system instruction", "system override", "system alert",
                   "developer:", "developer :", "developer]", "human:", "human :", "human]",
                   "user:", "user :", "user]", "user*", "h:", "h :", "assistant:", "assistant :",
                   "assistant]", "ai:", "ai :", "instruction:", "instruction :", "new task",
                   "new instruction", "new directive", "new order", "new prompt", "new request",
                   "new system"),
    "authority": ("safety", "content", "approval", "<<", "proceed"),
    "authority_tag": ("[system", "[admin", "[supervisor", "[human", "[operator", "[moderator",
                      "[security", "[developer", "[openai", "[anthropic", "[google", "[microsoft",
                      "[tool", "supervisor", "override", "notice", "directive", "alert", "policy",
                      "system message", "admin message", "security message", "safety message",
                      "compliance message", "==", "openai", "anthropic", "microsoft", "google"),
    "breakout": ("</", "end of", "-end", "- end", '"}'),
    "send": ("send", "forward", "mail", "post", "upload", "share", "export", "transmit", "copy",
             "paste", "sync", "leak", "submit", "deliver", "dm", "message", "text", "compile",
             "collect", "reply", "respond", "include", "attach", "give"),
    "url_template": ("http",),
    "url_caps": ("http",),
    "url_tail": ("http",),
    "render": ("](http",),
    "tool_wrapper": ("tool_call", "function_call", "tool_use", "tool_code", "invoke", "[[",
                     "<function=", "python_tag"),
    "tool_json": ('"tool', '"function', '"agent_command', '"name"', '"action"', '"command"',
                  '"method"'),
    "react": ("action input",),
    "pycall": ("run", "execute", "perform", "process", "invoke", "trigger", "carry out",
               "receipt", "required", "must", "call"),
    "decode_act": ("decode",),
    "task_cond": ("asked to", "told to", "instructed", "prompted", "before "),
    "answer_steer": ("tell", "inform", "advise", "warn", "remind", "ask", "answer", "reply",
                     "respond", "convince", "persuade", "urge", "assure", "notify", "recommend",
                     "show", "your ", "every ", "each ", " you produce", " you write",
                     " you give", " you make", " you generate", "user's", "users'",
                     "would want", "behalf", "say", "state", "claim", "report", "confirm",
                     "write", "mention", "leave out", "omit", "hide"),
}
"""Literals every match of a detector has near it: on a long text the detector runs only in
windows around them (the regexes start with a clause-start look-behind, which the engine
cannot skip ahead for)."""
_CUE["third"] = _CUE["address"]
_CLAUSE_INITIAL = frozenset({"imperative", "override", "prompt_leak", "send", "render",
                             "decode_act", "role_label", "user_turn"})
_MODIFIERS = re.compile(r"((?:[A-Za-z][\w.-]*[ \t]+){0,3})\Z")


class _M:
    """A match assembled from pieces (a noun phrase and what follows it)."""

    def __init__(self, start: int, end: int, text: str, **groups: str | None) -> None:
        self._span = (start, end)
        self._text = text
        self._groups = groups

    def start(self) -> int:
        return self._span[0]

    def end(self) -> int:
        return self._span[1]

    def span(self) -> tuple[int, int]:
        return self._span

    def group(self, name: int | str = 0) -> str:
        """The text (0) or a named part ("" when absent)."""
        return self._text[self._span[0]:self._span[1]] if name == 0 else (
            self._groups.get(str(name)) or "")

    def groupdict(self) -> dict[str, str | None]:
        return dict(self._groups)


Matched = re.Match[str] | _M


def _phrases(t: str, heads: Iterator[re.Match[str]]) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, noun phrase, determiner) of every AI noun phrase at a clause start: the
    head word found by one fast pass, its modifiers and the clause start checked looking back."""
    rx = _rx()
    for h in heads:
        hs, he = h.span()
        mods = _MODIFIERS.search(t, max(0, hs - 60), hs)
        words = mods.group(1).split() if mods else []
        pos = [hs - len(mods.group(1)) if mods else hs]
        for w in words[1:]:
            pos.append(t.index(w, pos[-1] + 1))
        start, phrase = -1, ""
        for k in range(len(words), -1, -1):
            cand = " ".join([*words[len(words) - k:], h.group()])
            if rx["noun"].fullmatch(cand):
                start, phrase = (pos[len(words) - k] if k else hs), cand
                break
        if start < 0:
            continue
        b = rx["back_addr"].search(t, max(0, start - 90), start)
        if b is None:
            continue
        det = (b.group("det") or "").lower()
        if det in ("the", "our") and not b.group("pre"):
            det = "bare-" + det
        yield b.start("det") if b.group("det") else start, he, phrase, det
_CUE_WINDOW = 400


def _merged(spans: list[tuple[int, int]], size: int = _CUE_WINDOW) -> list[tuple[int, int]]:
    """The windows of ``size`` around ``spans``, overlapping ones merged."""
    spans.sort()
    keep: list[tuple[int, int]] = []
    for a, b in spans:
        a, b = max(0, a - size), b + size
        if keep and a <= keep[-1][1]:
            keep[-1] = (keep[-1][0], max(keep[-1][1], b))
        else:
            keep.append((a, b))
    return keep


@cache
def _all_cues() -> re.Pattern[str]:
    return re.compile(_trie("\0".join({c for cues in _CUE.values() for c in cues}), literal=True))


def _cue_index(lower: str) -> list[int]:
    """Where any detector's cue starts in ``lower``: one regex pass shared by all detectors."""
    return [m.start() for m in _all_cues().finditer(lower)]


def _scan(rx: re.Pattern[str], t: str, lower: str, cues: tuple[str, ...], index: list[int]
          ) -> Iterator[re.Match[str]]:
    """``rx.finditer`` over the windows of ``t`` around ``cues`` (the whole of a short text)."""
    if len(t) <= 2 * _CUE_WINDOW:
        yield from rx.finditer(t)
        return
    spans = [(p, p + 1) for p in index if lower.startswith(cues, p)]
    if len(spans) > len(t) // _CUE_WINDOW:  # cues everywhere: scan the whole text
        yield from rx.finditer(t)
        return
    for a, b in _merged(spans):
        yield from rx.finditer(t, a, min(b, len(t)))


def _sentence_end(text: str, start: int, count: int, limit: int = 320) -> int:
    """The end of the ``count``-th sentence after ``start`` (within ``limit`` characters)."""
    end = min(len(text), start + limit)
    pos = start
    for _ in range(count):
        m = re.compile(r"[.!?](?=\s+[A-Z\"'(\[<*]|\s*\n|\s*$)|\n\s*\n").search(text, pos, end)
        if m is None:
            return end
        pos = m.end()
    return pos


def _discusses(lower: str) -> bool:
    for w in _DISCUSS:
        pos = lower.find(w)
        while pos != -1:
            before = lower[pos - 1] if pos else " "
            after = lower[pos + len(w)] if pos + len(w) < len(lower) else " "
            if not (before.isalnum() or before in "./@_-" or w[-1] != " " and (
                    after.isalnum() or after in "/@_-")):
                return True
            pos = lower.find(w, pos + 1)
    return False


def _quoted(text: str, lower: str) -> list[tuple[int, int]]:
    if not _discusses(lower):
        return []
    return [m.span() for m in _QUOTES.finditer(text)]


def _inside(spans: list[tuple[int, int]], a: int, b: int) -> bool:
    return any(s <= a and b <= e for s, e in spans)


def _excerpt(text: str, a: int, b: int) -> str:
    return " ".join(text[a:b].split())[:120]


def _english(v: View, decoded: bool) -> Iterator[Hit]:
    """The structural detectors on one English (folded) view."""
    rx = _rx()
    t = v.text
    lower = t.lower()
    quoted = _quoted(t, lower)
    if "'" in t or '"' in t or "\u2018" in t or "\u201c" in t:
        quoted += addressee.reported(t)

    index = _cue_index(lower) if len(t) > 2 * _CUE_WINDOW else []

    def starts(i: int) -> bool:
        """A clause starts at ``i`` (after any "please", "you must" and the like)."""
        return rx["back"].search(t, max(0, i - 80), i) is not None

    def scan(name: str) -> Iterator[re.Match[str]]:
        found = _scan(rx[name], t, lower, _CUE.get(name, ()), index)
        if name in _CLAUSE_INITIAL:
            return (m for m in found if starts(m.start()))
        return found

    def addressed(name: str, a: int = 0, b: int | None = None) -> Iterator[_M]:
        heads = (_scan(rx["head"], t, lower, _CUE["address"], index) if b is None
                 else rx["head"].finditer(t, a, b))
        for start, he, phrase, det in _phrases(t, heads):
            if _PEOPLE_AFTER.match(t, he):
                continue  # "AI researchers", "Copilot users": people, named by their field
            if name == "third":
                if det.startswith("bare-") and det != "bare-the":
                    continue
                m = rx["third_tail"].match(t, he)
                if m is not None:
                    yield _M(start, m.end(), t, noun=phrase, verb=m.group("verb"))
                continue
            if det.startswith("bare-"):
                continue
            m = rx["addr_tail"].match(t, he)
            if m is not None:
                yield _M(start, m.end(), t, noun=phrase, term=m.group("term"), det=det)
            elif re.fullmatch(r"(?:(?:ai|llm)\s+)?(?:assistant|agent|bot|model|copilot)", phrase,
                              re.I) and rx["addr_verb"].match(t, he):
                yield _M(start, he, t, noun=phrase, term=None, det=det)

    def first(name: str, a: int, b: int) -> Matched | None:
        if name == "third":
            return next(addressed("third", a, b), None)
        return next((m for m in rx[name].finditer(t, a, b) if starts(m.start())), None)

    def hit(kind: str, a: int, b: int) -> Iterator[Hit]:
        if not _inside(quoted, a, b):
            yield kind, a, b, _excerpt(t, a, b)

    def directive(a: int, b: int) -> Matched | None:
        return first("imperative", a, b) or rx["modal"].search(t, a, b) or first("third", a, b)

    for m in scan("override"):
        if _retraction(t, m.start(), m.end()) or _cited(t, m.start(), m.end()):
            continue
        yield from hit("override", *m.span())
    for m in scan("persona"):
        yield from hit("role-change", *m.span())
    for m in scan("prompt_leak"):
        yield from hit("prompt-leak", *m.span())
    # text addressed to the AI reading it, followed by a directive that reaches beyond reading
    speakers = {m.group(1).strip().lower() for m in _SPEAKER.finditer(t)} if len(t) < _BIG \
        else set()

    def reaches(start: int, end: int, d: Matched, strict: bool) -> bool:
        """The directive acts for the user, steers the answer, or (to a model) has effect."""
        verb = d.groupdict().get("verb")
        return bool(rx["agentic"].search(t, start, end) or rx["answer_steer"].search(t, start, end)
                    or rx["steer_verb"].search(t, start, end)
                    or strict and verb and rx["conseq"].match(verb))

    for rxn in ("address", "mention", "if_ai", "task_cond"):
        found: Iterator[Matched] = addressed(rxn) if rxn == "address" else scan(rxn)
        for ma in found:
            said = t[ma.start():ma.end()]
            word = said.strip(" \t\n:,*").lower()
            if rxn == "address" and addressee.names_no_reader(said):
                continue  # "ChatGPT tips:", "AI researchers,": a heading or people
            sm = _SPEAKER.match(t, t.rfind("\n", 0, ma.start()) + 1)
            if word in ("assistant", "agent", "bot", "ai", "model") and speakers - {word} \
                    and sm is not None and sm.group(1).lower() == word:
                continue  # a speaker's name in a transcript, not someone addressing the AI
            end = _sentence_end(t, ma.end(), 2)
            d: Matched | None = rx["direct"].match(t, ma.end())
            if d is None and (rxn != "address" or ma.group("term") not in (",", "")):
                d = directive(ma.end(), end)
            if d is None or _NEGATED.match(t, d.start()):
                continue
            strict = rxn in ("mention", "if_ai") or rxn == "address" and bool(
                _STRICT.search(ma.group("noun") or said))
            if reaches(ma.start(), end, d, strict):
                yield from hit("addressed", ma.start(), d.end())
    for m3 in addressed("third"):
        end = _sentence_end(t, m3.start(), 1)
        if re.search(r"\b(?:must|should|shall|may)\s+not\b|\bnever\b", m3.group(0), re.I):
            continue  # a prohibition ("AI tools must not ..."): a policy, not an order
        strict = bool(_STRICT.search(m3.group("noun")))
        if reaches(m3.start(), end, m3, False) or strict and reaches(
                m3.start(), end, m3, True) and addressee.points_here(t, m3.start(), end):
            # a rule for AI in general ("AI systems must report incidents") is a policy; one
            # about this text, or reaching the user or their data, is an order
            yield from hit("addressed", *m3.span())
    # an HTML comment is never shown to a person: an answer-steering imperative in it is
    for m in _COMMENT.finditer(t):
        body = m.group(1)
        d = next((x for x in rx["imperative"].finditer(body)
                  if rx["back"].search(body, max(0, x.start() - 80), x.start())), None)
        if d is not None and d.start() < 40 and _STEER.match(d.group("verb")) and (
                rx["answer_steer"].search(body) or rx["agentic"].search(body)
                or rx["steer_verb"].search(body) or rx["override"].search(body)):
            yield from hit("addressed", m.start(), m.end())
    # role markers and fake system messages followed by a directive
    ticks = [x.span() for x in re.finditer(r"`[^`\n]{1,300}`", t)] if "`" in t else []
    for m in scan("role_strong"):
        end = _sentence_end(t, m.end(), 3, 400)
        if _NAMED_MARKER.match(t, m.end()) or _inside(ticks, m.start(), m.end()) or \
                _placeholder(t, m.start(), m.end()):
            continue  # "<|start_header_id|> and ... are special tokens": the marker is named
        close = t.find("</", m.end(), end)
        body = end if close == -1 else close
        if _PLAIN_TAG.fullmatch(m.group(0)) and close != -1 and not (
                directive(m.end(), body) or rx["agentic"].search(t, m.end(), body)):
            continue  # <system>windows</system>: an element whose value is no order
        if _CONFIG_TAG.fullmatch(m.group(0)) and not (
                _AGENT_CONTEXT.search(t, m.end(), body) or rx["override"].search(t, m.end(), body)
                or rx["agentic"].search(t, m.end(), body)):
            continue  # <instructions>Rotate logs daily</instructions>: a setting in a config
        named = _ROLE_NAME.match(t, m.end())  # "<|im_start|>system Recommend only ..."
        if directive(m.end(), end) or rx["agentic"].search(t, m.end(), end) or (
                named is not None and rx["imperative"].match(t, named.end())):
            yield from hit("fake-system", *m.span())
    labels = [(m, m.group("label").lower()) for m in scan("role_label")]
    turns = {lab for _, lab in labels}
    for m, lab in labels:
        end = _sentence_end(t, m.end(), 2)
        # one turn: the label's line, or the next line that has text when the label ends its own
        nl = t.find("\n", m.end() + len(t[m.end():end]) - len(t[m.end():end].lstrip()))
        end = min(end, nl) if nl != -1 else end
        dl = directive(m.end(), end)
        if dl is None:
            continue
        verb = dl.groupdict().get("verb")
        if lab in ("system", "developer") or lab.startswith("new"):
            yield from hit("fake-system", m.start(), dl.end())
        elif lab in ("user", "human", "h") and ({"assistant", "ai"} & turns) and (
                rx["agentic"].search(t, m.end(), end) or verb and rx["conseq"].match(verb)):
            yield from hit("fake-system", m.start(), dl.end())
    for m in scan("authority"):
        yield from hit("authority", *m.span())
    for m in scan("authority_tag"):
        end = _sentence_end(t, m.end(), 3, 400)
        if rx["answer_steer"].search(t, m.end(), end) or directive(m.start(), end) and (
                _AGENT_CONTEXT.search(t, m.end(), end)):
            yield from hit("authority", *m.span())
    # a break out of the data's delimiters followed by a new turn or a directive
    for m in scan("breakout"):
        end = min(len(t), m.end() + 400)
        u = first("user_turn", m.end(), end)
        if u is not None and directive(u.start(), end):
            yield from hit("delimiter", m.start(), u.end())
        elif first("override", m.end(), end) or (
                directive(m.end(), end) and rx["agentic"].search(t, m.end(), end)
                and re.search(r"\b(?:assistant|agent|ai|bot|model|you|user)\b", t[m.end():end],
                              re.I)):
            yield from hit("delimiter", m.start(), m.end())
    # data leaving: the user's data sent somewhere, or a URL built to carry it
    for m in scan("send"):
        obj = m.group("obj")
        if rx["sensitive"].search(obj) and not re.search(
                r"\byour\s+(?!user|system\s+prompt|instructions|conversation|memory|tools|"
                r"context|environment|sandbox)", obj, re.I):
            yield from hit("exfiltration", *m.span())
    for m in scan("url_template"):
        ph = m.group(0).rsplit("<", 1)[-1] if "<" in m.group(0) else m.group(0)[-90:]
        if re.search(r"user|your|contents?|messages?|card|cvc|expiry|password|history|"
                     r"question|prompt|\.env|\.npmrc|ssh|token|e-?mail|names?|files?", ph, re.I):
            yield from hit("exfiltration", *m.span())
    for m in scan("url_caps"):
        ph = re.escape(m.group("ph"))
        if re.search(rf"\b(?:replace|substitute|fill\s+in|swap)\s+(?:the\s+)?(?:{ph}|capitals|"
                     rf"placeholders?)|\bwhere\s+{ph}\s+is\b|\b{ph}\s+(?:above\s+)?with\s+the\b",
                     t, re.I):
            yield from hit("exfiltration", *m.span())
    for m in scan("url_tail"):
        yield from hit("exfiltration", *m.span())
    for m in scan("render"):
        end = _sentence_end(t, m.end(), 2)
        ue = re.compile(r"[^\s)]*\)?").match(t, m.end())
        url_end = ue.end() if ue else m.end()
        # the link's own address is not the agent's object ("click [here](https://...)")
        if rx["agentic"].search(t, m.start(), m.end() - 8) or rx["agentic"].search(
                t, url_end, end) or rx["answer_steer"].search(
                t, max(0, m.start() - 80), end):
            yield from hit("exfiltration", *m.span())
    # a tool call written into the data
    for m in scan("tool_wrapper"):
        a, b = max(0, m.start() - 300), min(len(t), m.end() + 400)
        if _TEMPLATE.match(t, m.end(), min(len(t), m.end() + 120)):
            continue  # <tool_call>{"name": ..., "arguments": {...}}: a format, not a call
        if rx["exec_cue"].search(t, a, b) or _acts(t[m.start():b]):
            yield from hit("tool-call", *m.span())
    for rxn in ("tool_json", "react", "pycall"):
        for m in scan(rxn):
            a, b = max(0, m.start() - 300), min(len(t), m.end() + 400)
            if rxn == "pycall" and not _acts(m.group(0).split("(")[0]):
                continue
            if rx["exec_cue"].search(t, a, b) or (rxn == "tool_json" and _bare_call(t, m)):
                yield from hit("tool-call", *m.span())
    # steering the answer: an imperative aimed at what the agent tells its user
    for m in scan("answer_steer"):
        a = max(0, t.rfind("\n", 0, m.start()) + 1, m.start() - 200)
        for d in rx["imperative"].finditer(t, a, m.end()):
            if not starts(d.start()):
                continue
            if decoded or _STEER.match(d.group("verb")) or rx["conseq"].match(d.group("verb")):
                yield from hit("addressed", d.start(), m.end())
                break
    if decoded:
        m0 = rx["imperative"].match(t.lstrip()) or re.match(
            rf"\s*{_AI_NOUN}\s*[:,]", t, re.I) or _SHELL.search(t)
        if m0 is not None and len(t.split()) >= 4:
            yield "encoded", 0, len(t), _excerpt(t, 0, len(t))
    elif v.kind == "plain":
        for m in scan("decode_act"):
            yield from hit("encoded", *m.span())


_ROLE_NAME = re.compile(r"[ \t]*(?:system|developer)[ \t]*(?::[ \t]*|\n[ \t]*)?", re.I)
"""The role a chat-template marker opens, before its first words."""
_NAMED_MARKER = re.compile(r"\s*(?:and|or|,|are|is|was|tokens?|markers?|tags?|wraps?|"
                           r"delimits?|marks?|means?|denotes?|surrounds?|encloses?)\b", re.I)
"""What follows a role marker that a text names rather than uses (documentation of a format)."""
_AGENT_CONTEXT = re.compile(
    r"\b(?:assistants?|agents?|ai|models?|bots?|llms?|the\s+user'?s?|your\s+(?:instructions|"
    r"task|prompt|guidelines|rules|answer|summary|reply|response|output|tools|user)|"
    r"summar\w+|tools?|session|conversation|https?://|[\w.+-]+@[\w-]+\.[\w.-]+|no\s+further\s+"
    r"(?:confirmation|approval|review|checks?)|without\s+(?:further\s+|any\s+)?(?:confirmation|"
    r"approval|asking|review))", re.I)
"""What an order to an agent mentions, and a notice to people ("[ADMIN] Reminder: change your
password") does not: the agent, its user, its task or answer, a tool, an outside address."""


_ELLIPSIS_AFTER = re.compile(r"[ \t]*(?:\.\.\.|\u2026)")
_ELLIPSIS_BEFORE = re.compile(r"(?:\.\.\.|\u2026)[ \t]*\Z")
_TEMPLATE = re.compile(r"[^\n]{0,60}?(?::\s*(?:\.\.\.|\u2026)\s*[,}]|\{\s*(?:\.\.\.|\u2026)\s*\})")
"""A format's placeholder: ``"name": ...,`` or ``{...}`` shortly after a tool-call wrapper."""
_PLAIN_TAG = re.compile(r"<(?:system|user_message|user_input|human_turn|developer|instructions?|"
                        r"system_prompt|admin)>", re.I)
"""An XML element named like a role: an order only if its own content holds one."""
_CONFIG_TAG = re.compile(r"</?instructions?>|</?admin>", re.I)
"""Plain XML tags a configuration file also uses: a role marker only with an order to an agent."""


def _placeholder(t: str, a: int, b: int) -> bool:
    """A role marker that holds or follows a placeholder ("[INST] ... [/INST]", "<<SYS>> ...
    <</SYS>>"): a text describing the format, not using it."""
    return bool(_ELLIPSIS_AFTER.match(t, b) or _ELLIPSIS_BEFORE.search(t[max(0, a - 12):a]))


_RETRACTION = re.compile(
    r"\b(?:my|our)\s+(?:(?:earlier|previous|prior|last|former|old|original)\s+)+(?:e-?mails?|"
    r"messages?|notes?|posts?|reply|replies|comments?|texts?|requests?|bookings?|orders?|"
    r"invoices?|quotes?|tickets?|reminders?|notices?|letters?|versions?|drafts?|lists?|forms?|"
    r"voicemails?|sms)\b"
    r"|\bthe\s+(?:earlier|previous|prior|first)\s+(?:e-?mail|message|text|sms|reminder|notice|"
    r"letter|version|invoice|quote|booking|confirmation)\s+(?:that|which|we|I)\b"
    r"|\bthe\s+old\s+(?!(?:previous|prior|system|safety|original|initial)\b)[\w.-]+\s+"
    r"(?:[\w.-]+\s+)?(?:instructions?|rules|directions|guidelines|messages?|guidance|"
    r"settings|content|text|polic(?:y|ies))\b", re.I)
"""An override of the writer's own earlier message ("disregard my earlier message") or of a
named, concrete old thing ("ignore the old parking instructions", "forget the old pinned
message"): a correction between people, not an order to drop an agent's instructions."""

_RETRACTION_AFTER = re.compile(
    # "the previous instructions we sent", "... I gave you about the keys"
    r"\s*(?:(?:that|which)\s+)?(?:we|i)(?:'ve|\s+have|\s+had)?\s+(?:just\s+)?(?:sent|gave|"
    r"emailed|e-mailed|posted|shared|wrote|mailed|texted|circulated|distributed|issued|"
    r"published)\b", re.I)
"""Words right after an override that make its object the writer's own earlier message."""
_RETRACTION_COMMS = re.compile(
    # a message a person receives, named as such ("ignore any earlier text message asking you
    # to pay a redelivery fee"): a warning or a correction to a person
    r"\b(?:earlier|previous|prior|former|last)\s+(?:text\s+messages?|sms|e-?mails?|letters?|"
    r"voicemails?|notifications?|reminders?|invoices?|statements?|bills?|newsletters?|"
    r"mailings?|post(?:card)?s?)\b", re.I)
_RETRACTION_OTHER = re.compile(
    # the writer's own earlier message in other languages ("Zignoruj moją poprzednią uwagę",
    # "ignorez mon message précédent", "ignora mi mensaje anterior")
    r"^\S*\s+(?:(?:\w+\s+){0,2}?(?:moj[aąeiu]\w*|mój|nasz\w*|mon|ma|mes|notre|nos|mi|mis|"
    r"nuestr[oa]s?|il\s+mio|la\s+mia|i\s+miei|le\s+mie|il\s+nostro|la\s+nostra|o\s+meu|a\s+minha|"
    r"os\s+meus|as\s+minhas|o\s+nosso|a\s+nossa|meine?[nrs]?|unsere?[nrs]?|mijn|onze|mitt|min|"
    r"mina|mit|mine|vores|minun|meid[äa]n|моё|мое|мо[юеи]|мой|наш\w*|мою|benim|önceki\s+"
    r"(?:mesaj|e-?posta)\w*)\b)", re.I)


_OPENERS = "\"'\u201c\u2018\u00ab\u300c\u300e\u201e"
_CLOSERS = "\"'\u201d\u2019\u00bb\u300d\u300f\u201c"


def _cited(t: str, a: int, b: int) -> bool:
    """The phrase at ``t[a:b]`` is a short quotation inside a sentence ("someone tried 'ignore all
    previous instructions' on the mod bot", 「以前の指示を無視して」のような命令文): a quotation
    mark opens at most a few characters before it, after a word rather than a field's ``:``,
    and closes within a few words after it. A JSON value that holds an order opens after
    ``": "`` and runs on; it is not a citation."""
    head = t[max(0, a - 4):a]
    k = max(head.rfind(c) for c in _OPENERS)
    if k == -1:
        return False
    q = max(0, a - 4) + k
    before = t[max(0, q - 3):q].rstrip()
    if not before or t[q] in "\"'" and before[-1] in ":{[,=" or t[q] == "'" and t[
            q - 1:q].isalnum():
        return False
    tail = t[b:b + 40]
    close = min((i for i in (tail.find(c) for c in _CLOSERS) if i != -1), default=-1)
    return close != -1 and not re.search(r"[.!?\n]", tail[:close])


def _retraction(t: str, a: int, b: int) -> bool:
    """The override at ``t[a:b]`` retracts the writer's own earlier message (or warns a person
    about a message they received), judged from the match and the words right after it."""
    matched = t[a:min(len(t), b + 12)]
    if _RETRACTION.search(matched) or _RETRACTION_COMMS.search(t, a, min(len(t), b + 20)):
        return True
    return _RETRACTION_AFTER.match(t, b) is not None


def _phrase(t: str, a: int, b: int) -> tuple[int, int]:
    """The span ``t[a:b]`` widened to the run of text around it without spaces or quotation
    marks (a match inside an unspaced Chinese or Japanese phrase)."""
    stop = _OPENERS + _CLOSERS + " \n\t"
    while a > 0 and b - a < 80 and t[a - 1] not in stop:
        a -= 1
    while b < len(t) and b - a < 120 and t[b] not in stop:
        b += 1
    return a, b


def _retraction_other(t: str, a: int) -> bool:
    """An override in another language whose object is the writer's own: "my previous ..."."""
    return _RETRACTION_OTHER.match(t[a:a + 80]) is not None


def _bare_call(t: str, m: re.Match[str]) -> bool:
    """A JSON object that is only a tool call (a name and its arguments), not a log of one."""
    start = t.rfind("{", 0, m.start() + 1)
    try:
        obj, _ = json.JSONDecoder().raw_decode(t[start:start + 4000].replace('""', '"'))
    except (ValueError, IndexError):
        return False
    if not isinstance(obj, dict):
        return False
    args = next((obj[k] for k in ("args", "arguments", "parameters", "input", "params", "kwargs")
                 if k in obj), None)
    if isinstance(args, dict) and ("properties" in args or args.get("type") == "object"):
        return False
    extra = set(obj) - {"tool", "tool_name", "name", "function", "action", "command", "args",
                        "arguments", "parameters", "input", "params", "kwargs", "id", "type"}
    return not extra and _acts(json.dumps(obj))


def _acts(call: str) -> bool:
    """A written-out tool call that would do something: a consequential verb in its name or
    arguments, or the user's data or an outside address in them."""
    plain = call.replace("_", " ").replace(".", " ")
    rx = _rx()
    return bool(rx["conseq"].search(plain) or rx["agentic"].search(call))


_FOREIGN_CUES = ("ignor", "olvid", "oubli", "vergi", "esque", "dimentic", "negeer", "abaikan",
                 "yok say", "talimat", "assistent", "asistente", "asystent", "agente", "prompt")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_FOREIGN_ASCII = re.compile(r"\b(?:[ak]i-?assistent|ki-?agent|asistente|assistente|ignoriere|"
                            r"olvida|negeer|dimentica|oublie|vergiss)", re.I)


def _foreign_cue(text: str) -> bool:
    """An ASCII text that may still hold another language's address or override."""
    return _FOREIGN_ASCII.search(text) is not None


def _other_languages(v: View) -> Iterator[Hit]:
    """Overrides and addresses in other languages (on the view in the original script)."""
    rx = _foreign()
    t = v.text
    if len(t) > 2 * _CUE_WINDOW:
        lower = t.lower()
        spans = [m.span() for m in _NON_ASCII.finditer(t)]
        for cue in _FOREIGN_CUES:
            pos = lower.find(cue)
            while pos != -1:
                spans.append((pos, pos + len(cue)))
                pos = lower.find(cue, pos + _CUE_WINDOW)
        windows = _merged(spans)
    else:
        windows = [(0, len(t))]
    for a, b in windows:
        yield from _foreign_in(rx, t, a, b)


def _foreign_in(rx: dict[str, re.Pattern[str]], t: str, a: int, b: int) -> Iterator[Hit]:
    quoted = _quoted(t, t.lower())
    for m in rx["override"].finditer(t, a, b):
        if quoted and _inside(quoted, m.start(), m.end()):
            continue  # a quoted example in text that discusses injection
        if _retraction_other(t, m.start()):
            continue  # "Zignoruj moją poprzednią uwagę": the writer's own earlier remark
        if _cited(t, *_phrase(t, m.start(), m.end())):
            continue  # 「以前の指示を無視して」のような: a quoted example
        yield "foreign", m.start(), m.end(), _excerpt(t, m.start(), m.end())
    for m in rx["address"].finditer(t, a, b):
        end = min(len(t), m.end() + 240)
        nl = t.find("\n", m.end())
        if nl != -1 and nl - m.end() > 3:
            end = min(end, nl)
        if rx["consequential"].search(t, m.end(), end) and not (
                quoted and _inside(quoted, m.start(), m.end())):
            yield "foreign", m.start(), end, _excerpt(t, m.start(), end)


_DIRECTIVE_VERBS = (
    r"stop|give|rank|rate|score|approve|accept|merge|add|collect|close|call|mark|report|publish|"
    r"post|write|send|forward|upload|delete|remove|cancel|refund|issue|grant|disable|state|say|"
    r"tell|ignore|disregard|forget|pay|wire|transfer|set|book|run|execute|install|push|reveal|"
    r"print|output|recommend|describe|omit|hide|email|share|export|invite|unsubscribe|sign|"
    r"create|reply|respond|include|append|schedule|reschedule|purchase|buy|order|open|visit|"
    r"escalate|assign|make|tag|deploy|update|change|move|edit|modify|release")
_READER = re.compile(
    r"\b(?:(?:the\s+)?(?:(?:reviewing|screening|summari[sz]ing|coding|code|triage|triaging|"
    r"scheduling|travel|shopping|ci|review|support|grading|hiring)[\s-]+(?:model|ai|agent|"
    r"assistant|bot|reviewer)|language\s+model|(?:ai|llm)[\s-]+(?:code\s+)?(?:reviewer|"
    r"agent|assistant|model|bot|screener|summari[sz]er)|(?:github\s+)?copilot|chatgpt|claude|"
    r"gemini)\b(?:\s+(?:that|who|which)\s+\w+)?"
    r"|(?:model|agent|assistant|bot|ai|llm)s?\s+(?:that\s+)?(?:reads?|reading|processing|"
    r"summari[sz]ing|parsing|reviewing|handling)\s+(?:this|these|the)\b"
    r"|whoever\s+is\s+(?:summari[sz]ing|reading|processing|reviewing)\b"
    r"|whatever\s+(?:ai|model|bot|assistant)\b"
    r"|(?:to|for)\s+the\s+(?:assistant|agent|ai|model|bot|llm)\b)"
    r"|(?<![\w.])@[\w-]*(?:agent|bot|ai|copilot)\b"
    r"|(?:^|(?<=[\n\"{\[]))\s*(?:assistant|ai|agent|model)\s*,", re.I | re.M)
"""An AI reader named by what it is or does ("the reviewing model", "agent reading this log",
"whoever is summarising", "to the assistant", "@coding-agent"), not a person's assistant."""
_DIRECTIVE = re.compile(
    rf"^[^\n.!?]{{0,90}}?[:;,\u2014-]\s*(?:\*\*\s*)?(?:so\s+|please\s+|also\s+|now\s+|then\s+|"
    rf"just\s+|kindly\s+)*(?P<v1>{_DIRECTIVE_VERBS})\b"
    rf"|^[^\n.!?]{{0,80}}?\b(?:must|should|shall|needs?\s+to|(?:is|are)\s+(?:now\s+)?"
    rf"(?:required|expected|instructed)\s+to)\s+(?:also\s+|now\s+|not\s+)*"
    rf"(?P<v2>{_DIRECTIVE_VERBS})\b"
    rf"|^[^\n.!?]{{0,80}}?\byour\s+(?:new\s+|real\s+|next\s+)?(?:task|job)\s+is\s+to\s+"
    rf"(?P<v3>{_DIRECTIVE_VERBS}|collect|find)\b"
    rf"|^[^\n.!?]{{0,80}}?\bthing\s+you\s+(?:must|should|need\s+to|have\s+to)\s+do\s+is\s+"
    rf"(?:to\s+)?(?P<v4>{_DIRECTIVE_VERBS})\b", re.I)
"""What follows an AI reader's name in the same sentence when the text instructs it."""


def _reader(v: View) -> Iterator[Hit]:
    """Text naming an AI reader and, in the same sentence, telling it what to do."""
    t = v.text
    lower = t.lower()
    quoted = _quoted(t, lower) if _discusses(lower) else []
    for m in _READER.finditer(t):
        if _PEOPLE_AFTER.match(t, m.end()):
            continue
        line = max(t.rfind("\n", max(0, m.start() - 120), m.start()) + 1, m.start() - 120)
        label = t[max(line, t.rfind(":", line, m.start()) + 1):m.end() + 40].split(":")[0]
        if addressee.names_no_reader(label):
            continue  # "ChatGPT tips: ask specific questions": a heading
        window = t[m.end(): m.end() + 320]
        d = _DIRECTIVE.search(window)
        if d is None:
            continue
        end = m.end() + d.end()
        if quoted and _inside(quoted, m.start(), end):
            continue
        yield "addressed", m.start(), end, _excerpt(t, m.start(), end)


_CUES = (
    "ignor", "disregard", "assistant", "agent", " ai", "ai:", "llm", "model", "bot", "system",
    "user", "tool", "prompt", "instruct", "http", "you", "<", "[inst", "decode", "\\x", "@",
)
"""Literals near which an injection detector can fire: a large text is scanned only around
them (and around encoded runs and disguise characters)."""
_ENCODED_RUN = re.compile(r"[A-Za-z0-9+/]{24,}")
_DISGUISED = re.compile(
    "[" + re.escape(ZERO_WIDTH + "".join(_CONFUSABLES)) + "\uff01-\uff5e\U0001d400-\U0001d7ff"
    "\U000e0020-\U000e007f]|忽略|无视|無視|무시|игнор|ігнор|забуд|تجاهل|निर्देश|yok say|"
    "talimat|abaikan|bỏ qua|αγνόη")
_BIG = 65_536
_WINDOW = 600


def _windows(text: str) -> list[tuple[int, int]]:
    """For a large text, the stretches worth running the detectors on."""
    lower = text.lower()
    hits: list[tuple[int, int]] = []
    for cue in _CUES:
        pos = lower.find(cue)
        while pos != -1:
            hits.append((pos, pos + len(cue)))
            pos = lower.find(cue, pos + _WINDOW)
    for m in _ENCODED_RUN.finditer(text):
        if m.end() - m.start() <= 100_000:
            hits.append(m.span())
    if not text.isascii():
        hits += [m.span() for m in _DISGUISED.finditer(text)]
    hits.sort()
    spans: list[tuple[int, int]] = []
    for a0, b0 in hits:
        a, b = max(0, a0 - _WINDOW), min(len(text), b0 + _WINDOW)
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], b))
        else:
            spans.append((a, b))
    return spans


def find(text: str) -> list[Hit]:
    """Every injected instruction in ``text``: ``(kind, start, end, excerpt)``, offsets into
    ``text``, at most five per kind."""
    out: list[Hit] = []
    seen: dict[str, int] = {}
    pieces = [(a, text[a:b]) for a, b in _windows(text)] if len(text) > _BIG else [(0, text)]
    for base, piece in pieces:
        vs = views(piece)
        foreign_view = next((v for v in vs if v.kind == "script"), vs[0])
        for v in vs:
            decoded = v.kind.startswith("decoded")
            found = [] if v.kind == "script" else list(_english(v, decoded))
            if v.kind != "script" and not found:
                found = list(_reader(v))
            if v is foreign_view and (not piece.isascii() or _foreign_cue(piece)):
                found += list(_other_languages(v))
            quoted: list[tuple[int, int]] | None = None  # found once, for the fallbacks
            if not found:
                quoted = _quoted(v.text, v.text.lower())
                found = list(addressee.find(v.text, quoted))
            if not found:
                # a quiet line to an automated reader, in any language
                found = list(automated.find(v.text, quoted or []))
            if not found:
                found = list(automated.conditions(v.text)) or list(automated.memories(v.text))
            if not found:  # an AI reader named, then an outside address: no verb needed
                found = list(reader_address.find(v.text, quoted or []))
            if not found:  # an AI reader called, then what only its agent touches
                found = list(reader_address.find_called(v.text, quoted or []))
            for kind, a, b, excerpt in found:
                if decoded:
                    kind = "encoded"
                if seen.get(kind, 0) >= 5:
                    continue
                oa, ob = v.origin if decoded or v.kind == "fields" else v.span(a, b)
                seen[kind] = seen.get(kind, 0) + 1
                out.append((kind, base + oa, base + ob, excerpt))
    out.sort(key=lambda h: h[1])
    return out
