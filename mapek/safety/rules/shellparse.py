"""Shell read the way the shell reads it: parsed (``bashlex``), not grepped.

The line tokenizer of :mod:`~mapek.safety.rules.shell` sees words; what it cannot see is what the
shell will *build*: a command name assembled by a substitution (``$(echo rm) -rf /srv``,
```printf 'r%s' m` ``, ``$X`` after ``X=rm``, an alias, ``rm${IFS}-rf``, ``{rm,-rf,/srv}``),
a payload decoded into an interpreter (``echo ... | base64 -d | sh``, ``tr`` rot13, ``xxd -r``),
code downloaded into one (``curl ... | bash``, ``bash <(curl ...)``, ``sh -c "$(curl ...)"``,
``iwr ... | iex``), a shell handed to another machine (``/dev/tcp``, ``nc -e``, ``socat exec:``,
``ssh -R``, an interpreter one-liner that opens a socket and runs a shell), and writes to the
files that control a host through ordinary binaries (``tee -a /etc/sudoers``, ``cp`` over a PAM
module, ``>> authorized_keys``, ``chmod u+s``). :func:`scan_structure` parses each script with
``bashlex`` (words with quotes and escapes removed, substitutions as nested commands), resolves
what can be resolved statically (literals assigned, ``echo``/``printf`` substitutions, aliases,
literal base64/hex/rot13 payloads) and screens the resolved command again, and reports:

==========================  ================================================================
rule                        when
==========================  ================================================================
``shell.dynamic-command``   the command's name is built at run time (never ``allow``)
``shell.decoded-exec``      a decoded payload is fed to an interpreter (never ``allow``)
``shell.pipe-to-interpreter``  downloaded code is run (deny from an untrusted source)
``shell.remote-shell``      a shell or a port of this host is handed to another machine
``shell.system-write``      a write to sudoers, passwd/shadow, authorized_keys, PAM, sshd,
                            hosts, cron, systemd units, binaries (other ``/etc`` files: approval)
``shell.setuid``            a setuid/setgid bit set
==========================  ================================================================

A script ``bashlex`` cannot parse (PowerShell, a fragment) is read by a few line patterns for the
same classes; nothing here lowers what the other rules found.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass, field
from functools import lru_cache

from mapek.safety.rules._base import UNRECOGNISED, Finding, PlanState, scan_embedded, snippet

__all__ = ["scan_structure", "Command", "parse_commands", "remote_shell_code", "peel"]

_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish", "ash", "busybox", "csh",
                     "tcsh", "mksh"})
_INTERPRETERS = _SHELLS | frozenset({"python", "python2", "python3", "perl", "ruby", "node",
                                     "nodejs", "php", "lua", "pwsh", "powershell", "iex",
                                     "invoke-expression", "tclsh", "osascript", "deno", "bun"})
_CODE_FLAGS = {"python": ("-c",), "python2": ("-c",), "python3": ("-c",), "perl": ("-e", "-E"),
               "ruby": ("-e",), "node": ("-e", "--eval", "-p"), "nodejs": ("-e", "--eval"),
               "php": ("-r",), "lua": ("-e",), "deno": ("eval",), "bun": ("-e", "--eval")}
_WRAPPERS = frozenset({"sudo", "doas", "env", "nohup", "time", "nice", "ionice", "timeout",
                       "stdbuf", "command", "builtin", "exec", "setsid", "xargs", "watch",
                       "strace", "unbuffer", "caffeinate", "runuser", "chroot", "su"})
_WRAPPER_VALUE_FLAGS = {"sudo": {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"},
                        "env": {"-u", "-C", "-S"}, "nice": {"-n"}, "ionice": {"-c", "-n"},
                        "xargs": {"-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a"},
                        "timeout": {"-s", "-k"}, "runuser": {"-u", "-g"}, "watch": {"-n"}}
_DOWNLOADERS = frozenset({"curl", "wget", "fetch", "iwr", "invoke-webrequest", "irm",
                          "invoke-restmethod", "aria2c", "http", "https", "lwp-request", "get",
                          "lynx", "links", "ftp", "tftp", "scp"})
_DECODERS = frozenset({"base64", "base32", "base58", "xxd", "rev", "uudecode", "gunzip", "zcat",
                       "gzip", "bzip2", "xz", "unxz", "openssl"})
_NET_CLIENTS = frozenset({"nc", "ncat", "netcat", "nc.traditional", "nc.openbsd", "telnet",
                          "socat", "cryptcat", "openssl", "pwncat", "sbd"})
_UNTRUSTED_HOST = re.compile(
    r"https?://(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\])|\bhttp://|"
    r"(?:gist\.githubusercontent|raw\.githubusercontent|pastebin|paste\.ee|hastebin|ghostbin|"
    r"termbin|transfer\.sh|0x0\.st|ngrok|trycloudflare|bit\.ly|tinyurl|is\.gd|"
    r"cdn\.jsdelivr\.net/gh|rentry|controlc|dpaste|justpaste)|"
    r"\.(?:xyz|top|tk|ml|ga|cf|gq|zip|mov|click|sbs|icu|cyou|rest|buzz)(?:[:/]|$)", re.I)
"""A source nobody vouches for: a bare IP, plain http, a paste or gist, a throwaway domain."""
_CONTROL_PATH = re.compile(
    r"^(?:/etc/(?:sudoers(?:\.d(?:/|$)|$)|passwd-?$|shadow-?$|group-?$|gshadow-?$|pam\.d/|"
    r"security/|ssh/sshd_config|ssh/sshd_config\.d/|hosts$|ld\.so\.preload$|ld\.so\.conf|"
    r"cron|crontab$|anacrontab$|systemd/|init\.d/|rc\.local$|profile$|profile\.d/|"
    r"environment$|bash\.bashrc$|polkit|nsswitch\.conf$|audit/|shells$|login\.defs$|"
    r"doas\.conf$|subuid$|subgid$)|/var/spool/cron|/(?:usr/)?lib(?:64)?/(?:x86_64-linux-gnu/)?"
    r"security/|/(?:usr/)?lib/systemd/|/boot/|/(?:usr/(?:local/)?)?s?bin/|/root/|"
    r"(?:~|\$HOME|/home/[^/]+)/\.ssh/authorized_keys|.*/\.ssh/authorized_keys2?$)")
"""Files that decide who may log in, as whom, and what runs at boot: a write to one hands over
the host."""
_SCHEDULE_PATH = re.compile(r"^(?:/etc/(?:cron|crontab$|anacrontab$|systemd/|init\.d/|rc\.local$)|"
                            r"/var/spool/cron|/(?:usr/)?lib/systemd/)")
"""Control files that schedule or start commands: the command written is screened by the
scheduling rules; the write itself needs approval (not a denial of its own)."""
_ADMIN_GRANT = re.compile(
    r"(?i)\bnet\s+localgroup\s+[\"']?administrators[\"']?\s+\S+.*\s/add\b|"
    r"\b(?:append|merge|create)\s+/groups/(?:admin|wheel|root)\s+groupmembership\b|"
    r"\bgroup\s+(?:addmembers|add-?members?)\s+[\"']?(?:domain|enterprise|schema)\s+admins\b|"
    r"\badd-?adgroupmember\b.{0,80}?\b(?:domain|enterprise|schema)\s+admins\b|"
    r"\b(?:gpasswd\s+-a\s+\S+|adduser\s+\S+)\s+(?:sudo|wheel|admin|root)\b")
"""An account added to an administrators group (``dscl . -append /Groups/admin ...``,
``samba-tool group addmembers "Domain Admins" ...``, ``net localgroup administrators x /add``):
it hands over the host or the domain."""
_SYSTEM_PATH = re.compile(r"^/(?:etc|usr|lib|lib64|opt/[^/]+/etc)/")
_PORT_CHECK_FLAGS = frozenset({"-z", "-zv", "-vz", "-zw", "-nz", "-zn", "-vzw", "-zvw"})
_SAFE_RUN_ARGS = frozenset({"--help", "-h", "--version", "-V", "--dry-run", "-n", "--check",
                            "--syntax-check"})


@dataclass
class Command:
    """One simple command as the shell sees it."""

    words: list[str]
    """Words with quotes and escapes removed (substitutions left as written)."""
    dynamic: list[bool]
    """Word ``i`` holds a substitution or a parameter the shell expands at run time."""
    inner: list[list[str]]
    """For word ``i``, the source of each ``$(...)``/backtick/``<(...)`` in it."""
    redirects: list[tuple[str, str]]
    """(operator, target) pairs: ``('>>', '/etc/hosts')``, ``('>&', '/dev/tcp/h/p')``."""
    pipeline: int
    """Which pipeline the command is in (commands of one pipeline share the number)."""
    stage: int
    """Its place in that pipeline (0: the first)."""
    source: str
    heredoc: str = ""
    assignments: list[str] = field(default_factory=list)


def _node_source(text: str, node: object) -> str:
    pos = getattr(node, "pos", None)
    return text[pos[0]:pos[1]] if pos else ""


_QUOTED_DELIM = re.compile(r"<<(-?)\s*(['\"])(\w+)\2")


@lru_cache(maxsize=1024)
def parse_commands(text: str) -> list[Command] | None:
    """Every simple command of ``text``, nested ones included; None when it is not bash.
    (Cached: a plan often repeats a command; callers must not change what is returned.)"""
    import bashlex  # type: ignore[import-untyped]
    import bashlex.errors  # type: ignore[import-untyped]

    errors = (bashlex.errors.ParsingError, NotImplementedError, IndexError, AttributeError,
              TypeError, ValueError, AssertionError, RecursionError)
    try:
        trees = bashlex.parse(text)
    except errors:
        # bashlex does not unquote a here-document's delimiter (<<'EOF'): quoting it only
        # keeps the body from being expanded, and bashlex never reads the body as commands
        unquoted = _QUOTED_DELIM.sub(r"<<\1\3", text) if "<<" in text else text
        if unquoted == text:
            return None
        try:
            trees = bashlex.parse(unquoted)
        except errors:
            return None
    out: list[Command] = []
    counter = [0]

    def walk(node: object, pipeline: int, stage: int) -> None:
        kind = getattr(node, "kind", "")
        if kind == "pipeline":
            counter[0] += 1
            pid = counter[0]
            i = 0
            for part in getattr(node, "parts", []):
                if getattr(part, "kind", "") == "pipe":
                    i += 1
                    continue
                walk(part, pid, i)
            return
        if kind == "command":
            words: list[str] = []
            dynamic: list[bool] = []
            inner: list[list[str]] = []
            redirects: list[tuple[str, str]] = []
            assigns: list[str] = []
            heredoc = ""
            for part in getattr(node, "parts", []):
                pk = getattr(part, "kind", "")
                if pk == "word":
                    subs = [p for p in getattr(part, "parts", [])
                            if getattr(p, "kind", "") in ("commandsubstitution",
                                                          "processsubstitution", "parameter")]
                    words.append(getattr(part, "word", ""))
                    dynamic.append(bool(subs))
                    inner.append([_node_source(text, getattr(p, "command", p)) for p in subs
                                  if getattr(p, "kind", "") != "parameter"])
                    for p in subs:
                        if getattr(p, "kind", "") != "parameter":
                            walk(getattr(p, "command", None), -1, 0)
                elif pk == "assignment":
                    assigns.append(getattr(part, "word", ""))
                    for p in getattr(part, "parts", []):
                        if getattr(p, "kind", "") in ("commandsubstitution",
                                                      "processsubstitution"):
                            walk(getattr(p, "command", None), -1, 0)
                elif pk == "redirect":
                    target = getattr(part, "output", None)
                    t = getattr(target, "word", "") if target is not None else ""
                    if isinstance(target, int):
                        t = f"&{target}"
                    redirects.append((str(getattr(part, "type", "")), t))
                    hd = getattr(part, "heredoc", None)
                    if hd is not None:
                        heredoc = getattr(hd, "value", "") or ""
            out.append(Command(words, dynamic, inner, redirects, pipeline, stage,
                               _node_source(text, node), heredoc, assigns))
            return
        for attr in ("parts", "list"):
            for part in getattr(node, attr, None) or []:
                walk(part, pipeline if kind == "compound" else -1, stage)
        for attr in ("command", "body"):
            sub = getattr(node, attr, None)
            if sub is not None and not isinstance(sub, list):
                walk(sub, -1, 0)

    for tree in trees:
        walk(tree, -1, 0)
    if "<<" in text:
        out.extend(_heredoc_substitutions(text, counter[0]))
    return out


_HEREDOC = re.compile(r"<<-?\s*(\w+)[^\n]*\n(.*?)(?:\n[ \t]*\1[ \t]*(?:\n|$)|$)", re.S)
_SUBST = re.compile(r"\$\(((?:[^()]|\([^()]*\))*)\)|`([^`]*)`")


def _heredoc_substitutions(text: str, pipelines: int) -> list[Command]:
    """The commands an unquoted here-document's body runs as it is expanded (``cat > f <<EOF``
    then ``$(curl ... | sh)`` in the body): bashlex keeps the body as text, the shell does not.
    A quoted delimiter (``<<'EOF'``) keeps the body literal: nothing runs."""
    found: list[Command] = []
    for m in _HEREDOC.finditer(text):
        for sm in _SUBST.finditer(m.group(2)):
            code = sm.group(1) if sm.group(1) is not None else sm.group(2)
            inner = parse_commands(code.strip()) if code and code.strip() else None
            if inner is None:
                continue
            for c in inner:  # numbered apart from the outer pipelines
                found.append(Command(c.words, c.dynamic, c.inner, c.redirects,
                                     c.pipeline + pipelines + 1 if c.pipeline >= 0 else -1,
                                     c.stage, c.source, c.heredoc, c.assignments))
    return found


# --------------------------------------------------------------------------------------------
# static evaluation: what a substitution or a variable would produce, when it is literal
# --------------------------------------------------------------------------------------------

def _printf(fmt: str, args: list[str]) -> str:
    fmt = fmt.replace("\\n", "\n").replace("\\t", "\t").replace("\\0", "")
    pieces = re.split(r"%[-+ #0]*\d*(?:\.\d+)?[sbdcq]", fmt)
    if len(pieces) == 1:
        return fmt.replace("%%", "%")
    out, k = [], 0
    slots = len(pieces) - 1
    while True:
        for i, p in enumerate(pieces):
            out.append(p.replace("%%", "%"))
            if i < slots:
                out.append(args[k] if k < len(args) else "")
                k += 1
        if k >= len(args):
            break
    return "".join(out)


def _rot13_tr(args: list[str]) -> bool:
    a = [x for x in args if not x.startswith("-")]
    return len(a) == 2 and {a[0].replace(" ", ""), a[1].replace(" ", "")} <= {
        "A-Za-z", "N-ZA-Mn-za-m", "a-zA-Z", "n-za-mN-ZA-M", "[A-Za-z]", "[N-ZA-Mn-za-m]"}


def _decode(data: str, cmd: list[str]) -> str | None:
    """What a decoder stage makes of literal ``data`` (None when unknown)."""
    name = cmd[0].rsplit("/", 1)[-1]
    args = cmd[1:]
    try:
        if name in ("base64", "base32") and any(a in ("-d", "--decode", "-D") for a in args) or \
                name == "openssl" and "base64" in args and "-d" in args:
            raw = re.sub(r"\s+", "", data)
            dec = base64.b32decode(raw + "=" * (-len(raw) % 8)) if name == "base32" else \
                base64.b64decode(raw + "=" * (-len(raw) % 4))
            return dec.decode("utf-8", "replace")
        if name == "xxd" and "-r" in " ".join(args):
            return binascii.unhexlify(re.sub(r"[^0-9a-fA-F]", "", data)).decode("utf-8",
                                                                                  "replace")
        if name == "rev":
            return "\n".join(line[::-1] for line in data.split("\n"))
        if name == "tr" and _rot13_tr(args):
            return codecs.encode(data, "rot13")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return None


def _is_decoder(words: list[str]) -> bool:
    if not words:
        return False
    name = words[0].rsplit("/", 1)[-1].lower()
    args = words[1:]
    if name in ("base64", "base32", "base58"):
        return any(a in ("-d", "--decode", "-D") for a in args)
    if name == "xxd":
        return any(a.startswith("-r") for a in args)
    if name == "openssl":
        return "-d" in args and any(a in ("base64", "enc", "aes-256-cbc") for a in args)
    if name == "tr":
        return _rot13_tr(args)
    if name in ("gunzip", "zcat", "uudecode", "unxz"):
        return True
    if name in ("gzip", "bzip2", "xz"):
        return "-d" in args
    return name == "rev"


# --------------------------------------------------------------------------------------------
# the scanner
# --------------------------------------------------------------------------------------------

def peel(words: list[str], *, also: frozenset[str] = frozenset(),
         counts: bool = False) -> list[str]:
    """Wrappers (sudo, env, nohup, timeout...) and assignments removed: the command they run.
    ``also``: more words to take as wrappers (a recogniser reading words without the parser's
    grammar passes the shell's ``then``/``do``/``else``); ``counts``: a number after any wrapper
    is its argument (``watch 5``), not only after ``timeout`` and ``nice``."""
    i = 0
    while i < len(words):
        w = words[i]
        if re.match(r"^[A-Za-z_]\w*=", w):
            i += 1
            continue
        base = w.rsplit("/", 1)[-1]
        if base.lower() in ("cmd", "cmd.exe") and i + 1 < len(words) and \
                words[i + 1].lower() in ("/c", "/k", "/s/c"):
            i += 2  # cmd /c COMMAND: the command cmd runs
            continue
        if base in _WRAPPERS or base in also:
            flags = _WRAPPER_VALUE_FLAGS.get(base, set())
            i += 1
            while i < len(words) and (words[i].startswith("-") or
                                      re.match(r"^[A-Za-z_]\w*=", words[i]) or
                                      (counts or base in ("timeout", "nice"))
                                      and re.match(r"^\d+[smhd]?$", words[i])):
                if words[i] in flags:
                    i += 1
                i += 1
            continue
        break
    return words[i:]


_peel = peel


def _name(words: list[str]) -> str:
    return words[0].rsplit("/", 1)[-1].lower() if words else ""


@dataclass
class _Scope:
    """What the script established as it ran: variables, aliases, downloaded files."""

    variables: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)


_PARAM = re.compile(r"\$\{(\w+)\}|\$(\w+)")


class _Scanner:
    def __init__(self, text: str, state: PlanState) -> None:
        self.text = text
        self.state = state
        self.found: list[Finding] = []
        self.scope = _Scope()

    def add(self, rule: str, cmd: Command | None, targets: tuple[str, ...] = (),
            **kw: object) -> None:
        ev = snippet(cmd.source if cmd is not None and cmd.source else self.text)
        self.found.append(Finding(rule, ev, targets, **kw))  # type: ignore[arg-type]

    def disguised(self, rule: str, cmd: Command | None, resolved: str | None) -> None:
        """A disguise (a built name, an alias, a decoded payload) whose real command the rules
        could resolve: when that command is positively recognised as safe (``alias ll='kubectl
        get ns'``, a decoded ``export HISTSIZE=...``), the disguise is still held for a person,
        but not as a sure finding; anything else stays sure."""
        sure = resolved is None or not resolved.strip() or \
            UNRECOGNISED["shell"](resolved, 1) is not None
        self.add(rule, cmd, certain=sure)

    def rescan(self, line: str, language: str = "shell") -> list[Finding]:
        """Screen a resolved command line (or code) with every rule, one level deeper."""
        if self.state.depth >= 3 or not line.strip():
            return []
        self.state.depth += 1
        try:
            return scan_embedded(language, line, self.state)
        finally:
            self.state.depth -= 1

    # -- evaluation ----------------------------------------------------------------------

    def evaluate(self, source: str) -> str | None:
        """The output of a substitution's command when it is literal (echo, printf, a decode
        of literal text), else None."""
        cmds = parse_commands(source)
        if not cmds:
            return None
        pipe = [c for c in cmds if c.source]
        data: str | None = None
        for c in pipe:
            words = self.resolve_words(c)
            if words is None:
                return None
            words = _peel(words)
            name = _name(words)
            if name == "echo":
                data = " ".join(w for w in words[1:] if w not in ("-n", "-e", "-ne", "-en"))
            elif name == "printf":
                data = _printf(words[1], words[2:]) if len(words) > 1 else ""
            elif data is not None and _is_decoder(words):
                data = _decode(data, words)
                if data is None:
                    return None
            elif name == "cat" and c.heredoc:
                data = c.heredoc
            else:
                return None
        return data

    def resolve_word(self, cmd: Command, i: int) -> str | None:
        w = cmd.words[i]
        if not cmd.dynamic[i]:
            return w
        for src in cmd.inner[i]:
            val = self.evaluate(src)
            if val is None:
                return None
            for form in (f"$({src})", f"`{src}`"):
                if form in w:
                    w = w.replace(form, val.strip())
                    break
            else:
                return None

        def var(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2)
            if name == "IFS":
                return " "
            if name in self.scope.variables:
                return self.scope.variables[name]
            raise KeyError(name)

        try:
            return _PARAM.sub(var, w)
        except KeyError:
            return None

    def resolve_words(self, cmd: Command) -> list[str] | None:
        out: list[str] = []
        for i in range(len(cmd.words)):
            r = self.resolve_word(cmd, i)
            if r is None:
                return None
            out.append(r)
        return out

    # -- the checks ----------------------------------------------------------------------

    def run(self, cmds: list[Command]) -> list[Finding]:
        pipelines: dict[int, list[Command]] = {}
        for c in cmds:
            for a in c.assignments:
                k, _, v = a.partition("=")
                if not re.search(r"\$\(|`", v):
                    self.scope.variables[k] = v
            if c.pipeline >= 0:
                pipelines.setdefault(c.pipeline, []).append(c)
            self.command(c)
        for stages in pipelines.values():
            self.pipeline(sorted(stages, key=lambda c: c.stage))
        return self.found

    def command(self, c: Command) -> None:
        if not c.words:
            self.redirects(c, [])
            return
        words = _peel(c.words)
        k = len(c.words) - len(words)
        if not words:
            self.redirects(c, c.words[:1])  # exec 5<>/dev/tcp/host/port
            return
        first = words[0]
        bare = first
        for src in c.inner[k]:
            bare = bare.replace(f"$({src})", "\0").replace(f"`{src}`", "\0").replace(
                f"<({src})", "\0")
        name_dynamic = c.dynamic[k] and bool(re.search(r"[\0$`]", bare.rsplit("/", 1)[-1]))
        resolved = self.resolve_words(c)
        if name_dynamic:
            built_by_substitution = bool(c.inner[k])
            if resolved is None or built_by_substitution:
                self.disguised("shell.dynamic-command", c,
                               None if resolved is None else " ".join(_peel(resolved)))
            if resolved is not None:
                self.found.extend(self.rescan(" ".join(_peel(resolved))))
            return
        if re.fullmatch(r"\{[^{}\s]+,[^{}\s]+\}", first):  # {rm,-rf,/srv}: brace expansion
            self.add("shell.dynamic-command", c)
            self.found.extend(self.rescan(" ".join(first[1:-1].split(",") + words[1:])))
            return
        name = _name(words)
        if name == "alias":
            for a in words[1:]:
                key, _, val = a.partition("=")
                if val:
                    self.scope.aliases[key] = val
            return
        if name in self.scope.aliases:
            line = " ".join([self.scope.aliases[name], *words[1:]])
            self.found.extend(self.rescan(line))
            self.disguised("shell.dynamic-command", c, line)
            return
        if resolved is not None and resolved != c.words and any(
                "$IFS" in w or "${IFS}" in w for w in c.words):
            self.add("shell.dynamic-command", c)
            self.found.extend(self.rescan(" ".join(" ".join(_peel(resolved)).split())))
            return
        self.payload_args(c, words, k)
        self.redirects(c, words)
        self.network(c, words)
        self.writes(c, words)

    def payload_args(self, c: Command, words: list[str], k: int) -> None:
        """``eval``/``sh -c``/``python -c``/``source`` of something built at run time."""
        name = _name(words)
        flags = _CODE_FLAGS.get(name, ())
        idx: list[int] = []
        if name == "eval":
            idx = list(range(1, len(words)))
        elif name in _SHELLS and "-c" in words:
            idx = [words.index("-c") + 1]
        elif flags:
            idx = [i + 1 for i, w in enumerate(words) if w in flags]
        elif name in ("source", ".", "iex", "invoke-expression"):
            idx = list(range(1, len(words)))
        elif name in _SHELLS or name in _INTERPRETERS:
            idx = [i for i in range(1, len(words)) if c.inner[k + i]]  # bash <(curl ...)
        for i in idx:
            if i >= len(words):
                continue
            j = k + i
            if not c.dynamic[j]:
                if flags and i in idx and name not in _SHELLS:
                    self.code(c, name, words[i])
                continue
            sources = c.inner[j]
            kinds = [self.classify(s) for s in sources]
            if "download" in kinds:
                self.download_run(c, " ".join(sources))
            val = self.resolve_word(c, j)
            if "decode" in kinds and "download" not in kinds:
                self.disguised("shell.decoded-exec", c,
                               val if name in _SHELLS or name in ("eval", "source", ".") else None)
            if val is not None and sources and "download" not in kinds and "decode" not in kinds:
                self.disguised("shell.dynamic-command", c,  # eval "$(printf '%s ' rm -rf ...)"
                               val if name in _SHELLS or name in ("eval", "source", ".") else None)
            if val is not None and (sources or "$" in words[i]):
                if name in _SHELLS or name in ("eval", "source", "."):
                    self.found.extend(self.rescan(val))
                else:
                    self.code(c, name, val)

    def classify(self, source: str) -> str:
        """What a substitution's command does: ``download``, ``decode`` or ``other``."""
        cmds = parse_commands(source) or []
        names = [_name(_peel(c.words)) for c in cmds if c.words]
        if any(n in _DOWNLOADERS for n in names):
            return "download"
        if any(_is_decoder(_peel(c.words)) for c in cmds):
            return "decode"
        return "other"

    def code(self, c: Command, language: str, code: str) -> None:
        """An interpreter one-liner: screened as code (rmtree, unlink, sockets, os.system)."""
        if language.startswith("python") and not any(c.dynamic):
            return  # the python handler of the shell rules reads a literal one
        self.found.extend(self.rescan(code, "code"))

    def download_run(self, c: Command, url_text: str) -> None:
        untrusted = bool(_UNTRUSTED_HOST.search(url_text)) or any(
            _UNTRUSTED_HOST.search(w) for w in c.words)
        self.add("shell.pipe-to-interpreter", c, blast="catastrophic" if untrusted else None)

    def redirects(self, c: Command, words: list[str]) -> None:
        name = _name(words)
        dup = any(op.startswith(">&") or op in ("<&",) or t.startswith("&")
                  for op, t in c.redirects)
        for op, target in c.redirects:
            if re.match(r"^/dev/(?:tcp|udp)/", target):
                interactive = name in _SHELLS and (
                    "-i" in words or dup or any(t.startswith("&") for _, t in c.redirects))
                if name == "exec" or not words and op == "<>" or interactive or (
                        words and name not in _SHELLS and name not in ("cat", "echo", "printf",
                                                                      "timeout", "true", ":")):
                    self.add("shell.remote-shell", c, (target,))
            elif op in (">>", ">", ">|", "&>", ">&") and _CONTROL_PATH.match(target):
                self.add("shell.system-write", c, (target,),
                         blast="opaque" if _SCHEDULE_PATH.match(target) else None)

    def network(self, c: Command, words: list[str]) -> None:
        name = _name(words)
        args = words[1:]
        low = [a.lower() for a in args]
        if name in ("nc", "ncat", "netcat", "nc.traditional", "nc.openbsd", "pwncat", "sbd") or \
                name == "busybox" and low[:1] == ["nc"]:
            if any(a in ("-e", "-c", "--exec", "--sh-exec", "--lua-exec") or
                   re.fullmatch(r"-\w*e", a) and a not in _PORT_CHECK_FLAGS for a in args):
                self.add("shell.remote-shell", c)
        elif name == "socat":
            if any(re.search(r"(?:^|[,!])(?:exec|system):", a, re.I) for a in args):
                self.add("shell.remote-shell", c)
        elif name in ("awk", "gawk", "busybox") and any("/inet/" in a for a in args):
            self.add("shell.remote-shell", c)
        elif name == "ssh":
            for i, a in enumerate(args):
                if a == "-R" or a.startswith("-R") and len(a) > 2 or re.fullmatch(r"-\w*R", a):
                    self.add("shell.remote-shell", c, tuple(args[i + 1:i + 2]))
                    break
        elif name == "xterm" and "-display" in args:
            self.add("shell.remote-shell", c)

    def writes(self, c: Command, words: list[str]) -> None:
        """Ordinary binaries writing the files that control the host."""
        name = _name(words)
        args = words[1:]
        ops = [a for a in args if not a.startswith("-")]
        targets: list[str] = []
        if name == "tee":
            targets = ops
        elif name in ("cp", "mv", "install", "ln", "rsync", "scp") and len(ops) >= 2:
            targets = [ops[-1]]
            if name == "install":
                mode = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "-m"), None)
                mode = mode or next((a.split("=", 1)[1] for a in args if
                                     a.startswith("--mode=")), None)
                if mode and _setuid_mode(mode):
                    self.add("shell.setuid", c, (ops[-1],))
        elif name == "dd":
            targets = [a[3:] for a in args if a.startswith("of=")]
        elif name in ("sed", "perl") and any(a == "-i" or a.startswith(("-i", "-pi")) for a in
                                             args):
            targets = [o for o in ops[1:] if o.startswith(("/", "~"))]
        elif name in ("chmod",) and ops:
            if _setuid_mode(ops[0]):
                self.add("shell.setuid", c, tuple(ops[1:3]))
        elif name in ("chpasswd", "usermod", "useradd", "passwd", "visudo") and (
                name != "visudo" or "-c" not in args):
            if name in ("usermod", "useradd") and any(a in ("-G", "-aG", "-g") for a in args) and \
                    any(g in ("sudo", "wheel", "root", "admin") for g in
                        ",".join(args).split(",")):
                self.add("shell.system-write", c, ("/etc/group",))
            elif name == "chpasswd" or name == "passwd" and ops and not any(
                    a in ("-S", "--status", "-aS", "-Sa") for a in args):  # -S: status only
                self.add("shell.system-write", c, ("/etc/shadow",))
        if _ADMIN_GRANT.search(" ".join(words)):
            self.add("shell.system-write", c, ("an administrators group",))
        for t in targets:
            if _SCHEDULE_PATH.match(t):  # what runs later: screened by its content too
                self.add("shell.system-write", c, (t,), blast="opaque")
            elif _CONTROL_PATH.match(t):
                self.add("shell.system-write", c, (t,))
            elif _SYSTEM_PATH.match(t) and name in ("tee", "cp", "mv", "install", "ln",
                                                    "rsync") and not t.startswith("/etc/mapek"):
                self.add("shell.system-write", c, (t,), blast="opaque")
            elif _SYSTEM_PATH.match(t) and name in ("sed", "perl"):
                # an in-place edit of a system file: it changes how the host runs
                self.add("shell.system-write", c, (t,), blast="destructive")

    def pipeline(self, stages: list[Command]) -> None:
        if len(stages) < 2:
            return
        peeled = [_peel(s.words) for s in stages]
        names = [_name(w) for w in peeled]
        for i in range(1, len(stages)):
            w, name = peeled[i], names[i]
            runs_stdin = name in _INTERPRETERS and _reads_code_from_stdin(name, w)
            earlier = names[:i]
            if runs_stdin and any(_is_decoder(p) for p in peeled[:i]):
                data = self.payload_of(stages[:i])
                self.disguised("shell.decoded-exec", stages[i],
                               data if name in _SHELLS else None)
                if data is not None:
                    self.found.extend(self.rescan(data) if name in _SHELLS else
                                      self.rescan(data, "code"))
            if name in ("sed", "perl") and any(a == "-i" or a.startswith(("-i", "-pi"))
                                                for a in w[1:]) and names[0] == "find":
                roots = [a for a in peeled[0][1:] if not a.startswith("-")][:1]
                if roots and _SYSTEM_PATH.match(roots[0].rstrip("/") + "/"):
                    # find /etc ... | xargs sed -i: every file found is edited in place
                    self.add("shell.system-write", stages[i], (roots[0],), blast="destructive")
            if runs_stdin and any(n in _DOWNLOADERS for n in earlier):
                urls = " ".join(" ".join(p) for p in peeled[:i])
                self.download_run(stages[i], urls)
            if runs_stdin and any(n in _NET_CLIENTS for n in earlier):
                self.add("shell.remote-shell", stages[i])
            if name in _NET_CLIENTS and name != "openssl" and any(
                    n in _SHELLS and _reads_code_from_stdin(n, p) for n, p in
                    zip(earlier, peeled[:i], strict=False)):
                self.add("shell.remote-shell", stages[i])

    def payload_of(self, stages: list[Command]) -> str | None:
        data: str | None = None
        for s in stages:
            words = self.resolve_words(s)
            if words is None:
                return None
            words = _peel(words)
            name = _name(words)
            if name == "echo":
                data = " ".join(w for w in words[1:] if not re.fullmatch(r"-[neE]+", w))
            elif name == "printf":
                data = _printf(words[1], words[2:]) if len(words) > 1 else ""
            elif name == "cat" and s.heredoc:
                data = s.heredoc
            elif data is not None and _is_decoder(words):
                data = _decode(data, words)
            else:
                return None
            if data is None:
                return None
        return data


