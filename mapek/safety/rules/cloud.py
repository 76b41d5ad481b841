"""Cloud and cluster CLIs, read from a tokenised command line, and terraform plan output.

terraform/tofu/terragrunt/pulumi/cdk: ``destroy``, ``apply -destroy``, ``apply -replace=`` on a
stateful resource, ``state rm``, ``workspace delete``. aws: ``delete-*``, ``terminate-*``,
``s3 rb``, ``s3 rm --recursive``, backup and snapshot deletion, ``--backup-retention-period 0``,
CloudTrail/Config/GuardDuty stops, KMS key deletion. gcloud/gsutil/az: ``delete`` verbs, with
audit sinks and diagnostic settings as audit. kubectl/oc: ``delete`` of namespaces, volumes,
stateful sets, CRDs, or ``--all``; helm ``uninstall``; eksctl/kind cluster deletion; velero,
restic, borg, zfs snapshot deletion. A ``--dry-run``/``--dryrun``/``--what-if`` makes any of
them harmless; ``terraform plan`` (even ``plan -destroy``) only plans.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mapek.safety.rules._base import Finding, PlanState, norm_target, snippet

__all__ = ["CLOUD_COMMANDS", "scan_plan_output", "is_dry_run", "NOT_DRY"]

_DRY = ("--dry-run", "--dryrun", "--what-if", "--whatif", "-whatif", "--noop", "--check",
        "--dry")


NOT_DRY = frozenset({"none", "false", "0", "no", "off", "unchanged"})
"""Values that switch a dry-run flag off (``kubectl delete --dry-run=none`` deletes)."""


def is_dry_run(tokens: list[str]) -> bool:
    """A dry-run flag among the tokens, by its whole name (``--dry-run=client``; not
    ``--checksum`` or ``--checkpoint-action``, which only share their first letters), and not
    switched off by its value (``--dry-run=none``, ``--check=false``)."""
    for t in tokens:
        name, _, value = t.lower().partition("=")
        if name in _DRY and value.strip("'\"") not in NOT_DRY:
            return True
    return False


def _positional(tokens: list[str], value_flags: frozenset[str] = frozenset()) -> list[str]:
    out, skip = [], False
    for t in tokens:
        if skip:
            skip = False
            continue
        if t.startswith("-"):
            if "=" not in t and t in value_flags:
                skip = True
            continue
        out.append(t)
    return out


def _flag_values(tokens: list[str], *names: str) -> list[str]:
    vals = []
    for i, t in enumerate(tokens):
        for n in names:
            if t == n and i + 1 < len(tokens):
                vals.append(tokens[i + 1])
            elif t.startswith(n + "="):
                vals.append(t.split("=", 1)[1])
    return vals


_STATEFUL = re.compile(
    r"(?:db_instance|rds_cluster|rds|sql_database|sql_server|database|dynamodb_table|s3_bucket|"
    r"storage_bucket|storage_account|ebs_volume|_volume|_disk|efs_file_system|elasticache|redshift|"
    r"bigquery_dataset|bigquery_table|spanner|bigtable|cosmosdb|kms_key|key_vault|"
    r"elasticsearch|opensearch|documentdb|docdb|neptune|memorydb|kafka|msk_cluster|filestore)",
    re.I)


def _iac(tokens: list[str], text: str, state: PlanState) -> list[Finding]:
    tool = tokens[0]
    pos = _positional(tokens[1:], frozenset({"-chdir", "--stack", "-s", "--cwd", "-var",
                                              "-var-file", "-target", "-replace"}))
    sub = pos[0] if pos else ""
    targets = tuple(_flag_values(tokens, "-target", "--target"))
    if tool == "pulumi":
        targets += tuple(_flag_values(tokens, "--stack", "-s"))
    if sub in ("plan", "preview", "validate", "fmt", "show", "output", "init", "graph",
               "providers", "version", "diff", "synth", "list", "ls"):
        return []
    if sub == "destroy" or (sub in ("apply", "up", "deploy") and "-destroy" in tokens):
        return [Finding("cloud.iac-destroy", snippet(text), targets)]
    if sub in ("apply", "up"):
        repl = _flag_values(tokens, "-replace", "--replace", "--target-replace")
        hard = [r for r in repl if _STATEFUL.search(r)]
        if hard:
            return [Finding("cloud.iac-replace-stateful", snippet(text), tuple(hard))]
        if repl:
            return [Finding("cloud.iac-replace-stateful", snippet(text), tuple(repl),
                            certain=False)]
        return []
    if sub == "state" and len(pos) > 1 and pos[1] in ("rm", "delete", "push"):
        return [Finding("cloud.iac-state", snippet(text), tuple(pos[2:4]))]
    if sub in ("workspace", "stack") and len(pos) > 1 and pos[1] in ("delete", "rm", "remove"):
        return [Finding("cloud.iac-state", snippet(text), tuple(pos[2:4]))]
    return []


_AWS_AUDIT = re.compile(r"^(?:stop-logging|delete-trail|delete-configuration-recorder|"
                        r"stop-configuration-recorder|delete-detector|disable-security-hub|"
                        r"delete-flow-logs|disable-organization-admin-account|"
                        r"delete-delivery-channel|put-bucket-logging)$")
_AWS_BACKUP = re.compile(r"^(?:delete-(?:db-|db-cluster-|cluster-)?snapshots?|delete-backups?|"
                         r"delete-recovery-point|delete-backup-(?:vault|plan|selection)|"
                         r"delete-db-instance-automated-backup|deregister-image|"
                         r"delete-(?:fsx-)?backup|delete-snapshot-schedule)$")
_AWS_DESTROY = re.compile(r"^(?:delete-(?!tags$|alarms$|message$|messages$|tag$|attributes$|"
                          r"object$|object-tagging$|dashboards?$|queue-message).+|"
                          r"terminate-.+|purge-queue|delete-objects|batch-delete-.+|"
                          r"remove-(?:role|user|db|instances?-from|targets)|disable-key|"
                          r"schedule-key-deletion|empty-bucket)$")


def _aws(tokens: list[str], text: str, state: PlanState) -> list[Finding]:
    pos = _positional(tokens[1:], frozenset({"--region", "--profile", "--output", "--query",
                                              "--endpoint-url", "--cli-input-json"}))
    if len(pos) < 2:
        return []
    svc, op = pos[0], pos[1]
    ids = tuple(v for v in pos[2:6] if not v.startswith("{"))
    ids += tuple(t for i, t in enumerate(tokens) if i > 0 and tokens[i - 1].endswith(
        ("-identifier", "-name", "-id", "-ids", "--bucket", "--table-name", "--stack-name",
         "--cluster", "--function-name", "--key-id", "--snapshot-id", "--volume-id")))
    if svc == "s3":
        if op == "rb":
            return [Finding("cloud.bucket-delete", snippet(text), ids,
                            owned=bool(ids) and all(state.owns(i) for i in ids))]
        if op == "rm" and ("--recursive" in tokens or any("*" in p for p in pos[2:])):
            owned = bool(ids) and all(state.owns(i) for i in ids)
            return [Finding("cloud.bucket-delete", snippet(text), ids, owned=owned)]
        if op == "mb":
            state.created.update(norm_target(i) for i in ids)
        if op == "sync" and "--delete" in tokens:
            return [Finding("shell.sync-delete", snippet(text), ids[1:2], certain=False)]
        return []
    if svc in ("s3api",) and op in ("delete-bucket", "delete-objects"):
        return [Finding("cloud.bucket-delete", snippet(text), ids)]
    if _AWS_AUDIT.match(op) and (svc in ("cloudtrail", "configservice", "guardduty",
                                         "securityhub", "ec2", "organizations") or
                                 op == "stop-logging"):
        if op == "put-bucket-logging" and "LoggingEnabled" in text:
            return []
        return [Finding("audit.disable", snippet(text), ids)]
    if svc == "rds" and op.startswith("modify-db") and re.search(
            r"--backup-retention-period[ =]0\b", text):
        return [Finding("backup.delete", snippet(text), ids)]
    if _AWS_BACKUP.match(op):
        return [Finding("backup.delete", snippet(text), ids)]
    if svc == "kms" and op in ("schedule-key-deletion", "disable-key"):
        return [Finding("cloud.key-delete", snippet(text), ids)]
    if svc == "logs" and op == "delete-log-group":
        return [Finding("audit.disable", snippet(text), ids, certain=False, blast="destructive")]
    if _AWS_DESTROY.match(op):
        if op.startswith("delete-db") and ("--skip-final-snapshot" in tokens or
                                            "--delete-automated-backups" in tokens):
            return [Finding("cloud.delete", snippet(text), ids),
                    Finding("backup.delete", snippet(text), ids)]
        return [Finding("cloud.delete", snippet(text), ids,
                        owned=bool(ids) and all(state.owns(i) for i in ids))]
    return []


def _gcloud(tokens: list[str], text: str, state: PlanState) -> list[Finding]:
    pos = _positional(tokens[1:], frozenset({"--project", "--region", "--zone", "--format",
                                              "--filter", "--account", "--location"}))
    if "delete" not in pos and not (pos[:2] == ["storage", "rm"]):
        if len(pos) >= 3 and pos[-2:-1] == ["create"] or (len(pos) >= 3 and "create" in pos):
            i = pos.index("create")
            state.created.update(norm_target(p) for p in pos[i + 1:i + 3])
        return []
    if pos[:2] == ["storage", "rm"]:
        if "-r" in tokens or "--recursive" in tokens:
            return [Finding("cloud.bucket-delete", snippet(text), tuple(pos[2:5]))]
        return []
    i = pos.index("delete")
    group, names = pos[:i], tuple(pos[i + 1:i + 5])
    owned = bool(names) and all(state.owns(n) for n in names)
    g = " ".join(group)
    if "logging sinks" in g or "audit" in g or g.startswith("logging"):
        return [Finding("audit.disable", snippet(text), names, owned=owned)]
    if "snapshots" in g or "backups" in g or "backup" in g:
        return [Finding("backup.delete", snippet(text), names, owned=owned)]
    if "clusters" in g and "container" in g:
        return [Finding("cluster.cluster-delete", snippet(text), names, owned=owned)]
    if g.startswith("storage") or "buckets" in g:
        return [Finding("cloud.bucket-delete", snippet(text), names, owned=owned)]
    return [Finding("cloud.delete", snippet(text), names, owned=owned)]


def _gsutil(tokens: list[str], text: str, state: PlanState) -> list[Finding]:
    pos = _positional(tokens[1:])
    if not pos:
        return []
    if pos[0] == "rb" or (pos[0] == "rm" and ("-r" in tokens or "-a" in tokens or
                                              any("*" in p for p in pos[1:]))):
        return [Finding("cloud.bucket-delete", snippet(text), tuple(pos[1:4]))]
    return []


def _az(tokens: list[str], text: str, state: PlanState) -> list[Finding]:
    pos = _positional(tokens[1:], frozenset({"--subscription", "--query", "-o", "--output"}))
    verbs = [p for p in pos if p == "delete" or p.startswith("delete-") or p == "purge"]
    names = tuple(_flag_values(tokens, "--name", "-n", "--resource-group", "-g", "--ids"))
    g = " ".join(pos)
    if "backup protection disable" in g and "--delete-backup-data" in text:
        return [Finding("backup.delete", snippet(text), names)]
    if not verbs:
        return []
    owned = bool(names) and all(state.owns(n) for n in names)
    if "diagnostic-settings" in g or "log-analytics" in g or "activity-log" in g:
        return [Finding("audit.disable", snippet(text), names, owned=owned)]
    if "snapshot" in g or "backup" in g or "recoverypoint" in g:
        return [Finding("backup.delete", snippet(text), names, owned=owned)]
    if g.startswith("storage"):
        return [Finding("cloud.bucket-delete", snippet(text), names, owned=owned)]
    if g.startswith("aks") and "nodepool" not in g:
        return [Finding("cluster.cluster-delete", snippet(text), names, owned=owned)]
    return [Finding("cloud.delete", snippet(text), names, owned=owned)]


_K8S_HEAVY = frozenset("""namespace namespaces ns pv pvc persistentvolume persistentvolumes
persistentvolumeclaim persistentvolumeclaims statefulset statefulsets sts crd crds
customresourcedefinition customresourcedefinitions node nodes cluster clusters""".split())
_K8S_LIGHT = frozenset("""pod pods po job jobs event events replicaset replicasets rs
certificaterequest""".split())


def _kubectl(tokens: list[str], text: str, state: PlanState) -> list[Finding]:
    pos = _positional(tokens[1:], frozenset({"-n", "--namespace", "--context", "-l", "--selector",
                                              "-o", "--output", "--kubeconfig", "-c",
                                              "--grace-period", "--timeout", "-f", "--filename"}))
    if not pos:
        return []
    if pos[0] == "create" and len(pos) >= 3 and pos[1] in ("namespace", "ns"):
        state.created.add(norm_target(pos[2]))
        return []
    if pos[0] != "delete":
        return []
    files = tuple(_flag_values(tokens, "-f", "--filename"))
    rest = pos[1:]
    kinds, names = [], []
    for r in rest:
        if "/" in r:
            k, _, n = r.partition("/")
            kinds.append(k.lower())
            names.append(n)
        elif not kinds:
            kinds.extend(x.lower() for x in r.split(","))
        else:
            names.append(r)
    everything = "--all" in tokens or "-A" in tokens or "--all-namespaces" in tokens
    targets = tuple(names) + files
    owned = bool(targets) and all(state.owns(t) for t in targets)
    heavy = any(k in _K8S_HEAVY for k in kinds)
    if heavy or (everything and not all(k in _K8S_LIGHT for k in kinds)):
        return [Finding("cluster.delete", snippet(text), targets, owned=owned)]
    if files:
        return [Finding("cluster.delete", snippet(text), targets, certain=False, owned=owned)]
    if kinds and all(k in _K8S_LIGHT for k in kinds):
        return []
    if kinds:
        return [Finding("cluster.delete", snippet(text), targets, certain=False, owned=owned)]
    return []


def _helm(tokens: list[str], text: str, state: PlanState) -> list[Finding]:
    pos = _positional(tokens[1:], frozenset({"-n", "--namespace", "--kube-context"}))
    if pos and pos[0] in ("uninstall", "delete", "del", "un"):
        names = tuple(pos[1:4])
        return [Finding("cluster.release-uninstall", snippet(text), names,
                        owned=bool(names) and all(state.owns(n) for n in names))]
    if pos and pos[0] in ("install", "upgrade") and len(pos) > 1:
        state.created.add(norm_target(pos[1]))
    return []


def _cluster_tools(tokens: list[str], text: str, state: PlanState) -> list[Finding]:
    pos = _positional(tokens[1:], frozenset({"--name", "--region"}))
    if pos[:1] == ["delete"]:
        names = tuple(_flag_values(tokens, "--name")) + tuple(pos[2:3])
        certain = tokens[0] == "eksctl"
        return [Finding("cluster.cluster-delete", snippet(text), names, certain=certain)]
    return []


def _backup_tools(tokens: list[str], text: str, state: PlanState) -> list[Finding]:
    tool = tokens[0]
    pos = _positional(tokens[1:])
    hit = False
    if tool == "velero":
        hit = len(pos) >= 2 and pos[0] in ("backup", "schedule", "restore") and pos[1] == "delete"
    elif tool in ("restic", "kopia"):
        hit = bool(pos) and pos[0] in ("forget", "prune") or "snapshot delete" in " ".join(pos)
    elif tool == "borg":
        hit = bool(pos) and pos[0] in ("delete", "prune")
    elif tool in ("zfs",):
        if pos and pos[0] == "destroy":
            rule = "backup.delete" if any("@" in p for p in pos[1:]) else "shell.device-write"
            return [Finding(rule, snippet(text), tuple(pos[1:3]),
                            blast=None if rule == "backup.delete" else "destructive")]
    elif tool in ("lvremove", "vgremove", "pvremove"):
        return [Finding("shell.device-write", snippet(text), tuple(pos[:2]))]
    elif tool == "tmutil":
        hit = bool(pos) and pos[0] in ("delete", "deletelocalsnapshots")
    elif tool == "snapper":
        hit = bool(pos) and pos[0] in ("delete", "rm")
    elif tool == "btrfs":
        hit = "subvolume delete" in " ".join(pos)
    if hit:
        return [Finding("backup.delete", snippet(text), tuple(pos[2:4]))]
    return []


def _vault(tokens: list[str], text: str, state: PlanState) -> list[Finding]:
    pos = _positional(tokens[1:])
    if pos[:2] == ["audit", "disable"]:
        return [Finding("audit.disable", snippet(text), tuple(pos[2:3]))]
    if pos[:2] in (["kv", "destroy"], ["kv", "metadata"]) and "delete" in pos or \
            pos[:2] == ["secrets", "disable"]:
        return [Finding("cloud.key-delete", snippet(text), tuple(pos[2:4]))]
    return []


RETENTION_GATE = re.compile(r"lifecycle|retention|expir|delete-after|min_age|management-policy",
                            re.I)
_EXPIRE_KEY = re.compile(r"expiration|\"delete\"|\bdelete\s*[:={]|\"type\"\s*:\s*\"delete\"|"
                         r"\bexpire\b", re.I)
"""The rule deletes (S3 Expiration, GCS/ES/Azure delete actions), not moves to a colder tier."""
_SHORT_AGE = re.compile(
    r"[\"']?\b(?:days|noncurrentdays|age|daysaftermodificationgreaterthan|"
    r"daysaftercreationgreaterthan|daysafterlastaccesstimegreaterthan|daysSinceNoncurrentTime|"
    r"daysSinceCustomTime|expiration_days|noncurrent_days)\b[\"']?\s*[:=]\s*([01])\b|"
    r"\"min_age\"\s*:\s*\"(?:[01]d|\d+(?:h|m|s|ms|micros|nanos))\"", re.I)
_SCOPED = re.compile(r"[\"']?\b(?:Prefix|matchesPrefix|matchesSuffix|prefixMatch|Tag|Tags|And|"
                     r"ObjectSizeGreaterThan|matchesStorageClass|blobIndexMatch)\b[\"']?\s*[:=]\s*"
                     r"(?!\"\"|''|\[\s*\]|\{\s*\})", re.I)
_RETENTION_FLAG = re.compile(r"--(?P<flag>[\w.-]*(?:retention|expire-after|delete-after)[\w.-]*)"
                             r"[= ]+[\"']?(?P<n>\d+)\s*(?P<unit>d|days?|h|hours?|m|min|minutes?|s|"
                             r"ms)?[\"']?(?![\w.])|\bretention\.(?:ms|bytes)=(?P<ms>\d+)", re.I)


def scan_retention(text: str, targets: tuple[str, ...] = ()) -> list[Finding]:
    """Lifecycle or retention settings that expire everything: a lifecycle rule (S3 JSON or
    Terraform, GCS, Azure management policy, an Elasticsearch ILM delete phase) that deletes
    at an age of 1 day or less with no prefix, tag or size filter (or an empty one); a
    retention flag (``--retention-in-days 1``, ``--storage.tsdb.retention.time=1h``) of a day
    or less; Kafka ``retention.ms`` under a day. A token's or cache's ``--ttl`` is not retention
    of data and is left alone. Destruction written as configuration: nothing is deleted now,
    everything is gone tomorrow."""
    if not RETENTION_GATE.search(text):
        return []
    if _SHORT_AGE.search(text) and _EXPIRE_KEY.search(text) and not _SCOPED.search(text):
        return [Finding("cloud.retention-wipe", snippet(text), targets)]
    for m in _RETENTION_FLAG.finditer(text):
        if m.group("ms") is not None:
            if int(m.group("ms")) < 86_400_000 and "retention.ms" in m.group(0):
                return [Finding("cloud.retention-wipe", snippet(text), targets)]
            continue
        n, unit = int(m.group("n")), (m.group("unit") or "").lower()
        flag = m.group("flag").lower()
        if unit and not unit.startswith("d"):
            hit = True
        elif unit or any(w in flag for w in ("day", "period", "time", "age")):
            hit = n <= 1
        else:
            hit = False  # a bare number: a count of copies, not an age
        if hit:
            return [Finding("cloud.retention-wipe", snippet(text), targets)]
    return []


CLOUD_COMMANDS: dict[str, Callable[[list[str], str, PlanState], list[Finding]]] = {
    "terraform": _iac, "tofu": _iac, "terragrunt": _iac, "pulumi": _iac, "cdk": _iac,
    "cdktf": _iac,
    "aws": _aws, "gcloud": _gcloud, "gsutil": _gsutil, "az": _az,
    "kubectl": _kubectl, "oc": _kubectl, "k": _kubectl, "helm": _helm,
    "eksctl": _cluster_tools, "kind": _cluster_tools, "minikube": _cluster_tools,
    "k3d": _cluster_tools,
    "velero": _backup_tools, "restic": _backup_tools, "kopia": _backup_tools,
    "borg": _backup_tools, "zfs": _backup_tools, "lvremove": _backup_tools,
    "vgremove": _backup_tools, "pvremove": _backup_tools, "tmutil": _backup_tools,
    "snapper": _backup_tools, "btrfs": _backup_tools, "vault": _vault,
}
"""Command name -> analyser of its tokens. Dry runs are filtered before dispatch."""


_REPLACED = re.compile(
    r"#\s*(?P<addr>[\w.\[\]\"-]+)\s+(?:must be replaced|will be destroyed|will be replaced)|"
    r"(?P<addr2>[\w.\[\]\"-]+)\s*(?:\(|:)?\s*(?:forces replacement|must be replaced)",
    re.I)
_PLAN_SUMMARY = re.compile(r"\bPlan:\s*\d+\s+to\s+add,\s*\d+\s+to\s+change,\s*(\d+)\s+to\s+destroy",
                           re.I)
_PULUMI_DELETE = re.compile(r"^\s*[-+]{1,2}\s*\S+\s+(?:delete|replace)\b", re.M)


def scan_plan_output(text: str) -> list[Finding]:
    """terraform/tofu plan text: resources that must be replaced or destroyed."""
    if "to destroy" not in text and "replace" not in text and "destroyed" not in text:
        return []
    found: list[Finding] = []
    addrs = [m.group("addr") or m.group("addr2") for m in _REPLACED.finditer(text)]
    hard = [a for a in addrs if a and _STATEFUL.search(a)]
    if hard:
        found.append(Finding("cloud.iac-replace-stateful", snippet(" ".join(hard)),
                             tuple(hard[:8])))
    m = _PLAN_SUMMARY.search(text)
    if m and int(m.group(1)) > 0 and not hard:
        found.append(Finding("cloud.iac-plan-destroys", snippet(m.group(0)),
                             tuple(a for a in addrs[:8] if a), certain=bool(addrs)))
    return found
