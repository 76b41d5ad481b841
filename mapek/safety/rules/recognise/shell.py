"""Shell commands, and code, the recogniser recognises as safe (:func:`unrecognised_shell`).

Each command of a shell text is recognised by its binary (a single-purpose read or make), the
verb of a known CLI's subcommand, a dry-run or help flag, or PowerShell cmdlet verbs; and it is
not when it removes, writes outside the workspace, sends off the box, installs what was fetched,
or carries a program (``-exec``, ``awk`` ``system()``, ``python -c``). The code reader
(:func:`unrecognised_code`) lives here because the two read each other: a shell command embeds
code, and code runs shell commands.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from functools import lru_cache

from mapek.safety.rules._base import SQL_ARGUMENT
from mapek.safety.rules.recognise.endpoint import (
    _ACCESS,
    _endpoint_act,
    _query_act,
    _url_verb,
    get_names_act,
)
from mapek.safety.rules.recognise.sql import unrecognised_sql
from mapek.safety.rules.recognise.verbs import (
    _BAD_FLAG,
    _CREATED,
    CHANGE_VERBS,
    DESTROY_VERB,
    DESTROY_VERBS,
    READ_VERBS,
    _class_of,
    _first_verb,
    _long_bad_flag,
    _tokens,
    name_verb,
    verb_class,
)
from mapek.safety.rules.shellparse import peel

__all__ = ["unrecognised_shell", "fetched_files", "unrecognised_code"]


_READ_BINS = frozenset("""ls ll dir cat bat less more head tail grep egrep fgrep rg ag ack wc sort
uniq cut tr awk gawk mawk jq yq xq tree du df free uptime ps pgrep top htop w who whoami id
groups uname hostname date cal pwd echo printf true false test [ [[ sleep which whereis type stat
file readlink realpath dirname basename md5sum sha1sum sha256sum sha512sum cksum b2sum base64
base32 xxd od hexdump strings diff cmp comm join paste column fold fmt nl expand tac rev seq env
printenv locale getent last lastlog dmesg lsblk blkid lscpu lsusb lspci lsmod lsof ss netstat
ifconfig ping ping6 traceroute tracepath mtr dig nslookup host whois nproc getconf cd pushd popd
export read exit return shift local declare typeset let expr bc dc man info apropos tldr wait
history vmstat iostat mpstat sar nvidia-smi sensors df-h tput clear-screen set source .
diff3 sdiff colordiff numfmt shuf tee-stdout zcat zgrep zless bzcat xzcat curl wget http https
openssl ssh-keygen-list nc-z pytest tox nox jest mocha vitest phpunit rspec shellcheck hadolint
eslint flake8 pylint mypy ruff black-check isort-check yamllint tflint checkov trivy grype
promtool amtool kubeval kubeconform conftest speedtest iperf iperf3 time hyperfine pv watch
sha1 md5 shasum certutil-list dnsutils drill kdig arp route-n iwconfig lshw dmidecode
smartctl-a hdparm-i sysctl-a atq journalctl systemd-analyze loginctl timedatectl localectl
hostnamectl busctl-list getfacl lsattr namei findmnt mount-l showmount exportfs-v
""".split())
"""Binaries that only read (their destructive flags, like ``sed -i``, are looked at apart)."""

_MAKE_BINS = frozenset("""mkdir touch cp install ln tar zip unzip gzip gunzip bzip2 bunzip2 xz unxz
7z zstd unzstd rsync scp sftp tee mktemp make cmake ninja gcc g++ cc clang go cargo rustc javac
mvn gradle npm npx pnpm yarn pip pip3 pipx uv poetry conda mamba bundle gem composer dotnet
apt apt-get dnf yum brew pacman apk snap flatpak choco winget pg_dump mysqldump mongodump
pg_dumpall pg_basebackup sqlite3-backup ssh-keygen gpg age sed awk-print cmp split csplit
convert ffmpeg pandoc latexmk hugo jekyll mkdocs sphinx-build tsc webpack vite esbuild rollup
black isort prettier gofmt rustfmt terraform-fmt git-add dpkg-query rpm-q sha256 nmap
""".split())
"""Binaries that make or copy (the rules look at what they would overwrite)."""

_VERB_CLIS = frozenset("""git gh glab kubectl oc helm docker podman nerdctl crictl ctr aws gcloud
gsutil bq az terraform tofu pulumi cdk sam serverless sls heroku doctl flyctl fly vercel netlify
firebase supabase wrangler railway render openstack argocd flux kustomize skaffold tilt minikube
kind k3d eksctl ansible ansible-playbook vault consul nomad etcdctl kafka-topics kafka-configs
redis-cli mongosh mongo psql mysql sqlite3 clickhouse-client snowsql cqlsh influx systemctl
service launchctl brew npm yarn pnpm pip poetry cargo go dotnet gem composer apt apt-get dnf yum
snap mc rclone restic borg velero zfs zpool lvm lvremove vgremove btrfs mdadm parted fdisk
sfdisk gdisk wipefs diskutil stripe twilio sendgrid mailchimp shopify-cli salesforce sfdx sf
jira confluence slack-cli okta auth0 gam rails rake bundle django-admin manage.py artisan
php mix flask alembic prisma knex sequelize typeorm liquibase flyway dbt airflow dagster prefect
databricks spark-submit hdfs hadoop gsutil aws-vault sops kubeseal istioctl linkerd cilium
calicoctl velero kopia restic duplicity rsnapshot certbot acme.sh nginx apachectl
haproxy pm2 supervisorctl crontab at ufw iptables nft firewall-cmd ip nmcli resolvectl
machinectl virsh vboxmanage vagrant packer
qm pct lxc incus multipass docker-compose compose cosign crane skopeo oras regctl
gcrane cockroach cryptsetup""".split())
"""CLIs whose subcommand says what they do: the verb decides (a known CLI's unknown verb is
not recognised)."""

_INTERP = frozenset("""sh bash zsh dash ksh fish python python2 python3 perl ruby node nodejs php
lua deno bun pwsh powershell Rscript Rscript.exe julia osascript cscript wscript""".split())
_CODE_FLAGS = frozenset({"-c", "-e", "-E", "--eval", "-r", "-p", "-Command", "-command"})
_SQL_CLIENTS = frozenset("psql mysql mariadb sqlite3 clickhouse-client snowsql cqlsh duckdb "
                         "sqlcmd bq".split())
_SQL_FLAGS = frozenset({"-c", "--command", "-e", "--execute", "-q", "--query", "-Q"})
_KEYWORDS = frozenset({"then", "do", "else"})
"""Shell words the recogniser peels with the wrappers (shellparse's :func:`peel`)."""
_SAFE_FLAGS = ("--help", "-h", "--version", "-V", "-v", "version", "help", "--dry-run", "--dryrun",
               "--what-if", "--whatif", "-whatif", "--noop", "--check", "--diff", "--plan",
               "--list", "-l", "--list-all", "--validate", "--syntax-check", "--print",
               "--server-dry-run", "--dry-run=client", "--dry-run=server")
_HTTP_WRITE_FLAGS = frozenset("""-X --request -d --data --data-raw --data-binary --data-urlencode
-F --form -T --upload-file --json --post-data --post-file --method --body-data""".split())
_SED_INPLACE = re.compile(r"^-(?:[a-zA-Z]*i\S*|-in-place\S*)$")


def _peel(words: list[str]) -> list[str]:
    return peel(words, also=_KEYWORDS, counts=True)


def _subcommands(argv: list[str], n: int = 4) -> list[str]:
    """The leading words of a command that are neither flags nor paths, values or names."""
    out: list[str] = []
    value_of: str | None = None
    for a in argv:
        if len(out) >= n:
            break
        if a == "--":
            break
        if value_of is not None:
            value_of = None  # ``cos objects --bucket acme-claims-archive``: the flag's value,
            if _class_of(a.lower(), False) is None:  # unless the word is a verb by itself
                continue
        if a.startswith("-") or "=" in a or "/" in a or "\\" in a or "@" in a or \
                a[:1].isdigit() or not re.fullmatch(r"[A-Za-z][\w:.-]*", a):
            if out and a.startswith("--") and "=" not in a:
                value_of = a
            continue
        out.append(a)
    return out


_HOST_REACH = re.compile(r"^--?(?:privileged|pid|net|network|ipc|uts|userns|cap-add|device|"
                         r"security-opt|volumes-from)(?:=|$)")


def _container_contained(argv: list[str]) -> bool:
    """``docker run`` that reaches nothing of the host: no privilege, host namespace, device
    or mount of a host path (``-v /:/host``) beyond the work folder and scratch."""
    for i, a in enumerate(argv):
        if _HOST_REACH.match(a):
            return False
        src = ""
        if a in ("-v", "--volume", "--mount") and i + 1 < len(argv):
            src = argv[i + 1]
        elif a.startswith(("--volume=", "--mount=")) or re.match(r"^-v\S", a):
            src = a.split("=", 1)[1] if "=" in a else a[2:]
        if src:
            path = re.sub(r"^.*\bsource=([^,]+).*$", r"\1", src).split(":", 1)[0]
            read_only = bool(re.search(r":ro\b|\breadonly\b|\bro=true\b|,ro\b", src))
            if path.startswith(("/", "~", "$")) and not read_only and not _placed(path) and \
                    not re.match(r"^\$(?:PWD|\{PWD\}|\(pwd\))(?:/|$)", path):
                return False
    return True


def _verb_of_cli(name: str, argv: list[str]) -> str | None:
    words = _subcommands(argv)
    if name == "git" and words and words[0].lower() in ("branch", "tag", "stash", "remote",
                                                         "worktree", "config", "notes"):
        # ``git branch -D x``, ``git tag -d``, ``git stash drop``: the flags and the next verb
        if any(a in ("-d", "-D", "--delete", "-m", "-M", "--unset", "--unset-all",
                     "--remove-section") for a in argv):
            return "destroy"
        rest = [w for w in words[1:] if verb_class(w)]
        if rest:
            return _first_verb(rest)
        if words[0].lower() == "config" and (len([a for a in argv[1:] if not a.startswith(
                "-")]) >= 2 or any(a in ("--add", "--replace-all", "--edit", "-e") for a in argv)):
            return "change"  # git config --global core.hooksPath /x: a setting written
        return "read" if words[0].lower() in ("remote", "config", "worktree", "notes") or \
            len([a for a in argv if not a.startswith("-")]) <= 1 else "make"
    if name == "git" and words and words[0].lower() in ("checkout", "restore", "switch") and \
            any(a in (".", "--", "-f", "--force", "--discard-changes", "-C") for a in argv[1:]):
        return "destroy"
    if name in ("redis-cli",):
        if any(a in ("--scan", "--bigkeys", "--memkeys", "--hotkeys", "--stat", "--latency",
                     "--latency-history", "--intrinsic-latency") for a in argv):
            return "read"
        cmd = [a for a in argv if not a.startswith("-") and not a[:1].isdigit()]
        for w in cmd:
            if w.upper() in _REDIS_READ:
                return "read"
            if w.upper() in _REDIS_ALL:
                return "change"
        return None
    if name in _CONTAINER_CLIS and words[:1] in (["run"], ["create"]):
        return "make" if _container_contained(argv) else None
    verb = _first_verb(words)
    if verb in (None, "read") and name not in ("git", "redis-cli"):
        # ``gcloud alpha kms keys versions destroy``: a removal verb deeper than the words
        # read for the verb, among the words before the first flag, still removes (after a
        # make or change verb it is a name: ``kubectl create job purge``)
        lead_words = _subcommands(argv[:next((i for i, a in enumerate(argv)
                                              if a.startswith("-")), len(argv))], 8)
        if any(_class_of(w.lower(), False) == "destroy" for w in lead_words[1:]):
            verb = "destroy"
    if verb is None and "ssh" in words and any(a.startswith("--command") for a in argv):
        verb = "read"  # gcloud compute ssh vm --command=uptime: the command was read (_carried)
    if verb == "make" and name in _SYSTEM_CLIS:
        verb = "change"  # ip route add, tc qdisc add, nft add rule: a change to the host
    if verb == "make" and any(w.lower() in ("write", "writes") for w in words[:3]):
        verb = "change"  # vault write, defaults write, etcdctl write: a key overwritten
    if verb == "make" and {t for w in words[:3] for t in _tokens(w)} & _SETTINGS:
        verb = "change"  # vercel env add, heroku config:set, gh variable set: how a running
        # thing behaves changes, though something is "added"
    lead = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    if verb is None and not _subcommands(argv[:lead]):
        # kafka-consumer-groups.sh --describe, vault --version: a flag as the verb, when no
        # word before the flags names the act (``cargo yank --version 2``: yank does)
        flags = [a.lstrip("-").split("=", 1)[0].lower() for a in argv if a.startswith("-")]
        classes = [verb_class(f) for f in flags if len(f) > 2]
        if (any(f in READ_VERBS for f in flags) or "read" in classes) and not any(
                c in ("destroy", "change", "make") for c in classes) and not any(
                _BAD_FLAG.match(a.split("=", 1)[0]) for a in argv):
            return "read"  # firewall-cmd --list-all, kafka-topics --describe
    if verb is None and (subs := _subcommands(argv)) and len(subs) <= 2 and \
            re.fullmatch(r"[a-z]{3,}s", subs[-1]) and not subs[-1].endswith("ss") and \
            len([a for i, a in enumerate(argv) if not a.startswith("-") and not (
                i and argv[i - 1].startswith("--") and "=" not in argv[i - 1] and
                a not in subs)]) == len(subs) and \
            not any(_BAD_FLAG.match(a.split("=", 1)[0]) for a in argv):
        return "read"  # crictl images, balena devices: a plural noun alone names its listing
    return verb


_RUNNERS = frozenset("""job jobs command commands execution executions task tasks script scripts
hook hooks trigger triggers cron cronjob cronjobs schedule schedules invocation invocations
runbook runbooks automation automations startup metadata userdata policy-job""".split())
"""What a make verb may make that runs something later or elsewhere (``aws ssm send-command``,
``kubectl create job``, ``aws iot create-job``, ``add-metadata startup-script``): whether that
is safe depends on what it runs, which the rules read only when it is written on the line."""
_MONEY = frozenset("""payout payouts payment payments transfer transfers refund refunds charge
charges disbursement disbursements withdrawal withdrawals wire wires remittance""".split())
"""What a make verb may make that moves money (``stripe payouts create``)."""
_ROUTING = frozenset("""dns route routes routing forwarding forward redirect redirects
nameserver nameservers mx""".split())
"""What a make verb may make that changes where traffic or mail goes."""
_PRIVILEGE_WORDS = frozenset("""admin admins administrator administrators superuser superusers
owner owners root sudo sudoers wheel""".split())
"""Words that name a privileged role or group (``--clusterrole=cluster-admin``, ``--admin``,
``-policy=root``, ``AdministratorAccess``)."""
_TEXT_FLAGS = frozenset("""-m --message --title --body --description --desc --comment --notes
--note --subject --summary --label --name-prefix""".split())
"""Flags whose value is words for a person: what they say is not what the command does."""


def _make_reaches(name: str, low: str, rest: list[str]) -> str | None:
    """A command with a constructive verb that still acts beyond what it makes: it makes
    something that runs (a job, a command sent to machines, a startup script), grants a
    privileged role, or names a removal in its arguments (``--job-id wipe1``,
    ``--document file://factory_reset.json``)."""
    if low in _PACKAGE_CLIS or low in _BUILD_TOOLS or low in ("git", "mkdir", "touch"):
        return None
    subs = _subcommands(rest)
    at = next((i for i, w in enumerate(subs) if verb_class(w) == "make"), len(subs) - 1)
    if {t for w in [name, *subs[:at + 1]] for t in _tokens(w)} & _MONEY:
        return f"{name}: moves money ({' '.join(subs)[:60]})"  # stripe payouts create
    objects = {t for w in subs[:at + 2] for t in _tokens(w)}
    if objects & _RUNNERS:
        return f"{name}: makes something that runs ({' '.join(subs)[:60]}): what it runs is " \
               f"not read"
    skip = False
    for a in rest:
        if skip:
            skip = False
            continue
        flag = a.split("=", 1)[0]
        if flag in _TEXT_FLAGS:
            skip = "=" not in a
            continue
        value = a.split("=", 1)[1] if flag.startswith("-") and "=" in a else a
        parts = [x for x in re.split(r"[=,:/@\s\[\]\"']+", value) if x]
        toks = {t for x in parts for t in _tokens(x)}
        if toks & _PRIVILEGE_WORDS:
            return f"{name}: grants or makes a privileged role ({a[:60]})"
        if flag.startswith("-") and "=" not in a:
            continue
        if any(_class_of(t, False) == "destroy" for t in toks if len(t) > 2):
            return f"{name}: an argument names a removal ({a[:60]})"
    return None


_SETTINGS = frozenset("""env envs environment config configs configuration setting settings
variable variables var vars flag flags parameter parameters param params property properties
attribute attributes feature features toggle toggles""".split())
"""Nouns of a setting: adding or creating one changes how something already running behaves."""
_EMBEDDED_ONLY = frozenset("""cockroach psql mysql mariadb sqlite3 duckdb snowsql cqlsh
clickhouse-client mongosh mongo""".split())
"""Commands whose rule reads only the statements they are given (``cockroach sql -e``): a
removal named by their own subcommand (``cockroach node decommission``) was not judged."""
_SYSTEM_CLIS = frozenset("""ip tc nft iptables ip6tables ebtables route nmcli ethtool brctl
bridge ufw firewall-cmd sysctl modprobe netsh""".split())
"""CLIs that configure the host's network and kernel: adding or linking a route, a rule or a
queue changes how it runs (``ip link set eth0 down`` reads "link" as its first verb)."""
_HOUSEKEEPING = frozenset("gc prune vacuum compact clean cleanup tidy flush evict expire".split())
"""Removal verbs that name no object, only what is unreferenced or old (``git gc``,
``nomad system gc``, ``dvc gc``): whether that loses anything depends on what is kept, so
the judge weighs them."""
_PACKAGE_CLIS = frozenset("""npm-local apt apt-get dnf yum brew pip pip3 pipx uv poetry conda mamba
cargo gem go rustup snap flatpak choco winget pacman zypper apk port pkg opkg""".split())
"""Package managers: removing a package is undone by installing it again."""


def _names_removal(name: str, rest: list[str]) -> bool:
    """A command line whose verb names the removal of an object (``restic forget``, ``npm
    unpublish``, ``flyway clean`` is housekeeping): a CLI-shaped name (``Plan:`` or ``Do`` is
    prose), not a package manager, and a verb that is not housekeeping."""
    from mapek.safety.rules._base import LOCAL_KINDS, LOCAL_VERBS

    if not re.fullmatch(r"[a-z][\w.-]*", name) or name in _PACKAGE_CLIS:
        return False
    subs = _subcommands(rest)
    for i, w in enumerate(subs):
        if verb_class(w) == "destroy":
            toks = set(_tokens(w))
            local = {x.lower() for x in subs[:i + 1]} | toks  # git remote remove, cache purge
            return not toks & _HOUSEKEEPING and not local & (LOCAL_KINDS | LOCAL_VERBS)
    return False


_REDIS_READ = frozenset("""GET MGET KEYS SCAN INFO TTL PTTL TYPE EXISTS HGET HGETALL HKEYS HLEN
LRANGE LLEN SMEMBERS SCARD ZRANGE ZCARD ZSCORE DBSIZE PING MEMORY SLOWLOG CLIENT STRLEN
XRANGE XLEN XINFO CONFIG-GET LASTSAVE TIME ECHO MONITOR ROLE HSCAN SSCAN ZSCAN""".split())
_REDIS_ALL = _REDIS_READ | frozenset("""SET DEL FLUSHALL FLUSHDB UNLINK EXPIRE HSET HDEL LPUSH RPUSH
SADD SREM ZADD ZREM CONFIG SHUTDOWN SAVE BGSAVE RENAME MSET INCR DECR""".split())

_PS_READ = frozenset("""get test measure select where sort group format-table format-list
format-wide out-string out-host write-host write-output write-verbose convertto convertfrom
compare find search show read resolve trace watch tee-object foreach-object import-module
join split start-sleep""".split())
_PS_VERB = re.compile(r"\b([A-Z][a-z]+)-([A-Z][A-Za-z]+)\b")


_WIN_SCRATCH = re.compile(r"^(?:[A-Za-z]:\\(?:temp|tmp|windows\\temp)\\|\$env:te?mp\\|"
                          r"\.\\|\$pwd\\)", re.I)


def _ps_target_placed(text: str, cmdlet: str) -> bool:
    """Every file ``Export-Csv``/``Out-File`` writes is in scratch (``C:\\temp``, ``$env:TEMP``)
    or the work folder, and none is overwritten by force (``-Force`` / ``-Append`` aside)."""
    found = False
    for m in re.finditer(re.escape(cmdlet) + r"\s+(?:-(?:Literal)?Path\s+|-FilePath\s+)?"
                         r"(['\"]?)([^\s'\"|;]+)\1", text, re.I):
        target = m.group(2)
        if target.startswith("-"):
            return False
        if not (_WIN_SCRATCH.match(target) or _placed(target.replace("\\", "/"))):
            return False
        found = True
    return found


def _powershell(text: str) -> str | None:
    """PowerShell (not parsed as bash): recognised when every cmdlet is a read verb."""
    cmdlets = _PS_VERB.findall(text)
    if not cmdlets:
        return "powershell without a recognised cmdlet"
    for verb, noun in cmdlets:
        v = verb.lower()
        if v in ("connect", "disconnect") or v in ("export", "out") and noun.lower() in (
                "csv", "clixml", "file") and _ps_target_placed(text, f"{verb}-{noun}"):
            continue  # a session opened; a read written to a file in scratch or the work tree
        if v in _PS_READ or f"{v}-{noun.lower()}" in _PS_READ or \
                (v in ("format", "out", "convertto", "convertfrom", "write") and
                 noun.lower() in ("table", "list", "wide", "string", "host", "json", "csv",
                                  "output", "verbose", "gridview", "html", "xml")):
            continue
        return f"cmdlet {verb}-{noun} is not a known read"
    return None


def _looks_powershell(text: str) -> bool:
    return bool(_PS_VERB.search(text)) and ("$" in text or "|" in text or "-Path" in text or
                                             text.lstrip()[:1].isupper())


_WHOLE_PARSE = 8_192
"""Scripts up to this size are parsed whole; longer ones line by line."""


def _redirect_placed(target: str) -> bool:
    """Where a ``>`` may write and stay recognised: anything but a kernel or device control
    file (``/proc/sysrq-trigger``, ``/sys/.../delete``, ``/dev/sda``); a null device and the
    standard streams are fine, and other paths the shell rule's overwrite check judges."""
    t = target.strip().strip("'\"")
    if t in ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "-") or \
            re.fullmatch(r"&?-?\d*-?", t):
        return True
    return not re.match(r"^/(?:proc|sys|dev)/", t)  # elsewhere the overwrite rule judges it


_FUNCTION_DEF = re.compile(r"(?:^|[;&|{(\n]|\bfunction)\s*([A-Za-z_][\w-]*)\s*\(\s*\)\s*\{")
"""``name() {``, ``function name() {``: a shell function the script defines."""


def unrecognised_shell(text: str, depth: int = 0) -> str | None:
    """What in a shell script is not recognised as safe (None: every command is)."""
    from mapek.safety.rules.shellparse import parse_commands

    text = text.strip()
    if not text:
        return None
    if len(text) > _WHOLE_PARSE:  # long scripts line by line (bashlex is slow on big input)
        for line in dict.fromkeys(x.strip() for x in text.split("\n")):
            if line and not line.startswith("#"):
                why = unrecognised_shell(line, depth)
                if why is not None:
                    return why
        return None
    cmds = parse_commands(text)
    if cmds is None:
        if _looks_powershell(text):
            return _powershell(text)
        return "a script the shell parser cannot read"
    functions = set(_FUNCTION_DEF.findall(text))
    for c in cmds:
        if functions and c.words and c.words[0] in functions and not any(c.dynamic[:1]):
            continue  # peek b: a function whose body the parser gave as commands, read here
        for op, target in c.redirects:
            if ">" in op and not _redirect_placed(target):
                return f"a redirection writes {target[:60]}"
        fed = next((_written(t) for op, t in c.redirects if op == "<" and _written(t) is not None),
                   None)
        argv = _peel(list(c.words))
        if fed is not None and argv and argv[0].rsplit("/", 1)[-1].lower() in _SQL_CLIENTS and \
                not any(a in _SQL_FLAGS or a.startswith(("--command=", "--execute="))
                        for a in argv[1:]):
            why = unrecognised_sql(fed)  # mysql db < check.sql, the file a step earlier wrote
            if why is not None:
                return why
            continue
        why = _command(c.words, c.dynamic, depth)
        if why is not None:
            return why
    return None


_THOROUGH = frozenset({"kubectl", "oc", "k", "helm", "aws", "gcloud", "gsutil", "az", "terraform",
                       "tofu", "pulumi"})
"""Cloud and cluster CLIs whose rule reads every delete form (backup tools' rules do not: a
``restic forget`` they did not flag is not thereby judged)."""


_GIT_JUDGED = frozenset({"branch", "push", "clean", "reset", "rm", "tag", "filter-branch",
                         "filter-repo"})
"""git subcommands whose destroy forms the git rule reads (``git restore .``, ``git stash
clear``, ``git reflog expire`` it does not)."""
_CONTAINER_CLIS = frozenset("docker podman nerdctl docker-compose".split())
_CONTAINER_JUDGED = frozenset("rm rmi remove prune down kill stop".split())
"""The container rule reads these removals (of containers, images, volumes); another destroy
verb (``podman system reset``, ``docker swarm leave --force``) it did not judge."""
_FILTERS = frozenset("""tr sort uniq cut grep egrep fgrep rg ag ack wc awk gawk mawk sed head tail
cat bat tac rev nl fold fmt column paste join comm diff cmp jq yq xq base64 base32 xxd od hexdump
strings expand numfmt shuf echo printf ls tree du df less more zcat zgrep bzcat xzcat""".split())
"""Read binaries that only filter or list: their flags shape output (``sort --reverse``,
``tr --delete``) and act on nothing."""
_STATE_BAD_SHORT = {"dmesg": "cC", "date": "s", "hwclock": "w", "journalctl": ""}
"""Short flags by which a system-state reader changes the state (``dmesg -C``, ``date -s``)."""


def _state_flag(low: str, rest: list[str]) -> str | None:
    """A system-state reader (journalctl, dmesg, date, hostnamectl...) told to change or remove
    by a long flag or subcommand that names the act (``journalctl --vacuum-size=1K``,
    ``hostnamectl set-hostname``) or by one of its known short flags."""
    if low in _FILTERS:
        return None
    for a in rest:
        if a.startswith("--"):
            name = a[2:].split("=", 1)[0]
            if verb_class(name) in ("destroy", "change") and \
                    _tokens(name)[:1] not in (("no",), ("reverse",)):
                return f"{low} {a.split('=', 1)[0]}: a flag that changes or removes"
        elif re.fullmatch(r"-[A-Za-z]+", a) and set(a[1:]) & set(_STATE_BAD_SHORT.get(low, "")):
            return f"{low} {a}: a flag that changes what it reads"
    if low.endswith("ctl"):
        for w in _subcommands(rest):
            if verb_class(w) in ("destroy", "change"):
                return f"{low} {w}: a subcommand that changes or removes"
    return None


_BUILD_TOOLS = frozenset("make just ninja gradle mvn rake task invoke nox tox bazel".split())
_REMOVERS = frozenset("rm unlink rmdir shred srm del erase rd remove-item ri".split())
_COPIERS = frozenset("cp mv install ln rsync scp tar unzip tee dd".split())
_CLOUD_REMOVALS_READ = {"gcloud": frozenset({"delete", "rm"}), "az": frozenset({"delete", "purge"}),
                        "gsutil": frozenset({"rm", "rb"}), "aws": frozenset({"rm", "rb"})}
"""The removal forms each cloud CLI's rule reads (and ``delete-*`` for aws and az): there a
removal it did not flag was judged (a single object, a tag); any other removal verb of the CLI
was not read at all."""
_JUDGED: ContextVar[bool] = ContextVar("judged", default=False)
"""Whether a destructive rule found anything in the step screened (even only the plan's own
targets). A removal verb of a CLI whose rule reads removals is left to that rule only when the
rule did find something: a form it does not read (``gcloud kms keys versions destroy``) is no
judged target, and is recognised as a removal instead."""
_WRITTEN: ContextVar[Mapping[str, str] | None] = ContextVar("written", default=None)
"""Files earlier steps of the plan wrote, with their content (``PlanState.written``)."""


def _written(path: str) -> str | None:
    """What the plan wrote into ``path`` in an earlier step, if it did."""
    p = path.strip("'\"")
    got = _WRITTEN.get() or {}
    if p in got:
        return got[p]
    if p.startswith("./") and p[2:] in got:
        return got[p[2:]]
    return got.get("./" + p) if not p.startswith("/") else None


_FETCHED: ContextVar[frozenset[str]] = ContextVar("fetched", default=frozenset())
"""Files the plan downloaded (``curl -o x.apk URL``) in this or earlier steps: installing one
installs software from a host the rules cannot vouch for."""


_ARTEFACT = r"\.(?:o|obj|pyc|pyo|class|a|so\.tmp|tmp|swp|bak~)$"


def _placed(path: str, *, strict: bool = False) -> bool:
    """A path the rules can place as harmless to touch: scratch, regenerable, a null device,
    created by the plan, or (unless ``strict``: for a delete) relative to the work folder."""
    from mapek.safety.rules._base import classify_path, norm_target

    p = path.strip("'\"")
    if not p or p.startswith("$"):
        return False
    cls = classify_path(p)
    if cls in ("scratch", "regenerable", "null"):
        return True
    parts = p.replace("\\", "/").split("/")
    if not p.startswith(("/", "~")) and (any(classify_path(x) == "regenerable" for x in parts[:-1])
                                         or re.search(_ARTEFACT, parts[-1])):
        return True  # build/*.o, dist/app.js, a compiled artefact
    t = norm_target(p)
    if any(t == c or t.startswith(c + "/") for c in _CREATED.get()):
        return True
    return not strict and cls == "path" and not p.startswith(("/", "~", "\\")) and \
        not re.match(r"^[A-Za-z]:", p) and not (t == ".." or t.startswith("../"))


def _removes(name: str, rest: list[str]) -> str | None:
    """rm and its kin: recognised only when every target is placed (scratch, regenerable,
    made by the plan) or inside the work folder; the rm rule judges the rest."""
    ops = [a for a in rest if not a.startswith("-") or a == "-"]
    if ops and all(_placed(a, strict=True) for a in ops):
        return None
    return f"{name} removes {' '.join(ops)[:60] or 'what it is given'}"


_KNOWN_REMOTES = frozenset({"origin", "upstream"})
"""The remotes a clone names for its own project (``git push origin``); a push to a URL or to
any other remote (one added a moment earlier) hands the code to whoever holds it."""
_REMOTE_STORE = re.compile(r"^(?:s3|gs|az|abfss?|wasbs?|r2|b2|oss|cos)://[^/]+|^[\w-]+:(?!//)\S*$")
"""A location in a remote store: a bucket URL, or an rclone ``remote:path``."""
_REMOTE_HOST = re.compile(r"^(?:[\w.-]+@)?[\w.-]+:(?!//)")
"""scp's and rsync's ``[user@]host:path``."""


_SENSITIVE = re.compile(r"(?i)dump|\.sql\b|backup|export|secret|\.env\b|credential|\.pem\b|"
                        r"\.key\b|\.p12\b|\.pfx\b|customer|\busers?\b|\bpii\b|passwd|"
                        r"shadow|id_rsa|id_ed25519|keystore|vault|token")
"""What a file's name says it holds that is not for another's store: a database dump or
export, a backup, keys and secrets, customers' data."""


def _store_of(loc: str) -> str:
    m = re.match(r"^([a-z0-9]+://[^/]+)", loc) or re.match(r"^([\w-]+):", loc)
    return m.group(1).lower() if m else loc


def _writes_outside(low: str, rest: list[str]) -> str | None:
    """A copy, move, link or extraction whose destination is outside the places the rules
    can place (``tar -xf b.tar -C /``, ``cp -r new/* /srv/www/``): it overwrites what is there."""
    if low not in _COPIERS and low not in ("aws", "gsutil", "gcloud", "az", "rclone"):
        return None
    dest: str | None = None
    for i, a in enumerate(rest):
        if a in ("-C", "--directory", "-d", "-t", "--target-directory", "--exdir") and \
                i + 1 < len(rest) and low in ("tar", "unzip", "cp", "mv", "install"):
            dest = rest[i + 1]
        elif a.startswith(("--directory=", "--target-directory=")):
            dest = a.split("=", 1)[1]
        elif low == "dd" and a.startswith("of="):
            dest = a[3:]
    ops = [a for a in rest if not a.startswith("-") and "=" not in a]
    if low in ("aws", "gsutil", "gcloud", "az", "rclone"):
        # their rules read cloud deletes; a copy from one remote store into another hands the
        # data to whoever holds the other (s3://prod-pii/ to s3://partner/)
        locs = [a for a in ops if _REMOTE_STORE.match(a)]
        if len(locs) >= 2 and _store_of(locs[0]) != _store_of(locs[-1]):
            return f"{low} copies from one store into another ({locs[-1][:60]})"
        local = [a for a in ops if not _REMOTE_STORE.match(a) and ("/" in a or "." in a)]
        if locs and local and ops.index(locs[-1]) > ops.index(local[0]) and \
                _SENSITIVE.search(local[0]) and any(
                    w in ("cp", "mv", "sync", "copy", "copyto", "move", "moveto", "rsync",
                          "upload", "upload-batch") for w in ops[:4]):
            return f"{low} uploads {local[0][:40]} (a dump, an export or secrets) to " \
                   f"{locs[-1][:60]}, a store the rules cannot read as ours"
        return None
    if dest is None and low in ("cp", "mv", "install", "ln", "rsync", "scp") and len(ops) >= 2:
        dest = ops[-1]
    if dest is not None and low in ("scp", "rsync") and _REMOTE_HOST.match(dest) and \
            not all(_placed(a) for a in ops[:-1]):
        return f"{low} copies {ops[0][:40]} to another host ({dest[:60]})"
    if dest is None and low == "tee":
        for a in ops:
            if not _placed(a):
                return f"tee writes {a}"
        return None
    if dest is None and low == "tar" and any(re.fullmatch(r"-?[a-zA-Z]*x[a-zA-Z]*", a) or
                                             a == "--extract" for a in rest[:2]):
        dest = "."
    if dest is None or _placed(dest) or ":" in dest and low in ("scp", "rsync"):
        return None
    return f"{low} writes into {dest}"


_FETCH_OUT = re.compile(
    r"\b(?:curl|wget|aria2c|axel|http|xh|iwr|invoke-webrequest|start-bitstransfer|fetch)\b"
    r"[^\n;&|]*?(?:https?|ftp)://[^\s'\"]+", re.I)
_OUT_FLAG = re.compile(r"(?:(?-i:\s-o)\s*|(?-i:\s-O)\s+|\s--output(?:-document)?[=\s]|"
                       r"\s-OutFile\s+|\s-Destination\s+|\s-P\s+|\s--dir[=\s]|\s>\s*)(['\"]?)([^\s'\";&|]+)\1",
                       re.I)
_URL_FILE = re.compile(r"(?:https?|ftp)://[^\s'\"]*/([\w.+-]+\.[A-Za-z0-9]{2,8})(?=[\s'\"?#]|$)")


def fetched_files(text: str) -> set[str]:
    """Files a command in ``text`` downloads from a URL: the output named by ``-o``/``-O``/
    ``-OutFile``/a redirection, or the URL's own file name (``wget URL/agent.deb``), as full
    paths and base names."""
    out: set[str] = set()
    for m in _FETCH_OUT.finditer(text):
        end = text.find("\n", m.end())
        seg = re.split(r"&&|\|\||;|\|", text[m.start():end if end >= 0 else len(text)])[0]
        for o in _OUT_FLAG.finditer(" " + seg):
            out.add(o.group(2))
        for u in _URL_FILE.finditer(seg):
            out.add(u.group(1))
    return out | {f.rsplit("/", 1)[-1] for f in out}


_PKG_FILE = re.compile(r"\.(?:apk|apks|aab|xapk|deb|rpm|msi|msix|msixbundle|appx|appxbundle|"
                       r"exe|pkg|mpkg|dmg|whl|egg|gem|vsix|snap|flatpak|flatpakref|ipa|jar|"
                       r"tgz|tar\.gz|crx|xpi|nupkg|run|bin|AppImage)$", re.I)
_INSTALL_WORDS = frozenset("""install install-multiple install-multi-package sideload add i
localinstall reinstall -i --install -U --upgrade -ivh -Uvh -i --force-install""".split())


_SYSTEM_INSTALLERS = frozenset("""adb pm cmd dpkg rpm apt apt-get dnf yum zypper msiexec
installer add-appxpackage snap flatpak pkg""".split())
"""Installers onto the host's system or onto a device: a package file is vouched for only when
the work tree built it (``app/build/outputs/apk/debug/app-debug.apk``) or the plan made it."""


def _built(path: str) -> bool:
    from mapek.safety.rules._base import classify_path, norm_target

    p = path.strip("'\"")
    parts = p.replace("\\", "/").split("/")
    if not p.startswith(("/", "~", "$")) and any(classify_path(x) == "regenerable"
                                                   for x in parts[:-1]):
        return True
    t = norm_target(p)
    return any(t == c or t.startswith(c + "/") for c in _CREATED.get())


def _is_fetched(arg: str) -> bool:
    a = arg.strip("'\"")
    got = _FETCHED.get()
    return a in got or a.rsplit("/", 1)[-1] in got and bool(_PKG_FILE.search(a))


def _installs_unvouched(low: str, rest: list[str]) -> str | None:
    """Software installed from a source the rules cannot vouch for: a package given as a URL
    (``pip install https://...``, ``npm i git+https://...``), or a package file the plan
    downloaded (``curl -o h.apk URL && adb install h.apk``), or one from outside the work
    folder (``dpkg -i ~/Downloads/x.deb``), onto this host or a device. Installs from the
    configured registries by name are left to the verb (``pip install requests``)."""
    words = [a for a in rest if a.strip()]
    if low in ("adb", "pm", "cmd") or low == "msiexec" or low in ("installer", "add-appxpackage"):
        pass
    elif not any(w.lower() in _INSTALL_WORDS or re.fullmatch(r"-[a-zA-Z]*[iU][a-zA-Z]*", w)
                 and low in ("dpkg", "rpm") for w in words[:4]) and not (
            low == "msiexec" or low.startswith("add-appx")):
        return None
    if low in ("adb",) and not any(w.lower() in ("install", "install-multiple", "sideload",
                                                 "install-multi-package") for w in words):
        return None
    if low in ("pm", "cmd") and "install" not in words:
        return None
    for a in words:
        bare = a.strip("'\"")
        if "=" in bare and bare.startswith("-"):
            bare = bare.split("=", 1)[1]
        if re.match(r"^(?:git\+|hg\+|svn\+|bzr\+)?(?:https?|ftp)://", bare, re.I):
            host = re.sub(r"^(?:\w+\+)?\w+://(?:[^@/]*@)?", "", bare).split("/", 1)[0]
            if low in ("pip", "pip3", "uv", "pipx", "poetry") and host in (
                    "pypi.org", "files.pythonhosted.org") or low in ("npm", "yarn", "pnpm") and \
                    host == "registry.npmjs.org":
                continue
            return f"{low} installs software from a URL ({bare[:60]})"
        if _PKG_FILE.search(bare) and (_is_fetched(bare) or not _placed(bare) or
                                       re.search(r"(?i)downloads?[/\\]", bare) or
                                       low in _SYSTEM_INSTALLERS and not _built(bare)):
            return f"{low} installs a package the plan downloaded or that lies outside the " \
                   f"work folder ({bare[:60]})"
        if low == "msiexec" and re.match(r"^[/-][ipaxj]", bare, re.I):
            continue
    if low == "msiexec":
        return "msiexec installs a package the rules cannot vouch for"
    return None


_OURS_HOST = re.compile(
    r"^(?:localhost|127\.\d+\.\d+\.\d+|::1|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|"
    r"172\.(?:1[6-9]|2\d|3[01])\.\d+\.\d+|[a-z][\w-]*|"
    r"[\w.-]+\.(?:internal|intranet|lan|local|localdomain|corp|home\.arpa|svc|cluster\.local|"
    r"priv|private|ts\.net))$", re.I)
"""A host the rules read as the project's own network: loopback, a private address, a bare
host name (resolved by the local network's own names: ``backup01``), or a name under an
internal suffix (``backup01.internal.acme``... ``.internal``, ``.lan``, ``.corp``)."""


def _host_of(loc: str) -> str:
    h = re.sub(r"^\w+://", "", loc)
    h = h.split("/", 1)[0]
    h = h.rsplit("@", 1)[-1]
    if h.startswith("["):
        return h[1:].split("]", 1)[0]
    return h.split(":", 1)[0]


def _ours(host: str) -> bool:
    h = host.lower().strip("'\"")
    return bool(_OURS_HOST.match(h)) or bool(re.search(
        r"\.(?:internal|intranet|lan|local|corp|priv)(?:\.[\w-]+)*$", h) and "." in h)


_UPLOADERS = frozenset("scp rsync sftp lftp ftp tftp ncftpput smbclient rclone".split())


def _sends_off_box(low: str, rest: list[str]) -> str | None:
    """Data copied off this machine to a host the rules cannot read as ours (``scp dump
    ops@203.0.113.7:/srv/``, ``rsync -a /var/backups/ u@198.51.100.2:``, ``sftp`` or ``curl
    -T`` to a public address). The direction matters: a copy *from* another host is a read."""
    ops = [a for a in rest if not a.startswith("-")]
    if low in ("scp", "rsync") and len(ops) >= 2:
        dest = ops[-1]
        if _REMOTE_HOST.match(dest) and not re.match(r"^[A-Za-z]:[\\/]", dest) and \
                not dest.startswith(("/", "./", "~")):
            host = _host_of(dest)
            if not _ours(host) and not all(_REMOTE_HOST.match(s) for s in ops[:-1]):
                return f"{low} copies {ops[0][:40]} off this machine to {host[:60]}, a host " \
                       f"the rules cannot read as ours"
        return None
    if low in ("sftp", "lftp", "ftp", "tftp", "ncftpput", "smbclient"):
        hosts = [_host_of(a) for a in ops if re.search(r"[\w-]\.[\w-]|@|://|^//", a)]
        if low == "smbclient":
            hosts = [a.lstrip("/").split("/", 1)[0] for a in ops if a.startswith("//")]
        if any(not _ours(h) for h in hosts if h):
            return f"{low} to {next(h for h in hosts if h and not _ours(h))[:60]}, a host the " \
                   f"rules cannot read as ours"
        return None
    return None


_LOADERS = frozenset("""ogr2ogr shp2pgsql raster2pgsql pg_restore mongorestore mongoimport
mysqlimport csvsql sqlldr bcp gpload psql-load pgloader influx dbt""".split())
_LOAD_WORDS = frozenset("""load loads import imports restore restores ingest ingests upload
uploads copy cp put sync push write writes insert append publish seed""".split())
_OVERWRITE_FLAG = re.compile(
    r"^--?(?:overwrite|replace|drop|clean|truncate|recreate|drop[-_]?(?:existing|tables?|"
    r"collections?|database|db|schema|first)|delete[-_]?existing|truncate[-_]?(?:table|first)|"
    r"force[-_]?overwrite|overwrite[-_]?\w+|full[-_]?refresh)(?:=(?:true|1|yes))?$|"
    r"^--?(?:if[-_]exists|mode|write[-_]disposition|save[-_]?mode|on[-_]conflict)="
    r"(?:replace|overwrite|write_truncate|drop)$", re.I)
"""A flag that makes a load replace what is there (``ogr2ogr -overwrite``, ``pg_restore
--clean``, ``bq load --replace``, ``mongoimport --drop``, ``--if-exists=replace``)."""
_SECRET_WORDS = frozenset("""secret secrets secretsmanager credential credentials password
passwords passwd keyvault token tokens apikey privatekey""".split())
_REVEALS = frozenset("""get show access read reveal decrypt value values cat print view export
download unwrap""".split())
_SECRET_FILE = re.compile(
    r"(?:^|/)(?:\.aws/credentials|\.netrc|\.pgpass|\.my\.cnf|\.git-credentials|"
    r"\.docker/config\.json|\.kube/config|\.vault-token|\.npmrc|\.pypirc|"
    r"id_(?:rsa|dsa|ecdsa|ed25519)|shadow|gshadow|[\w.-]*\.(?:pem|key|p12|pfx|jks|keystore|"
    r"kdbx)|\.env(?:\.(?!example|sample|template|dist)[\w-]+)?|(?:[\w-]*[-_.])?"
    r"(?:credentials|secrets?)(?:\.(?:json|ya?ml|env|txt|ini|toml))?|"
    r"service[-_]?account[\w.-]*\.json)$", re.I)
"""A file that holds keys or passwords (``~/.aws/credentials``, ``id_ed25519``, ``.env``,
``tls.key``, ``secrets.yaml``): printing it puts the secret into the transcript."""
_SECRET_VAR = re.compile(r"\$\{?\w*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|"
                         r"ACCESS_?KEY)\w*", re.I)
_PRINTERS = frozenset("""cat less more head tail bat type strings xxd od hexdump base64 nl tac
get-content gc""".split())
_PERSONAL = re.compile(
    r"(?i)(?:^|[^a-z0-9])(?:personal|private[-_]?(?:drive|cloud|box)|dropbox|mega|icloud|pcloud|"
    r"onedrive[-_]?personal|home[-_]?(?:nas|pc|drive|server|backup)|laptop|my[-_]?(?:drive|"
    r"laptop|backup|cloud|stuff|files)|gmail|protonmail|outlook\.com|yahoo)(?:[^a-z0-9]|$)")
"""A destination that names a person's own store (``gdrive-personal:``, ``dropbox:``,
``s3://jdoe-personal/``, ``home-nas:``): a copy there takes the data out of the
organisation's hands."""
_KNOWN_PUBLISHERS = frozenset("""library bitnami grafana prom hashicorp amazon amazonlinux google
microsoft mcr circleci cimg docker moby apache elastic confluentinc redis mongo postgres
nginx nginxinc traefik jetbrains selenium cypress localstack minio rancher portainer
gitlab openjdk eclipse-temurin paketobuildpacks python node golang ubuntu debian alpine
fedora centos rockylinux mysql mariadb busybox curlimages kindest testcontainers jenkins
sonarqube datadog newrelic otel openpolicyagent aquasec bats hadolint koalaman
pytorch tensorflow nvidia huggingface jupyter mcp ollama vault consul envoyproxy
istio kong timberio fluent clickhouse cockroachdb influxdb neo4j rabbitmq
bitwardenrs containrrr linuxserver""".split())
_CONTAINER_VALUE_FLAGS = frozenset("""-v -e -p -w -u -l -m -h -c --name --volume --env --publish
--workdir --user --label --memory --hostname --network --net --entrypoint --mount --env-file
--platform --cpus --restart --add-host --dns --gpus --ulimit --log-driver --log-opt --cap-add
--cap-drop --device --tmpfs --shm-size --pull --cidfile --ipc --pid --security-opt
--stop-signal --health-cmd --cpu-shares --link --expose --group-add --runtime
--label-file --volumes-from""".split())


_LOAD_INTO = frozenset("""-nln --table -t --collection -c --target-table --destination-table
--destination_table --into --dest-table""".split())


def load_destination(text: str) -> tuple[str, ...]:
    """The tables or collections an overwriting load names (``ogr2ogr ... -nln roads
    -overwrite``: ``roads``), for ownership: what it replaces, not the file it reads."""
    import shlex

    try:
        argv = shlex.split(text[:4000])
    except ValueError:
        return ()
    if not any(_OVERWRITE_FLAG.match(a) for a in argv):
        return ()
    out = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in _LOAD_INTO]
    out += [a.split("=", 1)[1] for a in argv if a.split("=", 1)[0] in _LOAD_INTO and "=" in a]
    return tuple(out)


def _image_of(rest: list[str]) -> str | None:
    """The image a ``docker run``/``create`` names: its first operand after the flags."""
    skip = False
    for a in rest[1:]:
        if skip:
            skip = False
            continue
        if a.startswith("-"):
            skip = a in _CONTAINER_VALUE_FLAGS
            continue
        return a
    return None


def _unknown_publisher(image: str) -> bool:
    """An image on Docker Hub under a namespace no known publisher uses (``randomguy/miner``):
    whoever owns the account decides what runs. An official image (``python:3.12``), a known
    vendor's (``bitnami/redis``) or one from a registry host (``ghcr.io/acme/api``,
    ``registry.internal:5000/x``, an account's ECR) is not."""
    ref = image.split("@", 1)[0]
    parts = ref.split("/")
    if len(parts) == 1:
        return False  # an official image
    first = parts[0].lower()
    if first in ("docker.io", "index.docker.io", "registry-1.docker.io") and len(parts) > 2:
        parts, first = parts[1:], parts[1].lower()
    elif "." in first or ":" in first or first == "localhost":
        return False  # a registry host: the organisation's own or a named vendor's
    return first not in _KNOWN_PUBLISHERS and not re.search(r"\$|\{", first)


def _script_reads(script: str, args: list[str]) -> bool:
    """A script named for a read (``bom_diff``, ``trips_report``), or a dispatcher with a
    neutral name (``run``, ``console``) given a read as its first word (``run.php
    showSiteStats``, ``run.php dumpBackup``)."""
    said = verb_class(script, stem=True)
    if said == "read":
        return True
    subs = _subcommands(args, 1)
    return said is None and script.lower() in ("run", "cli", "console", "tool", "tools",
                                                "main", "admin", "maintenance") and \
        bool(subs) and verb_class(subs[0], stem=True) == "read"


_HINT = re.compile(r"load|import|restore|ingest|upload|copy|cp|put|sync|push|write|insert|"
                   r"append|publish|seed|secret|credential|password|passwd|keyvault|token|"
                   r"apikey|privatekey|mirror|move|mv|rsync|scp|ftp|smb|clone")
"""Words a command must contain somewhere for :func:`_hands_over` to split its words (a
cheap filter: most commands name no load, copy or secret)."""
_TOOL_READ_NAMES = frozenset("""mosquitto_sub xmllint iptables-save ip6tables-save postqueue
iptables ip6tables pfctl qm pct cast""".split())
_CAST_READS = frozenset("""call balance block block-number chain-id nonce code codesize storage
receipt tx gas-price abi-decode calldata-decode to-wei from-wei sig keccak age basefee
estimate""".split())


def _tool_read(low: str, rest: list[str]) -> bool:
    """Single tools whose read forms the rules know by name: ``mosquitto_sub`` (subscribes
    and prints), ``xmllint`` with no ``--output``, ``iptables-save`` to stdout, ``postqueue
    -p``, Foundry's ``cast call`` (an ``eth_call``: no transaction; ``cast send`` sends)."""
    flags = [a.split("=", 1)[0] for a in rest if a.startswith("-")]
    if low == "mosquitto_sub":
        return not any(re.search(r"remove|retain(?!ed-only)|clear", f) for f in flags)
    if low == "xmllint":
        return not any(f in ("--output", "-o") for f in flags)
    if low in ("iptables-save", "ip6tables-save"):
        return not any(f in ("-f", "--file") for f in flags)
    if low == "postqueue":
        return bool(flags) and all(f in ("-p", "-j") for f in flags)
    if low in ("iptables", "ip6tables"):
        # iptables -L -n -v --line-numbers, -S, -t nat -nvL: the rules listed, nothing changed
        ok = {"-L", "-S", "-n", "-v", "-x", "--list", "--list-rules", "--line-numbers",
              "--numeric", "--verbose", "--exact", "-t", "--table"}
        short = [a for a in rest if re.fullmatch(r"-[LSnvx]+", a)]
        listed = any("L" in a or "S" in a for a in short) or any(
            a in ("--list", "--list-rules") for a in rest)
        return listed and all(f in ok or re.fullmatch(r"-[LSnvx]+", f) for f in flags)
    if low == "pfctl":
        return bool(flags) and all(re.fullmatch(r"-s\w+|-v+|-n|-g", f) for f in flags) and \
            any(f.startswith("-s") for f in flags)
    if low in ("qm", "pct"):
        subs = _subcommands(rest, 1)
        return bool(subs) and subs[0] in ("config", "status", "list", "pending",
                                          "listsnapshot") and not any(
            f not in ("--current", "--snapshot", "--full", "--verbose") for f in flags)
    if low == "cast":
        subs = _subcommands(rest, 1)
        return bool(subs) and subs[0] in _CAST_READS and not any(
            f in ("--private-key", "--unlocked", "--ledger", "--trezor", "--keystore")
            for f in flags)
    return False


def _hands_over(name: str, low: str, rest: list[str], handled: bool) -> str | None:
    """Round 5: what a command hands over or replaces that its verb does not say: a load that
    overwrites (``-overwrite``, ``--drop``), SQL carried by any CLI, a rewrite named by two
    verbs (``search-replace``), a copy to a person's own store, a secret printed, an image of a
    publisher nobody vouched for run, ``docker push`` of ``:latest``, ``aws s3 rm`` of one
    object. A removal is returned with :data:`DESTROY_VERB` (recognised, sure); the rest is
    held for the judge or a person."""
    subs = _subcommands(rest, 6)
    said = f"{low} {' '.join(subs)}".lower()
    words = {t for w in [low, *subs] for t in _tokens(w.lower())} if _HINT.search(said) else \
        set()
    ops = [a for a in rest if not a.startswith("-")] if rest else []
    if low not in _READ_BINS and low not in _MAKE_BINS and \
            low not in ("git", "kubectl", "oc", "helm", "terraform", "tofu", "docker", "podman"):
        if low in _LOADERS or words & _LOAD_WORDS:
            flag = next((a for a in rest if _OVERWRITE_FLAG.match(a)), None)
            if flag is not None:
                return f"{name}: {DESTROY_VERB} ({flag}: a load that replaces what is there)"
        if low not in _SQL_CLIENTS and low not in _FILTERS and low not in ("echo", "printf") and \
                (sql := next(
                (a for a in rest[:64] if SQL_ARGUMENT.match(a)), None)) is not None and \
                (why := unrecognised_sql(sql)) is not None:
            return f"{name} runs SQL: {why}"
        for w in subs[:3]:
            if not re.fullmatch(r"[a-z]+(?:[-_][a-z]+)+", w.lower()):
                continue  # route:list, db:migrate:status: a namespace, then the verb
            toks = [x for x in re.split(r"[-_]", w.lower()) if x not in ("and", "then")]
            classes = [_class_of(x, False) for x in toks]
            if len(toks) > 1 and None not in classes and set(classes) & {"change", "destroy"}:
                return f"{name} {w}: a rewrite named by its verbs"  # search-replace
    if low in _UPLOADERS | {"aws", "gsutil", "gcloud", "az", "azcopy", "s3cmd", "mc", "b2",
                            "rclone"} and len(ops) >= 2 and \
            words & {"cp", "copy", "copyto", "sync", "mv", "move", "moveto", "put", "upload",
                     "rsync", "scp", "mirror"} | _UPLOADERS and _PERSONAL.search(ops[-1]):
        return f"{name} copies data to {ops[-1][:60]}, a person's own store"
    if low in ("curl", "wget") and any(a in ("-T", "--upload-file", "-F", "--form") for a in rest) \
            and any(_PERSONAL.search(a) for a in ops):
        return f"{name} uploads data to a person's own store"
    if low == "vault" and (subs[:2] == ["kv", "get"] or subs[:1] == ["read"]) and \
            "metadata" not in subs:
        return f"vault {' '.join(subs[:2])}: prints a secret"
    if low not in ("kubectl", "oc", "vault", "consul") and words & _SECRET_WORDS and \
            words & _REVEALS and not words & {"list", "ls", "describe",
                                                                   "create", "put", "set",
                                                                   "delete", "rotate"}:
        return f"{name} {' '.join(subs[:4])}: prints a secret"
    if low in ("kubectl", "oc") and subs[:1] == ["get"] and len(subs) > 1 and \
            subs[1].lower() in ("secret", "secrets") and any(
                re.match(r"^(?:-o|--output)(?:=|$)?(?:yaml|json|jsonpath|go-template)?", a) and
                not re.search(r"wide|name", a) for a in rest):
        return f"{name} get secret -o: prints a secret's values"
    if low in _PRINTERS and any(_SECRET_FILE.search(a) for a in ops):
        return f"{name} prints {next(a for a in ops if _SECRET_FILE.search(a))[:60]}, a file " \
               f"of keys or passwords"
    if low in ("echo", "printf") and any(_SECRET_VAR.search(a) for a in rest):
        return f"{name} prints a secret from the environment"
    if low in _CONTAINER_CLIS and subs[:1] in (["run"], ["create"]) and \
            (image := _image_of(rest)) is not None and _unknown_publisher(image):
        return f"{name} {subs[0]} {image[:60]}: an image of a publisher the rules cannot vouch for"
    if low in _CONTAINER_CLIS and subs[:1] == ["push"] and ops[1:] and (
            ops[1].rsplit("/", 1)[-1].endswith(":latest") or ":" not in
            ops[1].rsplit("/", 1)[-1]):
        return f"{name} push {ops[1][:60]}: moves the latest tag everyone pulls"
    if low == "aws" and subs[:2] == ["s3", "rm"] and "--recursive" not in rest:
        return f"aws s3 rm {' '.join(ops[2:3])[:60]}: one object removed, held for a judgement"
    return None


@lru_cache(maxsize=1)
def _handled() -> frozenset[str]:
    """Commands a destructive rule reads (rm, find, dd, git, docker, kubectl, aws...): when it
    saw a destroy verb there and found nothing, it judged the target (scratch, regenerable,
    this run's own, low value)."""
    from mapek.safety.rules.cloud import CLOUD_COMMANDS
    from mapek.safety.rules.shell import _HANDLERS

    return frozenset(_HANDLERS) | (frozenset(CLOUD_COMMANDS) & _THOROUGH)


_DRY = ("--dry-run", "--dryrun", "--what-if", "--whatif", "-whatif", "--noop", "--check",
        "--server-dry-run", "--plan-only", "--simulate", "--dry", "-dry-run", "-dryrun",
        "--dry_run")
"""Not ``--diff``: alone it shows the change while making it (``ansible-playbook --diff``)."""


def _is_dry(arg: str) -> bool:
    """A dry-run flag, by its whole name (``--check``, ``--dry-run=client``; not
    ``--checkpoint-action``, which only shares its first letters), and not switched off by its
    value (``--dry-run=none``)."""
    from mapek.safety.rules.cloud import NOT_DRY

    name, _, value = arg.lower().partition("=")
    return name in _DRY and value.strip("'\"") not in NOT_DRY


_VALUE_TAKERS = frozenset({"--version", "--plan"})
"""Flags that ask for a version or a plan alone, but that many CLIs also take with a value
(``cargo yank --version 2.4.0 crate``, ``helm upgrade --version 3``, ``--plan gold``)."""


def _asks_only(rest: list[str], i: int) -> bool:
    """``rest[i]`` makes the command only print (help, a dry run, the version or a plan): a
    ``--version`` or ``--plan`` followed by a value is an option of some other act."""
    a = rest[i]
    name = a.lower().split("=", 1)[0]
    if _is_dry(a) or name == "--help":
        return True
    if name in _VALUE_TAKERS:
        return "=" not in a and (i + 1 == len(rest) or rest[i + 1].startswith("-"))
    return False


_DRY_SHORT = {"apt": "s", "apt-get": "s", "brew": "n", "make": "n", "gmake": "n", "rsync": "n",
              "pacman": "p", "git": "", "ansible-playbook": "C", "ansible": "C", "salt": "",
              "xargs": "", "snakemake": "n"}
"""Short flags that make a run a dry run, for the tools that have one (``apt-get -s``,
``brew cleanup -n``, ``make -n``, ``rsync -an``, ``ansible-playbook -C``)."""
_DRY_LONG = ("--simulate", "--just-print", "--recon", "--no-act", "--assumeno", "--print",
             "--check-only", "--preview", "--whatif")
_DRY_FOR = frozenset("apt apt-get make gmake dnf yum pacman zypper brew".split())


def _dry_short(low: str, rest: list[str]) -> bool:
    """A dry run said by a short flag or a tool's own long spelling, or a Salt
    ``test=True``: the tool prints what it would do and does nothing."""
    letters = _DRY_SHORT.get(low, "")
    if letters and any(re.fullmatch(r"-[A-Za-z]+", a) and set(a[1:]) & set(letters)
                       for a in rest):
        return True
    if low in _DRY_FOR and any(a.split("=", 1)[0] in _DRY_LONG for a in rest):
        return True
    if low == "alembic" and "--sql" in rest:
        return True  # offline mode: prints the SQL, touches no database
    if low in ("robocopy", "xcopy") and any(a.upper() == "/L" for a in rest):
        return True  # robocopy /L: lists what it would copy or delete, and does neither
    return low.startswith("salt") and any(a.lower() == "test=true" for a in rest)


_SCRIPT = re.compile(r"^(?:\.{0,2}/|~/|[\w.-]+/)?(?:[\w.-]+/)*([A-Za-z][\w.-]*?)"
                     r"(?:\.(?:sh|bash|py|rb|pl|js|ts|ps1|bat|cmd))?$")


_EXEC_OPT = re.compile(r"^--?(?:[\w-]*(?:command|program|exec|script|checkpoint-action|rsh|"
                       r"shell|pager|editor|hook)[\w-]*)(?:=(.*))?$", re.S)
"""Options that hand a command a program to run (GTFOBins: ``tar --checkpoint-action=exec=``,
``--to-command``, ``--use-compress-program``, ``rsync --rsh``, ``ssh -o ProxyCommand``...)."""
_EXEC_SHORT = {"tar": ("-I", "-F"), "rsync": ("-e",), "zip": ("-TT",), "tcpdump": ("-z",),
               "xargs": (), "sort": ()}
"""Short options that take a program to run, for the binaries that have one."""


def _carried(low: str, rest: list[str], depth: int) -> str | None:
    """A program an option of the command runs (``tar --checkpoint-action=exec='sh -c ...'``):
    recognised only when that program is."""
    for i, a in enumerate(rest):
        value: str | None = None
        m = _EXEC_OPT.match(a)
        if m is not None and a.startswith("--"):
            value = m.group(1) if m.group(1) is not None else None
        elif a in _EXEC_SHORT.get(low, ()) and i + 1 < len(rest):
            value = rest[i + 1]
        elif a == "-o" and i + 1 < len(rest) and re.match(r"(?i)^(?:proxy|local|remote)command=",
                                                          rest[i + 1]):
            value = rest[i + 1].split("=", 1)[1]
        if value is None:
            continue
        value = re.sub(r"^(?:exec|command|sh|shell)=", "", value.strip("'\""))
        if not value or low in ("rsync", "scp") and value.split()[:1] == ["ssh"]:
            continue  # rsync -e 'ssh -p 2222': the remote shell it is meant to use
        if re.fullmatch(r"[\w.,:/+-]*", value) and value.split("/")[-1].lower() not in _INTERP \
                and (m is None or not a.startswith("--checkpoint-action")):
            why = _command([value], [False], depth + 1)  # a program name: zstd, pigz
        else:
            why = unrecognised_shell(value, depth + 1)
        if why is not None:
            return f"{low} runs a program through an option ({a[:40]}): {why}"
    return None


_PERL_ACTS = re.compile(r"\b(?:unlink|rmdir|mkdir|rename|link|symlink|chmod|chown|utime|truncate|"
                        r"kill|system|exec|qx|fork|syscall|open|sysopen|socket|eval|require|"
                        r"use|do|File|IO|FileUtils|Dir|Kernel|spawn|`)\b|`|s(.).*\1.*\1\w*e")
"""Perl and Ruby one-liner words that reach outside the stream (their calls need no
parentheses, so the code recogniser's call reading does not see them)."""


_AWK = frozenset("awk gawk mawk nawk busybox-awk".split())


def _awk_program(low: str, rest: list[str], depth: int) -> str | None:
    """awk's and sed's programs can run commands (``system("...")``, ``print | "sh"``,
    ``cmd | getline``, sed's ``e``): each command they name must be recognised."""
    if low in _AWK:
        if any(a == "-f" or a.startswith("--file") for a in rest):
            return f"{low} runs a program file the rules do not read"
        prog = next((a for a in rest if not a.startswith("-")), "")
        if not re.search(r"\bsystem\s*\(|\|\s*&?\s*getline|\|\s*\"|\|&", prog):
            return None
        cmds = re.findall(r"\bsystem\s*\(\s*\"((?:[^\"\\]|\\.)*)\"\s*\)", prog) + \
            re.findall(r"\"((?:[^\"\\]|\\.)*)\"\s*\|\s*&?\s*getline", prog) + \
            re.findall(r"\|&?\s*\"((?:[^\"\\]|\\.)*)\"", prog)
        if not cmds:
            return f"{low} runs a command built at run time"
        for c in cmds:
            why = unrecognised_shell(c.replace('\\"', '"'), depth + 1)
            if why is not None:
                return f"{low} runs a command: {why}"
        return None
    if low in ("sed", "gsed"):
        progs = [rest[i + 1] for i, a in enumerate(rest[:-1]) if a in ("-e", "--expression")]
        if not progs:
            progs = [a for a in rest if not a.startswith("-")][:1]
        for prog in progs:
            if re.search(r"(?:^|[;\n}]\s*)(?:\d+|/[^/]*/)?\s*e\b|s(.).*\1.*\1[gip\d]*e",
                         prog):
                return "sed runs a command (its e command or flag)"
            if re.search(r"(?:^|[;\n}]\s*)(?:\d+|/[^/]*/)?\s*w\s+\S|s(.).*\1.*\1[gip\d]*w\s",
                         prog):
                return "sed writes a file (its w command)"
    return None


def _curl_sent(rest: list[str]) -> tuple[str, str, bool] | None:
    """A curl-like request's method, URL and whether it sends data; None without a URL."""
    method, url, data = "", "", False
    for i, a in enumerate(rest):
        flag = a.split("=", 1)[0]
        if flag in ("-X", "--request", "--method") and i + 1 < len(rest):
            method = rest[i + 1].lower()
        elif re.match(r"^-X[A-Z]+$", a):
            method = a[2:].lower()
        elif flag in _HTTP_WRITE_FLAGS and flag not in ("-X", "--request", "--method"):
            data = True
        elif re.match(r"^https?://", a, re.I) and not url:
            url = a
    if not url:
        return None
    return (method or ("post" if data else "get")), url, data


_CURL_VALUE_SHORT = frozenset("XdFTHouAeErwKbcmCxYyzD")
"""curl's short options that take a value: in a cluster (``-sXPOST``, ``-sT file``) the first
of them takes the rest of the cluster or the next word."""


_WGET_VALUE_SHORT = frozenset("OoaPUetTwiBQlARDIX")


def _split_short(low: str, rest: list[str]) -> list[str]:
    """curl's and wget's clustered short options split as they read them (``-sT f`` ->
    ``-s -T f``, ``-qO f`` -> ``-q -O f``)."""
    if low not in ("curl", "wget"):
        return rest
    takes = _CURL_VALUE_SHORT if low == "curl" else _WGET_VALUE_SHORT
    out: list[str] = []
    for a in rest:
        if re.fullmatch(r"-[A-Za-z]{2,}\S*", a) and not a.startswith("--"):
            letters = a[1:]
            for j, ch in enumerate(letters):
                if ch in takes:
                    out.append("-" + ch)
                    if letters[j + 1:]:
                        out.append(letters[j + 1:])
                    break
                out.append("-" + ch)
            continue
        out.append(a)
    return out


def _fetch_writes(low: str, rest: list[str]) -> str | None:
    """A download written to a file outside the places the rules can place (``curl -o
    /etc/cron.d/x``, ``wget -O /usr/local/bin/tool``): it replaces what is there."""
    split = _split_short(low, rest)
    for i, a in enumerate(split):
        dest = None
        if a in ("-o", "--output", "-O" if low == "wget" else "--output-document") and \
                i + 1 < len(split):
            dest = split[i + 1]
        elif a.startswith(("--output=", "--output-document=")):
            dest = a.split("=", 1)[1]
        elif low == "wget" and a in ("-P", "--directory-prefix") and i + 1 < len(split):
            dest = split[i + 1]
        if dest is not None and dest != "-" and not _placed(dest):
            return f"{low} writes what it fetches into {dest[:60]}"
    return None


_PUBLIC_FLAG = re.compile(r"^--?(?:public|visibility[= ]public|acl[= ]public[\w-]*|"
                          r"anonymous|allow-unauthenticated|no-auth)$|^public-read(?:-write)?$",
                          re.I)
"""Flags that open what they make to everyone (``gh gist create --public``, ``--acl
public-read``, ``gcloud run deploy --allow-unauthenticated``)."""


_FILE_ACTORS = frozenset("""rm unlink shred srm truncate mv cp dd tee chmod chown chgrp chattr
setfacl sed perl ln install""".split())
"""Commands that change the file ``find -exec`` hands them."""


def _command(words: list[str], dynamic: list[bool], depth: int) -> str | None:
    argv = _peel(list(words))
    if not argv:
        return None
    k = len(words) - len(argv)
    if k < len(dynamic) and dynamic[k]:
        return "a command name built at run time"
    name = argv[0].rsplit("/", 1)[-1]
    low = name.lower()
    rest = argv[1:]
    if depth > 4:
        return "nesting too deep"
    if _PS_VERB.fullmatch(name):
        return _powershell(" ".join(argv))
    handled = low in _handled() or low.startswith("mkfs")
    if any(_is_dry(a) for a in rest) or _dry_short(low, rest):
        return None
    if (why := _installs_unvouched(low.removesuffix(".exe"), rest)) is not None:
        return why
    if (why := _sends_off_box(low, rest)) is not None:
        return why
    if (why := _hands_over(name, low, rest, handled)) is not None:
        return why
    if not handled and low not in _VERB_CLIS and low not in _SQL_CLIENTS and \
            low not in _INTERP and (sqls := [a for a in rest if SQL_ARGUMENT.match(a)]) and \
            all(unrecognised_sql(s) is None for s in sqls) and not _long_bad_flag(rest) and \
            _class_of(low, False) not in ("destroy", "change") and name_verb(low) != "destroy" \
            and _first_verb(_subcommands([a for a in rest if a not in sqls])) in (None, "read"):
        return None  # koha-mysql lib -e 'SELECT ...', iquest "SELECT ...": the SQL is a read
    if low in _TOOL_READ_NAMES and _tool_read(low, rest):
        return None
    joined = [f"{a}={b}" for a, b in zip(rest, rest[1:], strict=False) if a.startswith("--")]
    if any(_PUBLIC_FLAG.match(a) for a in rest + joined):
        return f"{name}: opens what it makes to everyone"
    if any(a in _SAFE_FLAGS for a in rest[:3]) and not any(_BAD_FLAG.match(a) for a in rest
                                                          if a not in _SAFE_FLAGS):
        if any(_asks_only(rest, i) for i in range(len(rest))) or len(rest) == 1:
            return None
    if (why := _carried(low, rest, depth)) is not None:
        return why
    if low in ("perl", "ruby") and not any(a in _CODE_FLAGS for a in rest):
        for i, a in enumerate(rest):  # perl -ne 'print if /x/': -e inside a cluster of flags
            if re.fullmatch(r"-[a-zA-Z]*e", a) and i + 1 < len(rest) and \
                    not _SED_INPLACE.match(a):
                if _PERL_ACTS.search(rest[i + 1]):
                    return f"{name} code that acts on files, processes or the system"
                return unrecognised_code(rest[i + 1])
    if low in ("python", "python3") and rest and rest[0].rsplit("/", 1)[-1] == "manage.py":
        sub = _subcommands(rest[1:], 1)  # django: the management command is the verb
        c = verb_class(sub[0], stem=True) if sub else None
        if c == "read" or sub and sub[0] in ("showmigrations", "sqlmigrate", "check",
                                             "diffsettings", "inspectdb", "sqlsequencereset"):
            return None
        return f"manage.py {' '.join(sub) or 'with no command'}: not a known read"
    if (body := _written(argv[0])) is not None and not any(dynamic[k + 1:]):
        # a script the plan wrote a step earlier, run now: what runs is what the rules read
        if re.search(r"\.(?:sh|bash)$|^[^.]*$", argv[0].rsplit("/", 1)[-1]) and \
                not body.lstrip().startswith("#!") or re.match(r"#!\s*\S*/(?:env\s+)?"
                                                              r"(?:ba|z|da|k)?sh\b", body):
            why = unrecognised_shell("\n".join(ln for ln in body.splitlines()
                                               if not ln.lstrip().startswith("#")), depth + 1)
            return None if why is None else f"the script {argv[0][:40]} the plan wrote: {why}"
    if low in ("sh", "bash", "dash", "zsh", "ksh") and rest and not rest[0].startswith("-") and \
            (body := _written(rest[0])) is not None:
        why = unrecognised_shell("\n".join(ln for ln in body.splitlines()
                                           if not ln.lstrip().startswith("#")), depth + 1)
        return None if why is None else f"the script {rest[0][:40]} the plan wrote: {why}"
    if low in _SQL_CLIENTS and (src := next((rest[i + 1] for i, a in enumerate(rest[:-1])
                                             if a in ("-f", "--file", "-i")), None)) and \
            (body := _written(src)) is not None:
        return unrecognised_sql(body)
    if low in _INTERP:
        for i, a in enumerate(rest):
            if a in _CODE_FLAGS and i + 1 < len(rest):
                code = rest[i + 1]
                if low in ("sh", "bash", "zsh", "dash", "ksh", "fish"):
                    return unrecognised_shell(code, depth + 1)
                if low in ("pwsh", "powershell"):
                    return _powershell(code)
                return unrecognised_code(code)
        if rest[:2] == ["-m", "pytest"] or rest[:2] == ["-m", "unittest"] or \
                rest[:2] == ["-m", "json.tool"] or rest[:2] == ["-m", "pip"] and \
                len(rest) > 2 and verb_class(rest[2]) in ("read", "make"):
            return None
        if rest and rest[0] == "-m" and len(rest) > 1:
            return f"{name} runs the module {rest[1]}"
        if (low.startswith("python") and rest and rest[0].endswith(".py") or
                low == "php" and rest and rest[0].endswith(".php")) and \
                _placed(rest[0]) and not rest[0].startswith(("/", "~", "$")) and \
                not _is_fetched(rest[0]) and (m := _SCRIPT.match(rest[0])) is not None and \
                _script_reads(re.sub(r"\.\w+$", "", m.group(1)), rest[1:]) and (
                    (body := _written(rest[0])) is None or unrecognised_code(body) is None) and \
                not any(
                    _BAD_FLAG.match(a.split("=", 1)[0]) or not a.startswith("-") and
                    not rest[i].startswith("-") and verb_class(a) in ("destroy", "change")
                    for i, a in enumerate(rest[1:])):
            return None  # python3 bom_diff.py --rev B, trips_report.py: the work tree's own
            # script, named for a read (as ./check_disk.sh is)
        return f"{name} runs a script the rules do not read"
    if low in ("ssh", "mosh"):
        remote, skip = [], False
        for a in rest:
            if skip:
                skip = False
            elif a.startswith("-"):
                skip = a in ("-i", "-p", "-l", "-o", "-J", "-F", "-L", "-R", "-D", "-b", "-c",
                             "-E", "-e", "-m", "-O", "-Q", "-S", "-W", "-w", "-P")
            else:
                remote.append(a)
        if "-N" in rest or any(a.startswith("-") and "N" in a and not a.startswith("--")
                               for a in rest):
            return None  # a tunnel, no remote command (-R is the remote-shell rule's)
        if len(remote) >= 2 and not _ours(_host_of(remote[0])) and re.search(
                r"\bcat\s*>|\btee\b|\bdd\b[^|]*\bof=|\btar\b[^|]*\s-?[a-z]*x|"
                r"\b(?:pg_restore|psql|mysql)\b", " ".join(remote[1:])):
            return f"{name} sends data to {_host_of(remote[0])[:60]}, a host the rules cannot " \
                   f"read as ours"
        if len(remote) >= 2:
            return unrecognised_shell(" ".join(remote[1:]), depth + 1)
        return "an interactive remote shell"
    if low in _SQL_CLIENTS and not (low == "bq" and rest[:1] != ["query"]) or \
            _subcommands(rest, 1) == ["sql"] and any(a.split("=", 1)[0] in _SQL_FLAGS
                                                      for a in rest):
        for i, a in enumerate(rest):
            if a in _SQL_FLAGS and i + 1 < len(rest):
                return unrecognised_sql(rest[i + 1])
            if a.startswith(("--command=", "--execute=", "--query=")):
                return unrecognised_sql(a.split("=", 1)[1])
        if low == "bq" and rest and rest[0] == "query":
            q = [a for a in rest[1:] if not a.startswith("-")]
            return unrecognised_sql(q[-1]) if q else "bq query without SQL"
        if low in ("sqlite3", "duckdb") and len([a for a in rest if not a.startswith("-")]) >= 2:
            return unrecognised_sql([a for a in rest if not a.startswith("-")][-1])
        return f"{name} with no statement the rules can read"
    if low in ("show", "display") and not handled:
        return None  # show reload, display interface brief: a network device's display command
    if low == "ansible":
        mod = next((rest[i + 1] for i, a in enumerate(rest[:-1]) if a in ("-m", "--module-name")),
                   "command").rsplit(".", 1)[-1]
        margs = next((rest[i + 1] for i, a in enumerate(rest[:-1]) if a in ("-a", "--args")), "")
        if mod in ("ping", "setup", "gather_facts", "stat", "package_facts", "service_facts",
                   "debug") and not re.search(r"\b(?:state|dest)=", margs):
            return None  # ansible all -m ping: a module that only reports
        if mod in ("command", "shell", "raw") and margs and \
                not re.search(r"\b(?:creates|removes|chdir)=", margs):
            why = unrecognised_shell(margs, depth + 1)
            return None if why is None else f"ansible runs on the hosts: {why}"
        return f"ansible module {mod}: not a module the rules recognise as a read"
    if low == "cypher-shell":
        pos = [a for i, a in enumerate(rest) if not a.startswith("-") and not (
            i and rest[i - 1] in ("-a", "--address", "-u", "--username", "-p", "--password",
                                  "-d", "--database", "--format", "-f", "--file"))]
        query = pos[-1] if pos else ""
        if query and re.match(r"(?is)^\s*(?:MATCH|OPTIONAL\s+MATCH|WITH|UNWIND|RETURN|SHOW|"
                              r"EXPLAIN|PROFILE)\b", query) and not re.search(
                r"(?i)\b(?:CREATE|MERGE|DELETE|DETACH|SET|REMOVE|DROP|FOREACH|LOAD\s+CSV|"
                r"CALL|ALTER|GRANT|REVOKE|DENY|START|STOP|TERMINATE)\b", query):
            return None  # MATCH (n) RETURN labels(n), count(*): a Cypher read
        return f"{name}: a Cypher statement not recognised as a read"
    if low in ("mongosh", "mongo"):
        for i, a in enumerate(rest):
            if a == "--eval" and i + 1 < len(rest):
                return unrecognised_code(rest[i + 1])
        return f"{name} with no statement the rules can read"
    if low in ("kubectl", "oc") and _subcommands(rest, 1) in (["label"], ["annotate"]) and \
            any(re.fullmatch(r"[\w./-]+-", a) for a in rest[2:]):
        return f"{name} {_subcommands(rest, 1)[0]} removes a key (key-)"
    if low in ("kubectl", "oc", "docker", "podman") and "exec" in rest and "--" in rest:
        inner = rest[rest.index("--") + 1:]
        return _command(inner, [False] * len(inner), depth + 1)
    if low == "find":
        if any(a in ("-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fls")
               for a in rest):
            roots = rest[:next((j for j, a in enumerate(rest)
                                if a.startswith(("-", "(", "!"))), len(rest))]
            for i, a in enumerate(rest):
                if a in ("-exec", "-execdir", "-ok", "-okdir") and i + 1 < len(rest) and \
                        rest[i + 1].rsplit("/", 1)[-1] in _FILE_ACTORS and \
                        not all(r.rstrip("/") in (".", "./") or _placed(r) for r in roots):
                    # find /var/log -exec truncate -s 0 {} ;: the act's target is every file
                    # found under the roots, which its own rule never sees (it sees ``{}``)
                    return f"find -exec {rest[i + 1]} over {' '.join(roots)[:60] or '.'}"
                if a in ("-exec", "-execdir", "-ok", "-okdir") and i + 1 < len(rest):
                    inner = [w for w in rest[i + 1:] if w not in (";", "+", "{}", "\\;")]
                    why = _command(inner, [False] * len(inner), depth + 1)
                    if why is not None:
                        return why
            if "-delete" in rest and not handled:
                return "find -delete"
        return None
    if (low in ("nc", "ncat", "netcat") and any(a.startswith("-") and "z" in a for a in rest)) \
            or (low == "visudo" and "-c" in rest) or (low in ("nginx", "sshd") and
                                                      any(a in ("-t", "-T") for a in rest)):
        return None  # a port probe, a syntax check
    if low == "rpm" and rest and re.fullmatch(r"-q[a-zA-Z]*|--query|-V[a-zA-Z]*|--verify",
                                               rest[0]):
        return None  # rpm -qa, rpm -qf FILE, rpm -V: the package database read
    if low in ("dpkg", "dpkg-query") and rest and rest[0] in (
            "-l", "-L", "-s", "-S", "-p", "--list", "--listfiles", "--status", "--search",
            "--print-avail", "--get-selections", "-W", "--show", "--audit", "-C"):
        return None
    if low in ("sed", "perl") and any(_SED_INPLACE.match(a) for a in rest):
        files = [a for a in rest if not a.startswith("-")][1:]
        if files and all(_placed(f) for f in files) and \
                (why := _awk_program(low, rest, depth)) is None:
            return None  # an edit of files in the work tree: what the rules can place
        return f"{name} edits files in place"
    if low in ("curl", "wget", "http", "https", "xh", "httpie"):
        if (why := _fetch_writes(low, rest)) is not None:
            return why
        if any(dynamic[k + 1:]) and any("$(" in a or "`" in a for a in rest):
            return f"{name} sends what a command substitution produces"
        rest = _split_short(low, rest)
        if any(re.search(r"\bmutation\b", a) for a in rest):
            return f"{name}: a GraphQL mutation"
        sent = _curl_sent(rest)
        if sent is not None and sent[0] in ("post", "put", "patch"):
            method, url, data = sent
            said = _endpoint_act(method, url)
            if said == "removes":
                return f"{name}: {DESTROY_VERB} ({method.upper()} {url[:80]})"
            if said == "safe" and not data:
                return None
        if sent is not None and sent[0] in ("get", "head") and get_names_act(sent[1]):
            return f"{name}: a GET to an endpoint that names an act ({sent[1][:60]})"
        if sent is not None and (act := _query_act(sent[1])) not in (None, "read"):
            return f"{name}: a request whose query names an operation that is not a read ({act})"
        for i, a in enumerate(rest):
            flag = a.split("=", 1)[0]
            if flag in _HTTP_WRITE_FLAGS or re.match(r"^-X(?:POST|PUT|PATCH|DELETE)", a):
                method = rest[i + 1].upper() if flag in ("-X", "--request", "--method") and \
                    i + 1 < len(rest) else (a.split("=", 1)[1].upper() if "=" in a else "")
                if method in ("GET", "HEAD", "OPTIONS"):
                    continue
                return f"{name} sends data ({a})"
        if low in ("http", "https", "xh", "httpie") and rest and \
                rest[0].upper() in ("POST", "PUT", "PATCH", "DELETE"):
            return f"{name} {rest[0]}"
        return None
    if (why := _awk_program(low, rest, depth)) is not None:
        return why
    if low == "alias" and rest and all("=" in a for a in rest):
        for a in rest:  # alias ll='kubectl get ns': recognised when what it stands for is
            why = unrecognised_shell(a.split("=", 1)[1], depth + 1)
            if why is not None:
                return f"an alias for what is not recognised: {why}"
        return None
    if low in ("ls", "cat", "grep", "echo", "printf", "head", "tail", "mkdir", "touch", "jq",
               "awk", "sort", "wc", "diff", "du", "df"):
        return None
    if ("/" in argv[0] or re.search(r"\.(?:sh|bash|py|rb|pl|js|ts|ps1|bat|cmd)$", argv[0])) and \
            low not in _VERB_CLIS and low not in _READ_BINS | _MAKE_BINS and not handled:
        m = _SCRIPT.match(argv[0])  # a script says what it does by its name: check_0.sh
        said = verb_class(m.group(1), stem=True) if m else None
        if said in ("read", "make") and not any(_BAD_FLAG.match(a.split("=", 1)[0])
                                                for a in rest):
            return None
        if said is not None or not _subcommands(rest) and not any(a.startswith("-")
                                                                  for a in rest):
            return f"{name}: a script whose name says no known safe verb"
        # else a CLI shipped as a script (kafka-topics.sh --describe): its verb decides below
    if low == "git" and _subcommands(rest, 1) == ["push"]:
        ops = [a for a in rest[rest.index("push") + 1:] if not a.startswith("-")]
        if any(o.startswith((":", "+")) for o in ops[1:]):
            return "git push of a refspec that deletes or forces (:ref, +ref)"
        if ops and (re.search(r"://|^[\w.-]+@[\w.-]+:|^/|^\.\.?/", ops[0]) or
                    ops[0] not in _KNOWN_REMOTES) or "--mirror" in rest:
            return f"git push to {ops[0][:60] if ops else 'a mirror'}: a remote the rules " \
                   f"do not know as the project's own"
    if low in ("gh", "glab") and rest[:1] == ["api"] and not any(
            a.split("=", 1)[0] in ("-X", "--method", "-f", "-F", "--field", "--raw-field",
                                   "--input") or re.match(r"^-X\w", a) for a in rest) and \
            not any(re.search(r"\bmutation\b", a) for a in rest):
        return None  # a GET through the CLI's API passthrough
    if low in _VERB_CLIS or low in _BUILD_TOOLS or (
            low not in _READ_BINS and low not in _MAKE_BINS and not handled
            and _subcommands(rest)):
        if low not in _VERB_CLIS and not handled and \
                (own := _class_of(low, False)) in ("destroy", "change"):
            # pkill postgres, killall nginx, shutdown now: the program's own name is the verb;
            # the words after it name what it acts on, not a read
            return f"{name}: its name is a {own} verb ({' '.join(rest[:3])[:60]})"
        verb = _verb_of_cli(low, rest)
        subs = _subcommands(rest, 1)
        if low in ("docker", "podman", "nerdctl", "kubectl", "oc") and subs and \
                subs[0] in ("run", "exec", "debug") and any(
                    x.lower() in DESTROY_VERBS | CHANGE_VERBS | _INTERP
                    for x in rest[1:] if not x.startswith("-")):
            return f"{name} {subs[0]} runs a command the rules do not read in the container"
        if verb == "destroy" and handled and low not in _EMBEDDED_ONLY and \
                not any(w.rsplit("/", 1)[-1] == "xargs"
                                                     for w in words[:k]) and \
                not any(dynamic[k + 1:]) and \
                (low != "git" or (subs and subs[0] in _GIT_JUDGED)) and \
                (low not in _CONTAINER_CLIS or bool(set(_subcommands(rest)) & _CONTAINER_JUDGED)):
            subs8 = [w.lower() for w in _subcommands(rest, 8)]
            reads = _CLOUD_REMOVALS_READ.get(low)
            if reads is None or _JUDGED.get() or any(
                    w in reads or low in ("aws", "az") and w.startswith("delete-")
                    for w in subs8):
                return None  # the rule for this command saw the verb and judged the target
            # a cloud CLI's rule reads its ``delete`` forms only, and found nothing: another
            # removal verb (``kms keys versions destroy``, ``secrets versions destroy``,
            # ``ad app credential reset``) is a removal the rules recognise, not a judged one
            return f"{name}: {DESTROY_VERB} ({' '.join(subs8)[:60]})"
        if low in _BUILD_TOOLS and verb is None:
            return None  # make docs, just bundle: a build target
        if verb == "make" and any(set(_tokens(w)) & _ACCESS for w in subs + _subcommands(rest)):
            return f"{name}: changes who can reach something ({' '.join(_subcommands(rest))[:60]})"
        if verb == "make" and (why := _make_reaches(name, low, rest)) is not None:
            return why
        if verb in ("read", "make"):
            if verb == "make" and (why := _writes_outside(low, rest)) is not None:
                return why
            if any(_BAD_FLAG.match(a.split("=", 1)[0]) for a in rest) and verb != "read" and \
                    (not handled or low != "git" and any(
                        re.search(r"force|overwrite|prune|purge|delete|wipe", a)
                        for a in rest if a.startswith("--"))):
                return f"{name}: a destructive or unattended flag"
            if low in ("terraform", "tofu", "pulumi") and "apply" in rest:
                return f"{name} apply"
            return None
        if verb is None and low in _READ_BINS | _MAKE_BINS and not (
                low in _VERB_CLIS and _subcommands(rest, 1)):
            return None
        if verb is None and low not in _VERB_CLIS and (said := name_verb(low)) is not None:
            if said == "read" and not _long_bad_flag(rest):
                return None  # ldapsearch, postcat: the name says it reads
            if said == "destroy":
                return f"{name}: {DESTROY_VERB} (by its name)"
        if verb is None:
            return f"{name}: no verb the rules recognise ({' '.join(rest[:3])[:60]})"
        if verb == "destroy" and low in _BUILD_TOOLS:  # make clean: a target the rules
            return f"{name}: a build target that removes ({' '.join(_subcommands(rest))[:60]})"
        if verb == "destroy" and _names_removal(name, rest):
            return f"{name}: {DESTROY_VERB} ({' '.join(_subcommands(rest))[:60]})"
        return f"{name}: a {verb} verb ({' '.join(_subcommands(rest))[:60]})"
    if low in _REMOVERS:
        return _removes(name, rest)
    if (low in _MAKE_BINS or low in _COPIERS) and (why := _writes_outside(low, rest)) is not None:
        return why
    if low in _READ_BINS and (why := _state_flag(low, rest)) is not None:
        return why
    if low in _READ_BINS or low in _MAKE_BINS:
        if low in _MAKE_BINS and not handled and any(
                _BAD_FLAG.match(a.split("=", 1)[0]) for a in rest
                if a not in ("-f",) or low not in ("tar", "make")):
            if low not in ("cp", "tar", "make", "ln", "rsync", "gzip", "zip", "unzip") or \
                    any(re.search(r"delete|purge|remove|force|overwrite", a) for a in rest):
                return f"{name}: a destructive or unattended flag"
        return None
    if low in ("chmod", "chown", "chgrp"):
        ops = [a for a in rest if not a.startswith("-")][1:]
        if not all(_placed(a) for a in ops):
            return f"{name} over a path the rules cannot place"
    if handled:
        return None  # rm, dd, chmod, truncate...: the rule for the command judged its target
    if "/" in argv[0] or re.search(r"\.(?:sh|bash|py|rb|pl|js|ts|ps1|bat|cmd)$", argv[0]):
        m = _SCRIPT.match(argv[0])  # a script says what it does by its name: check_0.sh
        if m and verb_class(m.group(1)) in ("read", "make") and not any(
                _BAD_FLAG.match(a.split("=", 1)[0]) for a in rest):
            return None
        return f"{name}: a script whose name says no known safe verb"
    said = name_verb(low)
    if said == "read" and not _long_bad_flag(rest):
        return None  # postcat, ldapsearch: the name says it reads
    if said == "destroy":
        return f"{name}: {DESTROY_VERB} (by its name)"
    if rest and _flag_verb(rest) == "read":
        return None  # spctl --status, tarsnap --list-archives, bcdedit /enum: a flag that reads
    if _query_read(rest):
        return None  # kadmin.local -q "listprincs": the query it is given names a read
    return f"{name}: an unknown command"


def _query_read(rest: list[str]) -> bool:
    """An unknown command given its request as one query argument (``kadmin.local -q
    "listprincs"``, ``tool --query 'getprinc x'``) and nothing else: recognised when that
    request's first word names a read (``list...``, ``get...``) and no word names another act."""
    flags = ("-q", "--query", "-x", "--execute", "-c", "--command", "-rx")
    idx = [i for i, a in enumerate(rest[:-1]) if a in flags]
    if not idx:
        return False
    values = {i + 1 for i in idx}
    others = [x for j, x in enumerate(rest) if j not in values and not x.startswith("-")]
    if others:
        return False
    for i in idx:  # vtysh -c 'show ip bgp' -c 'show ip bgp summary': each names a read
        words = rest[i + 1].split()
        if words and words[0].lower() in ("show", "display"):
            continue  # show ip route: what follows ``show`` is what is shown
        if len(words) >= 2 and words[1].lower() in ("show", "status") and \
                verb_class(words[0]) is None and not any(
                    verb_class(w) in ("destroy", "change", "make") for w in words[2:]):
            continue  # asterisk -rx 'pjsip show endpoints', fs_cli -x 'sofia status': a
            # module, then its read
        if not words or verb_class(words[0]) != "read" or any(
                verb_class(w) in ("destroy", "change") for w in words[1:]):
            return False
    return True


def _flag_verb(rest: list[str]) -> str | None:
    """``read`` when a command given no subcommand names a read by its long flags (``--status``,
    ``--list-archives``, Windows ``/enum``) and no flag or word names anything else; None
    otherwise. Short flags say nothing the rules can read (``-d`` deletes in one tool and
    debugs in another), and any positional word that is a verb decides against."""
    flags = [a.lstrip("-/").split("=", 1)[0].split(":", 1)[0].lower() for a in rest
             if a.startswith("--") or re.fullmatch(r"/[A-Za-z][\w-]+(?::\S*)?", a)]
    if not flags:
        return None
    if any(_BAD_FLAG.match(a.split("=", 1)[0]) for a in rest if a.startswith("-")):
        return None
    classes = [verb_class(f) for f in flags]
    words = [verb_class(a) for a in rest if not a.startswith(("-", "/")) and
             re.fullmatch(r"[A-Za-z][\w-]*", a)]
    if "read" in classes and not any(c in ("destroy", "change", "make") for c in classes + words):
        return "read"
    return None


_CALL = re.compile(r"([A-Za-z_][\w]*)\s*\(")
_PURE = frozenset("""print len str int float bool dict list set tuple sorted sum min max range
enumerate zip map filter any all abs round isinstance format join split rsplit strip lstrip
rstrip lower upper title replace append extend items keys values loads load parse match search
findall finditer sub compile groupby mean median head describe info open read readlines
readline get getattr hasattr type repr json_normalize DataFrame Series read_csv read_json
read_parquet to_string to_markdown to_dict iter next sleep time now today strftime strptime
datetime date timedelta Path glob rglob exists is_file is_dir stat resolve as_posix encode
decode startswith endswith count index find pop update insert remove sort reverse copy
deepcopy add discard setdefault fromkeys split_lines splitlines partition zfill ljust rjust
center capitalize casefold isdigit isalpha exit log info debug warning error basicConfig
getLogger Counter defaultdict OrderedDict namedtuple dataclass field sqrt floor ceil pow
random choice randint uniform shuffle sample seed pprint dumps dump console table
assert_equal assertEqual raises fixture mark parametrize lambda cursor fetchall fetchone
fetchmany connect close commit __init__ super object property staticmethod classmethod
require log_info forEach then catch JSON stringify toString toArray pretty limit sort_values
value_counts agg aggregate apply reset_index set_index merge concat pivot_table plot savefig
show figure subplot xlabel ylabel legend title tight_layout to_csv to_json to_parquet
write writerow writerows writeheader writer reader DictReader DictWriter mkdir makedirs
touch write_text write_bytes read_text read_bytes""".split())
"""Calls that compute, read or format (their names carry no verb about the outside world)."""


_FS_CALL = re.compile(r"\b(os\.path|os|shutil|pathlib\.Path\(([^()]*)\)|Path\(([^()]*)\)|"
                      r"fs\.promises|fsPromises|fs|FileUtils|File|Dir)\s*\.\s*(\w+)\s*\(")
_FS_SAFE = frozenset("""listdir scandir walk stat lstat getcwd getenv exists isfile isdir islink
is_file is_dir is_symlink glob rglob iterdir read_text read_bytes open resolve absolute expanduser
join basename dirname splitext split abspath realpath relpath normpath getsize getmtime getctime
cpu_count getpid getuid which disk_usage fspath fsencode fsdecode readdirSync readFileSync
existsSync statSync lstatSync readdir readFile access accessSync read readlines exist mkdir
makedirs mkdtemp mkdirSync mkdir_p as_posix with_suffix with_name relative_to samefile
expandvars home cwd date clock time difftime""".split())
"""File-system calls that read or only make a folder (``os.listdir``, ``Path(p).read_text``)."""
_FS_PLACED_WRITE = frozenset({"write_text", "write_bytes", "touch", "writeFileSync",
                              "writeFile", "appendFileSync"})
_OPEN_CALL = re.compile(r"\bopen\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_WRITE_MODE = re.compile(r"""(?:^|,)\s*(?:mode\s*=\s*)?[rbuf]?(['"])[rbt]*[wax+][^'"]*\1""")
_URL_LIT = re.compile(r"""['"`](https?://[^'"`\s]+)['"`]""")


def _code_touches_files(code: str) -> str | None:
    """Code that acts on files or endpoints through calls whose names read as pure (``remove``,
    ``write_text``, ``open(..., 'w')``, ``get`` of a URL that names an act): recognised only
    for reads, folders made, and writes to paths the rules can place."""
    for m in _FS_CALL.finditer(code):
        name = m.group(4)
        if name in _FS_SAFE:
            continue
        lit = (m.group(2) or m.group(3) or "").strip()
        if name in _FS_PLACED_WRITE and re.fullmatch(r"[rbuf]?(['\"])[^'\"]+\1", lit) and \
                _placed(lit.lstrip("rbuf")):
            continue
        if m.group(1) == "shutil" and name == "rmtree":
            continue  # the code rule reads rmtree (its path, a temporary folder made first)
        if m.group(1) == "shutil" and name in ("copy", "copy2", "copyfile", "copytree"):
            dst = re.match(r"\s*[^,()]+,\s*[rbuf]?(['\"])([^'\"]+)\1\s*[,)]", code[m.end():])
            if dst is not None and _placed(dst.group(2)):
                continue  # a copy into a place the rules can place: the source is untouched
        if m.group(1) in ("fs", "fs.promises", "fsPromises") and name in _FS_PLACED_WRITE:
            arg = re.match(r"\s*(['\"`])([^'\"`]+)\1", code[m.end():])
            if arg is not None and _placed(arg.group(2)):
                continue
        return f"code calls {m.group(1).split('(')[0]}.{name}()"
    for m in _OPEN_CALL.finditer(code):
        args = m.group(1)
        if not _WRITE_MODE.search(args):
            continue
        first = re.match(r"\s*[rbuf]?(['\"])([^'\"]+)\1\s*(?:,|$)", args)
        if first is None or not _placed(first.group(2)):
            return f"code opens a file for writing ({args[:60]})"
    for m in _URL_LIT.finditer(code):
        url = m.group(1)
        if _query_act(url) not in (None, "read") or _url_verb(url, stem=False) in (
                "destroy", "change"):
            return f"code calls an endpoint that names an act ({url[:60]})"
    return None


_METHOD_ACT = re.compile(
    r"\b(?:rs|sh|db|admin|cluster|sp)\.(?:step[Dd]own|shutdown\w*|stepDown|freeze|reconfig|"
    r"remove\w*|drop\w*|fsync\w*|repair\w*|compact|killOp|setFeatureCompatibilityVersion|"
    r"setParameter|runCommand|adminCommand|moveChunk|splitAt|disable\w*|enable\w*)\s*\(")
"""Mongo shell helpers that act on the server without a verb the rules classify
(``rs.stepDown()``, ``db.adminCommand(...)``, ``sh.disableBalancing()``)."""


def unrecognised_code(code: str) -> str | None:
    """Code (Python, JavaScript, a Mongo shell): recognised when no call it makes names a
    change or destroy verb outside the pure helpers (print, len, sorted, read_csv...), and
    every SQL string it executes is recognised."""
    calls = _CALL.findall(code)
    if not calls and not code.strip():
        return None
    if (why := _code_touches_files(code)) is not None:
        return why
    for name in calls:
        if name in _PURE or name.lower() in _PURE:
            continue
        c = verb_class(name)
        if c in ("destroy", "change", "make"):
            return f"code calls {name}()"
        if c is None and _METHOD_ACT.search(code) is not None:
            return f"code calls a method that acts on a server ({name}())"
    for m in re.finditer(r"\.(?:execute|executemany|executescript|sql|query|raw|run)\s*\(\s*"
                         r"[frbu]?(\"\"\"|'''|\"|')(.*?)\1", code, re.S):
        why = unrecognised_sql(m.group(2))
        if why is not None:
            return why
    for m in re.finditer(r"\b(?:os\.system|os\.popen|subprocess\.\w+|run_command|check_output)\s*"
                         r"\(\s*[frbu]?(\"\"\"|'''|\"|')(.*?)\1", code, re.S):
        why = unrecognised_shell(m.group(2), 1)
        if why is not None:
            return why
    if re.search(r"\bsubprocess\.\w+\s*\(\s*\[", code):
        inner = re.search(r"\bsubprocess\.\w+\s*\(\s*\[([^\]]*)\]", code)
        words = re.findall(r"[\"']([^\"']*)[\"']", inner.group(1)) if inner else []
        why = _command(words, [False] * len(words), 1) if words else \
            "subprocess with an argument list built at run time"
        if why is not None:
            return why
    if re.search(r"\b(?:exec|eval|__import__|getattr)\s*\(", code):
        return "code runs code it builds"
    sent = re.search(r"""\bmethod\s*[:=]\s*['"`](POST|PUT|PATCH|DELETE)['"`]""", code, re.I)
    if sent is not None:
        return f"code sends an HTTP {sent.group(1).upper()}"  # fetch(url, {method: 'PATCH'})
    return None