def _reads_code_from_stdin(name: str, words: list[str]) -> bool:
    """An interpreter that will run what arrives on its standard input."""
    args = words[1:]
    if name in ("iex", "invoke-expression"):
        return True
    if name in _SHELLS:
        if any(a in ("-n", "--noexec") for a in args):
            return False
        if "-c" in args:
            return False
        return not [a for a in args if not a.startswith("-")] or "-s" in args
    ops = [a for a in args if not a.startswith("-") or a == "-"]
    flags = _CODE_FLAGS.get(name, ())
    if any(a in flags for a in args):
        return False
    return not ops or ops[0] == "-"


def _setuid_mode(mode: str) -> bool:
    m = mode.strip()
    if re.fullmatch(r"[0-7]{4}", m):
        return m[0] in "2467"
    return bool(re.fullmatch(r"[ugoa]*[+=][rwxXt]*s[rwxXts]*(?:,.*)?", m))


_SOCKET = re.compile(r"socket\.socket|socket\(|fsockopen|TCPSocket|IO::Socket|\buse\s+Socket\b|"
                     r"net\.Socket|net\.connect|createConnection|/inet/tcp|Socket\.new|"
                     r"socket\.create_connection|new\s+Socket|\bSocket\(", re.I)
_SPAWN = re.compile(r"dup2|pty\.spawn|subprocess|os\.system|popen|\bexec\w*\s*\(|execve|"
                    r"system\s*\(|spawn|/bin/(?:ba|z|da)?sh|cmd\.exe|open\s*\(\s*STDIN|"
                    r"<&\d|>&\d|child_process|IO\.popen|\bsh\s+-i|\bexec\s+[\"']", re.I)


