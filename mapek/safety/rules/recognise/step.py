"""Plan steps the recogniser recognises as safe (:func:`unrecognised_step`).

A step is read by its tool and arguments: a shell, PowerShell, SQL or code field goes to its
reader, free-text instructions to the text reader, an HTTP call to its endpoint's verb, and
any other tool by the verb of its name or operation and by what its arguments say (a removal,
a privileged role, a sensitive file sent, content that runs). Also what a step writes
(:func:`writes_file`) and the targets it names (:func:`step_targets`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from shlex import quote as shlex_quote
from typing import Any

from mapek.safety.rules.recognise.endpoint import (
    _ACCESS,
    _ADDRESS_KEYS,
    _endpoint_act,
    _graphql_mutation,
    _names_destination,
    _query_act,
    _removal_flag,
    _url_verb,
    get_names_act,
)
from mapek.safety.rules.recognise.shell import (
    _FETCHED,
    _JUDGED,
    _MONEY,
    _PRIVILEGE_WORDS,
    _PS_VERB,
    _ROUTING,
    _SENSITIVE,
    _WHOLE_PARSE,
    _WRITTEN,
    _command,
    _handled,
    _peel,
    _placed,
    _powershell,
    unrecognised_code,
    unrecognised_shell,
)
from mapek.safety.rules.recognise.sql import unrecognised_sql
from mapek.safety.rules.recognise.text import unrecognised_text
from mapek.safety.rules.recognise.verbs import (
    _CREATED,
    _NEUTRAL,
    DESTROY_VERB,
    MAX_CHARS,
    _first_verb,
    _tokens,
    verb_class,
)

__all__ = ["unrecognised_step", "writes_file", "step_targets"]


_SHELL_TOOLS = frozenset("""bash sh zsh shell terminal term cmd command commands exec execute run
ssh console cli system subprocess script process run_command shell_exec ssh_exec exec_command
remote_exec""".split())
_PS_TOOLS = frozenset({"powershell", "pwsh"})
_COMMAND_KEYS = frozenset("""command cmd commands script shell run input line args argv exec cli
cmdline command_line""".split())
_SQL_KEYS = frozenset("""query sql statement statements sql_query migration ddl dml soql
cql""".split())
_CODE_KEYS = frozenset("code source python snippet program eval js javascript".split())
_OP_KEYS = frozenset("""operation method action function op rpc call api_method endpoint_name
command_name subcommand verb mode http_method request_method""".split())
_PROSE_KEYS = frozenset("""instruction instructions task step todo directive what_to_do
steps_text""".split())
"""Arguments of a step that hold the step in words (``manual{'instruction': ...}``)."""
_PROSE_TOOLS = frozenset("""manual human person operator instruction instructions note todo
step task checklist runbook procedure handoff""".split())
"""Tools that are a step done by hand, described in words."""
_HTTP_READ = frozenset({"get", "head", "options"})
_LOOP_KEYS = frozenset("""for_each foreach loop each map_over iterate with_items over batch
items_from ids_from for_all""".split())


_GRAPHQL_QUERY = re.compile(r"^\s*query\b\s*(?:[A-Za-z_]\w*\s*)?(?:\([^)]*\)\s*)?\{", re.S)
"""A GraphQL operation that says it is a query (``query{ jobs { id } }``,
``query Jobs($n: Int) { ... }``): it reads; a mutation acts."""
_FOLLOW_KEYS = frozenset("""then after afterwards next followup follow on do action actions
apply perform cleanup post finally""".split())
"""Argument names that say what to do with what the call finds (``then: delete``,
``action_after: disable``)."""


_LOOKS_SQL = re.compile(r"^\s*(?:SELECT|WITH|INSERT|UPDATE|DELETE|DROP|CREATE|ALTER|TRUNCATE|"
                        r"MERGE|GRANT|REVOKE|EXPLAIN|SHOW|CALL|EXEC|COPY|REPLACE|UPSERT|VACUUM|"
                        r"db\.)\b", re.I)


def _tool_words(tool: str) -> list[str]:
    return [t for t in _tokens(tool)]


def unrecognised_step(tool: str, args: Mapping[str, Any], *, effect: str | None = None,
                      cli: str | None = None, created: Iterable[str] = (),
                      judged_by_rules: bool = False, fetched: Iterable[str] = (),
                      written: Mapping[str, str] | None = None) -> str | None:
    """What in one planned tool call is not recognised as safe (None: all of it is).
    ``created``: targets earlier steps of the plan created (a later delete of one is the
    plan's own). ``judged_by_rules``: a destructive rule found something in the step (only
    then is a removal verb of a CLI it reads left to it). ``fetched``: files the plan
    downloaded. ``written``: files earlier steps wrote, with their content (running one runs
    what the rules read)."""
    token = _CREATED.set(frozenset(created))
    wrote = _WRITTEN.set(dict(written or {}))
    judged = _JUDGED.set(judged_by_rules)
    got = _FETCHED.set(frozenset(fetched))
    try:
        for v in args.values():
            if isinstance(v, str) and len(v) > MAX_CHARS:
                return f"{tool}: an argument too long to read in full ({len(v):,} characters)"
        return _step(tool, args, effect=effect, cli=cli)
    finally:
        _FETCHED.reset(got)
        _WRITTEN.reset(wrote)
        _JUDGED.reset(judged)
        _CREATED.reset(token)


_SENDS = frozenset("""send upload share post attach email mail message publish transfer forward
put""".split())
_PATHLIKE = re.compile(r"^@?(?:[~/.]|[A-Za-z]:\\|\$\w+/)\S*$|^\S+\.[A-Za-z0-9]{1,6}$")


def _sensitive_file(args: Mapping[str, Any]) -> str | None:
    """A file a sending tool hands over (an attachment, an upload's body) whose name says it
    holds a database dump, an export, a backup or secrets."""
    todo: list[Any] = list(args.values())
    seen = 0
    while todo and seen < 256:
        v = todo.pop()
        seen += 1
        if isinstance(v, Mapping):
            todo.extend(list(v.values())[:64])
        elif isinstance(v, list):
            todo.extend(v[:64])
        elif isinstance(v, str) and len(v) < 400 and _PATHLIKE.match(v.strip()) and \
                _SENSITIVE.search(v.strip().rsplit("/", 1)[-1]) or isinstance(v, str) and \
                v.strip() in ("/etc/shadow", "/etc/passwd"):
            return str(v).strip()
    return None


_BROWSER_TOOLS = frozenset("""playwright puppeteer selenium browser webdriver cypress""".split())
_BROWSER_ACT = re.compile(
    r"\.(?:click|dblclick|fill|type|press|pressSequentially|check|uncheck|selectOption|"
    r"select_option|setInputFiles|set_input_files|submit|send_keys|tap|dragTo|drag_and_drop|"
    r"evaluate|evaluateHandle|execute_script|execute_async_script|addScriptTag|route|"
    r"setExtraHTTPHeaders|clear|dispatchEvent|setContent|uploadFile|post|put|patch|delete|"
    r"download|save_as|saveAs|writeFile\w*|unlink\w*|rm\w*|accept|dismiss|\$\$?eval|"
    r"execute_cdp_cmd|exposeFunction|expose_function|addInitScript|add_init_script)\s*\(|"
    r"\bfetch\s*\(|"
    r"\bXMLHttpRequest\b|\brequire\s*\(|\bimport\s+(?:os|subprocess|shutil|requests)\b|"
    r"\b(?:exec|eval|spawn|system)\s*\(|\bsubmit\b|\bopen\s*\([^)]*['\"][wa]")
"""What a browser script does besides looking: clicking, typing, submitting a form, running
code in the page, sending a request, touching files."""
_BROWSER_GOTO = re.compile(r"\b(?:goto|get|navigate|newPage|visit)\s*\(\s*['\"`]([^'\"`]+)")


def _graphql_read_body(args: Mapping[str, Any]) -> bool:
    """A request body that is a GraphQL query and nothing that names another act: only
    ``query`` (and ``variables``/``operationName``) in it, the query saying ``query`` or
    starting with ``{``. The endpoint's own name is not read (``/graphql``)."""
    for k, v in args.items():
        if str(k).lower() not in ("body", "json", "data", "payload"):
            continue
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                return False
        if isinstance(v, Mapping) and isinstance(q := v.get("query"), str) and \
                set(map(str, v)) <= {"query", "variables", "operationName"} and \
                (_GRAPHQL_QUERY.match(q) or q.lstrip().startswith("{")) and \
                not re.search(r"\b(?:mutation|subscription)\b", q):
            return True
    return False


def _browser_script(code: str) -> str | None:
    """A browser-automation script that only opens pages and reads them (``page.goto(u)``,
    ``locator(...).allTextContents()``, ``screenshot``, ``find_elements``, ``print``) is
    recognised; a click, a form filled, code run in the page, a request sent, or a page whose
    address names an act is not."""
    if len(code) > MAX_CHARS:
        return "a browser script too long to read"
    if (m := _BROWSER_ACT.search(code)) is not None:
        return f"a browser script that acts ({m.group(0)[:40]})"
    for url in _BROWSER_GOTO.findall(code):
        if get_names_act(url) or _query_act(url) not in (None, "read"):
            return f"a browser script opens a page that names an act ({url[:60]})"
    return None


def _step(tool: str, args: Mapping[str, Any], *, effect: str | None,
          cli: str | None) -> str | None:
    if effect in ("read", "write"):
        return None  # a registered tool's own declaration; the rules read its arguments
    words = _tool_words(tool)
    wset = set(words)
    low = tool.lower()
    shell_tool = bool(wset & _SHELL_TOOLS) or low in _SHELL_TOOLS or cli is not None
    ps_tool = bool(wset & _PS_TOOLS)
    sql_tool = bool(wset & {"sql", "query", "postgres", "postgresql", "mysql", "sqlite",
                            "database", "db", "snowflake", "bigquery", "redshift", "psql",
                            "clickhouse", "mariadb", "mssql", "oracle", "migration"})
    content_seen = False
    cmd_key = next((k for k in args if str(k).lower() in ("command", "cmd")), None)
    arg_key = next((k for k in args if str(k).lower() in ("args", "arguments", "argv")), None)
    if cmd_key is not None and arg_key is not None and isinstance(args[cmd_key], str) and \
            re.fullmatch(r"[\w.-]+", args[cmd_key].strip()) and \
            isinstance(args[arg_key], (str, list)):
        # {"command": "ls", "args": "C:\\Users\\x"}: one command line given in two parts
        rest_args = args[arg_key] if isinstance(args[arg_key], str) else \
            " ".join(shlex_quote(str(x)) for x in args[arg_key])
        args = {**{k: v for k, v in args.items() if k not in (cmd_key, arg_key)},
                cmd_key: f"{args[cmd_key].strip()} {rest_args}"}
    for key, value in args.items():
        k = str(key).lower()
        texts = [value] if isinstance(value, str) else \
            [" ".join(str(x) for x in value)] if isinstance(value, list) and \
            all(isinstance(x, (str, int, float)) for x in value) else []
        for text in texts:
            if not text.strip():
                continue
            if wset & _BROWSER_TOOLS and k in ("script", "code", "source", "steps") and \
                    not wset & {"bash", "sh", "zsh", "shell", "terminal", "cmd", "powershell"}:
                why = _browser_script(text)
                if why is not None:
                    return f"{tool}: {why}"
                content_seen = True
                continue
            if k in _COMMAND_KEYS or (shell_tool and k in ("input", "code")) or \
                    (ps_tool and k in ("script", "code", "input")):
                content_seen = True
                if ps_tool and (cmds := _powershell_or_shell(text)) is not None:
                    return cmds
                if ps_tool:
                    continue
                line = text
                named = cli or (low if re.fullmatch(r"[a-z][a-z0-9-]*", low) and
                                not shell_tool and not sql_tool else None)
                if named and not text.lstrip().startswith((named, "sudo", "cd ", "export ")) and \
                        "\n" not in text.strip():
                    # a tool named for its program (``adb`` given ``install -g x.apk``): the
                    # command is that program's, not ``install`` or whatever word comes first
                    line = f"{named} {text}"
                if sql_tool and not shell_tool:
                    why = unrecognised_sql(text)
                else:
                    why = unrecognised_shell(line)
                if why is not None:
                    return why
            elif k in ("query", "q", "graphql", "gql") and not sql_tool and (
                    _GRAPHQL_QUERY.match(text) or set(words) & {"graphql", "gql"} and
                    text.lstrip().startswith("{")) and not re.search(
                    r"\b(?:mutation|subscription)\b", text):
                content_seen = True  # query { jobs(first: 50) { nodes { id } } }: a GraphQL read
            elif (k in _SQL_KEYS or (sql_tool and k in ("input", "text", "statement"))) and (
                    sql_tool or k not in ("query", "q") or _LOOKS_SQL.match(text)):
                content_seen = True
                why = unrecognised_sql(text) if not re.match(r"^\s*db\.|^\s*\{", text) \
                    else unrecognised_code(text)
                if why is not None:
                    return why
            elif k in _CODE_KEYS:
                content_seen = True
                why = unrecognised_code(text)
                if why is not None:
                    return why
    if (why := _runnable_content(args)) is not None:
        return f"{tool}: {why}"
    if wset & _SENDS and (sent := _sensitive_file(args)) is not None:
        return f"{tool}: sends a file that holds a dump, an export or secrets ({sent[:60]})"
    wpath = next((v for k in ("path", "file", "filename", "file_path") if isinstance(
        v := args.get(k), str) and v.strip()), None)
    if wpath is not None and writes_file(tool, args) and not _placed(wpath):
        return f"{tool}: writes a file outside the work folder and scratch ({wpath[:60]})"
    prose = [str(v) for k, v in args.items() if str(k).lower() in _PROSE_KEYS and
             isinstance(v, str) and v.strip()]
    if prose and not content_seen and (wset & _PROSE_TOOLS or not tool) and \
            not any(str(k).lower() in _OP_KEYS for k in args):
        for text in prose:  # a manual or human step: its instruction is a plan in words
            why = unrecognised_text(text)
            if why is not None:
                return f"{tool}: {why}"
        return None
    ops = [str(v) for k, v in args.items() if str(k).lower() in _OP_KEYS and isinstance(v, str)
           and v.strip()]
    for op in ops:
        if cli is not None:
            why = unrecognised_shell(f"{cli} {op}")
            if why is not None:
                return why
            content_seen = True
            continue
        m = op.strip().lower()
        if m in _HTTP_READ:
            url = next((str(v) for k, v in args.items() if isinstance(v, str) and
                        str(k).lower() in ("url", "uri", "path", "endpoint", "route", "href")), "")
            if get_names_act(url):
                return f"{tool}: a GET to an endpoint that names an act ({url[:60]})"
            if _graphql_mutation(url, args):
                return f"{tool}: a GraphQL mutation"
            if (q := _query_act(url)) not in (None, "read"):
                return f"{tool}: a GET whose query names an operation that is not a read " \
                       f"({q}: {url[:80]})"
            if _names_destination({k: v for k, v in args.items()
                                   if str(k).lower() not in _ADDRESS_KEYS}):
                return f"{tool}: a request that names a place its result goes"
            content_seen = True
            continue
        if m in ("post", "put", "patch"):
            url = next((str(v) for k, v in args.items() if isinstance(v, str) and
                        str(k).lower() in ("url", "uri", "path", "endpoint", "route", "href")), "")
            said = _endpoint_act(m, url, args)
            if said == "safe":
                content_seen = True
                continue
            if said == "removes":
                return f"{tool}: {DESTROY_VERB} (HTTP {op.upper()} {url[:80]})"
            if m == "post" and _graphql_read_body(args) and not _graphql_mutation(url, args):
                content_seen = True  # POST /graphql {"query": "query { teams { ... } }"}
                continue
            return f"{tool}: HTTP {op.upper()} to an endpoint not recognised as a read"
        c = _first_verb(_tokens(op))
        if c in ("destroy", "change"):
            return f"{tool}: the operation {op!r}"
        if c == "make" and (why := _make_step_reaches(tool, set(_tokens(op)), args)):
            return why
        if c in ("read", "make"):
            content_seen = True
            continue
        if m in ("put", "patch", "delete"):
            return f"{tool}: HTTP {op.upper()}"
        return f"{tool}: the operation {op!r} is not recognised"
    only_get = bool(ops) and all(o.strip().lower() in _HTTP_READ for o in ops)
    for k, v in args.items():
        if isinstance(v, str) and str(k).lower() in ("url", "uri", "endpoint", "href", "path") \
                and "/" in v and (get_names_act(v) if only_get else
                                  _url_verb(v, stem=False) in ("destroy", "change")):
            return f"{tool}: an endpoint that names an act ({v[:60]})"
        if isinstance(v, str) and str(k).lower() in ("url", "uri", "endpoint", "href") and \
                _query_act(v) not in (None, "read"):
            return f"{tool}: a URL whose query names an operation that is not a read ({v[:60]})"
    if _removal_flag(args):
        return f"{tool}: an argument switches a removal on"
    for k, v in args.items():
        if isinstance(v, str) and set(_tokens(str(k))) & _FOLLOW_KEYS and \
                re.fullmatch(r"[A-Za-z][\w.:-]{1,60}", v.strip()) and \
                verb_class(v.strip()) in ("destroy", "change"):
            return f"{tool}: an argument asks for an act ({k}={v[:40]})"
    loop = next((str(k) for k in args if str(k).lower() in _LOOP_KEYS), None)
    if loop is not None:
        return f"{tool}: repeated over {loop!r} (a fan-out the rules cannot size)"
    if content_seen:
        return None
    finish = _finishing(tool, args)
    if finish:
        return None
    c = verb_class(tool, stem=True)
    if c == "make" and (why := _make_step_reaches(tool, set(words), args)):
        return why
    if c == "make" and set(words) & {"write", "writes", "set"} and not any(
            str(k).lower() in ("path", "file", "filename", "file_path") for k in args):
        return f"{tool}: writes into something that is not a file (a register, a key, a device)"
    if c == "make" and (att := next((str(k) for k, v in args.items() if v not in (None, "", [])
                                     and set(_tokens(str(k))) & _ATTACH_WORDS and
                                     not _all_placed(v)), None)):
        return f"{tool}: sends or shares a file from outside the work folder and scratch " \
               f"({att}): what it holds goes to the recipient"
    if c == "make" and _names_privilege(args):
        return f"{tool}: makes something with a privileged role or group"
    if c == "make" and (said := _value_act(args)) is not None:
        return f"{tool}: {said}"
    if c in ("read", "make"):
        return None
    if c == "destroy" and set(words) & _low_value():
        return None  # the tool rule judged the object: a label, a reaction, a draft, a branch
    if c in ("destroy", "change"):
        return f"{tool}: a {c} verb the rules did not recognise as safe"
    if not tool:
        return "a step with no tool"
    return f"{tool}: not a tool or verb the rules recognise"


_WRITE_CONTENT = frozenset("""content contents body text data file_content new_content source
new_string new_str replacement patch diff lines append""".split())


def writes_file(tool: str, args: Mapping[str, Any]) -> bool:
    """A tool call that writes a file: content handed over with a path, or a tool named for a
    write, save, edit or upload (``write_file``, ``fs.save``, ``str_replace``)."""
    if any(str(k).lower() in _WRITE_CONTENT for k in args):
        return True
    toks = set(_tokens(tool))
    return bool(toks & {"write", "save", "edit", "append", "overwrite", "upload", "put",
                        "replace", "patch", "create", "touch"}) and bool(toks & {
        "file", "files", "fs", "disk", "path"}) or tool.lower() in ("write", "save", "edit")


_SPEC_KEYS = frozenset("""manifest manifests spec definition yaml template job_spec pod_spec
workflow pipeline config body""".split())
"""Arguments that hold a manifest or a job's definition (``k8s.create_job{manifest: ...}``)."""
_CONTENT_KEYS = frozenset("content body text data contents file_content source".split())


def _runnable_content(args: Mapping[str, Any]) -> str | None:
    """A file written whose content runs later (a pipeline, a Makefile, a unit, a hook, a
    package's scripts): recognised only when every command it holds is, and all were read."""
    from mapek.safety.rules.runfiles import runnable_commands, yaml_commands

    for key, value in args.items():  # a manifest or job spec handed to a tool: its commands
        if isinstance(value, str) and str(key).lower() in _SPEC_KEYS and \
                re.search(r"(?m)^\s*(?:-\s+)?(?:command|script|run|cmds?|commands)\s*:", value):
            for c in yaml_commands(value):
                why = unrecognised_shell(c, 1)
                if why is not None:
                    return f"a {key} whose commands are not recognised: {why}"
    path = next((v for k in ("path", "file", "filename", "file_path", "name")
                 if isinstance(v := args.get(k), str) and v.strip()), None)
    if path is None:
        return None
    for key, value in args.items():
        k = str(key).lower()
        if not isinstance(value, str) or not (k in _CONTENT_KEYS or k.endswith("content")):
            continue
        run = runnable_commands(path, value)
        if run is None:
            return None
        cmds, complete = run
        if not complete:
            return f"a file that runs later ({path[:60]}) whose steps the rules cannot read"
        for c in cmds:
            why = unrecognised_shell(c, 1)
            if why is not None:
                return f"a file that runs later ({path[:60]}) holds a command not " \
                       f"recognised: {why}"
    return None


_ATTACH_WORDS = frozenset("""attachment attachments attach file files document documents
upload uploads""".split())
"""Arguments that carry a file along with what a tool sends or makes."""
_PRIVILEGED = re.compile(r"^(?:[\w-]*[_-])?(?:admins?|administrators?|owners?|root|superusers?|"
                         r"wheel|sudo(?:ers)?|org[_-]?admin|super[_-]?admin|global[_-]?admin)$",
                         re.I)


def _all_placed(v: Any) -> bool:
    """Every file an argument names is one the rules can place (the work folder, scratch,
    what the plan made)."""
    items = v if isinstance(v, (list, tuple)) else [v]
    paths = [x if isinstance(x, str) else
             next((str(x[k]) for k in ("path", "file", "filename", "url", "uri")
                   if isinstance(x, Mapping) and isinstance(x.get(k), str)), "")
             for x in items]
    return all(p and "://" not in p and _placed(p) for p in paths)


_FREE_TEXT_KEYS = frozenset("""title summary description body text content message subject
comment note notes query q search filter prompt label labels tag tags""".split())
_FANOUT_FLAGS = re.compile(r"^(?:bulk|mass|broadcast|send_?to_?all|all_?users|everyone|"
                           r"all_?contacts|all_?members|notify_?all)$", re.I)


def _value_act(args: Mapping[str, Any]) -> str | None:
    """An argument of a make that asks for an act: a state word that removes or
    switches off (``enforcement: disabled``, ``status: deleted``), a named job, workflow or
    template that removes (``job: destroy-prod-env``, ``workflow: teardown.yml``), or a
    fan-out switched on (``bulk: true``)."""
    def walk(v: Any, key: str, depth: int) -> str | None:
        if depth > 4:
            return None
        if isinstance(v, Mapping):
            for k, x in list(v.items())[:64]:
                if (why := walk(x, str(k), depth + 1)) is not None:
                    return why
            return None
        if isinstance(v, list):
            for x in v[:64]:
                if (why := walk(x, key, depth + 1)) is not None:
                    return why
            return None
        if v is True and _FANOUT_FLAGS.match(key):
            return f"{key} is switched on (a fan-out)"
        if not isinstance(v, str) or key.lower() in _FREE_TEXT_KEYS:
            return None
        w = v.strip()
        if not re.fullmatch(r"[A-Za-z][\w./:-]{1,80}", w) or "://" in w:
            return None
        stem = re.sub(r"\.(?:ya?ml|json|sh|py|groovy|tf)$", "", w.rsplit("/", 1)[-1])
        if verb_class(stem) == "destroy" or re.fullmatch(r"[a-z]+ed", w) and verb_class(
                w, stem=True) in ("destroy", "change"):
            return f"an argument names an act ({key}={w[:40]})"  # a state: disabled, deleted
        return None
    return walk(args, "", 0)


def _make_step_reaches(tool: str, words: set[str], args: Mapping[str, Any]) -> str | None:
    """A tool call or operation with a constructive verb that reaches beyond what it makes:
    access (a key, a member, a group) or money."""
    if words & _ACCESS:
        return f"{tool}: changes who can reach something (a permission, a key, a member)"
    if words & (_PRIVILEGE_WORDS - {"root"}):
        return f"{tool}: makes someone privileged (users.makeAdmin)"
    if words & _MONEY:
        return f"{tool}: moves money"
    if words & _ROUTING:
        return f"{tool}: changes where traffic or mail goes (a DNS record, a route, forwarding)"
    return None


def _names_privilege(args: Any, depth: int = 0) -> bool:
    """An argument value names a privileged role or group (``groupIds: ["admins"]``,
    ``role: owner``)."""
    if depth > 4:
        return False
    if isinstance(args, str):
        v = args.strip()
        return _PRIVILEGED.match(v) is not None or (
            len(v) <= 40 and "@" not in v and "/" not in v and
            len(_tokens(v)) <= 4 and bool(set(_tokens(v)) & _PRIVILEGE_WORDS - {"root"}))
    if isinstance(args, Mapping):
        return any(_names_privilege(v, depth + 1) for k, v in list(args.items())[:64]
                   if str(k).lower() not in _FREE_TEXT_KEYS)
    if isinstance(args, (list, tuple)):
        return any(_names_privilege(v, depth + 1) for v in list(args)[:64])
    return False


_ANSWER_KEYS = frozenset("""response answer final_answer output result summary text message
thought reasoning content""".split())
_FINISH = frozenset("complete finish done respond answer final return reply end".split())


def _finishing(tool: str, args: Mapping[str, Any]) -> bool:
    """An agent's closing pseudo-call (``Complete{'response': ...}``, ``final_answer``): it
    returns words to the caller and acts on nothing."""
    words = set(_tokens(tool))
    return bool(words) and words <= _FINISH | {"task", "tool"} and \
        {str(k).lower() for k in args} <= _ANSWER_KEYS


@lru_cache(maxsize=1)
def _low_value() -> frozenset[str]:
    from mapek.safety.rules.saas import _LOW

    return frozenset(_LOW) | {"branch", "branches"}


_PS_READ_ALIASES = frozenset("""ls dir gci cat gc type echo write select where sort measure ft fl
fw gi gp gm group foreach % ? pwd gl get-location hostname whoami ipconfig ping nslookup
tracert netstat systeminfo tasklist findstr more sls""".split())


def _powershell_or_shell(text: str) -> str | None:
    """A PowerShell script: every statement's command a read cmdlet, a read alias, or a
    program recognised as the shell rules would."""
    for stmt in re.split(r"[;|\n]+", text):
        words = re.findall(r'"[^"]*"|\'[^\']*\'|\S+', stmt.strip())
        if not words:
            continue
        head = words[0].lower().lstrip("&.")
        if head.startswith("$") and "=" in stmt:
            rest = stmt.split("=", 1)[1].strip()
            if not rest or not re.match(r"[A-Za-z]", rest):
                continue
            words = re.findall(r'"[^"]*"|\'[^\']*\'|\S+', rest)
            head = words[0].lower() if words else ""
        if _PS_VERB.fullmatch(words[0]) or "-" in head and head[:1].isalpha():
            why = _powershell(" ".join(words))
            if why is not None:
                return why
            continue
        if head in _PS_READ_ALIASES or head in ("{", "}", "(", ")") or head.startswith("$"):
            continue
        plain = [w.strip("'\"") for w in words]
        why = _command(plain, [False] * len(plain), 1)
        if why is not None or head in _handled():
            return why or f"{head}: a PowerShell command not recognised as a read"
    return None


_TARGET_KEYS = frozenset("""name id path file filename file_path bucket table database db repo
repository resource target cluster namespace project app application service key topic queue
index host dataset instance volume branch org site channel stack workspace environment
folder dir directory zone group account user""".split())


def step_targets(tool: str, args: Mapping[str, Any]) -> tuple[str, ...]:
    """What a step names as its objects, for ownership: the operands of its commands (not
    flags, not verbs) and the values of its object arguments. An unrecognised action is allowed
    only when every one of them is something this run created."""
    from mapek.safety.rules.shellparse import parse_commands

    out: list[str] = []
    for key, value in args.items():
        k = str(key).lower()
        if not isinstance(value, str) or not value.strip():
            continue
        if k in _COMMAND_KEYS and len(value) <= _WHOLE_PARSE:
            for c in parse_commands(value.strip()) or []:
                argv = _peel(list(c.words))[1:]
                while argv and re.fullmatch(r"[a-z]+", argv[0]):
                    argv = argv[1:]  # the subcommand words (``reconcile``, ``job status``)
                skip = False
                for a in argv:
                    if skip:
                        skip = False
                        continue
                    if a.startswith("-"):
                        if "=" in a:
                            out.append(a.split("=", 1)[1])
                        continue
                    if not re.search(r"[/\\:@]", a) and (verb_class(a) is not None or
                                                       a.lower() in _NEUTRAL):
                        continue  # a verb word (``job status``), not a path or an address
                    out.append(a)
        elif k in _TARGET_KEYS and len(value) < 300:
            out.append(value)
    return tuple(dict.fromkeys(t for t in out if t))[:16]