def remote_shell_code(code: str) -> bool:
    """Code that opens a socket and runs a shell (or commands) over it."""
    return bool(_SOCKET.search(code) and _SPAWN.search(code))


_FALLBACK = [
    ("shell.remote-shell", re.compile(r"/dev/(?:tcp|udp)/\S+.*(?:0>&1|>&\s*\d|<&\s*\d)|"
                                      r"\b(?:nc|ncat|netcat)\b[^|;\n]*\s-[ec]\s", re.I)),
    ("shell.pipe-to-interpreter", re.compile(
        r"(?:\b(?:iwr|irm|invoke-webrequest|invoke-restmethod|curl|wget)\b|\.Download"
        r"(?:String|File)\s*\()[^|\n]*\|\s*(?:iex|invoke-expression|(?:sudo\s+)?(?:ba|z|da)?sh"
        r"\b|python3?\s*(?:-\s*)?$)|\biex\s*\(\s*(?:\(\s*)?(?:iwr|irm|invoke-webrequest|New-Object"
        r"\s+Net\.WebClient)", re.I | re.M)),
]


def scan_structure(text: str, state: PlanState) -> list[Finding]:
    """What the shell would build, decode, download, hand over or overwrite (module doc)."""
    if not _GATE.search(text):
        return []
    prepared = re.sub(r"\\\r?\n", " ", text)
    cmds = parse_commands(prepared)
    if cmds is None:
        found = []
        for rule, rx in _FALLBACK:
            m = rx.search(prepared)
            if m is not None:
                untrusted = rule == "shell.pipe-to-interpreter" and bool(
                    _UNTRUSTED_HOST.search(prepared))
                found.append(Finding(rule, snippet(prepared, m.start(), m.end()),
                                     blast="catastrophic" if untrusted else None))
        return found
    return _Scanner(prepared, state).run(cmds)


_GATE = re.compile(
    r"\$\(|`|\$\{?IFS|\$\{?[A-Za-z_]\w*\}?(?=[\s;]|$)|<\(|/dev/(?:tcp|udp)|"
    r"\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:\S*/)?(?:sh|bash|zsh|dash|ksh|fish|python[\d.]*|perl|ruby|"
    r"node|php|lua|iex|invoke-expression|pwsh|powershell|nc|ncat|netcat|telnet|socat)\b|"
    r"\b(?:nc|ncat|netcat|socat|xterm|alias|eval|source|usermod|useradd|chpasswd|passwd|iex|"
    r"invoke-expression)\b|\bssh\b[^|;\n]*\s-\w*R|\b(?:awk|gawk|busybox)\b[^\n]*/inet/|"
    r"\b(?:tee|cp|mv|install|ln|dd|sed|perl|rsync|scp)\b[^\n]*(?:/etc/|/root/|authorized_keys|"
    r"/usr/|/bin/|/sbin/|/lib|/boot/|/var/spool)|>>?\s*[\"']?\S*(?:/etc/|authorized_keys|/root/|"
    r"/usr/|/boot/)|\bchmod\b[^\n]*(?:\b[0-7]?[2467][0-7]{3}\b|[ugoa]*[+=]\w*s)|"
    r"\binstall\b[^\n]*(?:-m|--mode)|\{[^{}\s]+,[^{}\s]+\}|"
    r"\b(?:python[\d.]*|perl|ruby|node|nodejs|php|lua|deno|bun)\b[^\n]*\s(?:-[ceEpr]|--eval)\b|"
    r"(?:^|[;&|]\s*)\.\s|administrators|domain\s+admins|enterprise\s+admins|gpasswd|adduser|"
    r"/groups/(?:admin|wheel)|\bfind\s+/(?:etc|usr|lib|opt|boot)\b[^\n]*\|", re.I | re.M)
"""Characters and commands without which none of these checks can fire."""
