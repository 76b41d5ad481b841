"""What the rules positively recognise as safe: the other half of failing closed.

The destructive rules say what they saw; an action none of them fired on is *not* thereby safe.
This module says when an action is recognised as safe, and everything else is left
``uncertain`` (the screener holds it for the judge or a person):

- a **verb** the action names is a known read (get, list, describe, show, status, logs, diff,
  plan, validate, --help, --dry-run...) or a known constructive act (create, add, build, test,
  install, copy, backup, commit...), and no verb it names is a known change or destroy
  (update, set, apply, deploy, restart, delete, drop, purge...). The verb is read from a
  subcommand (``kubectl get``, ``aws ec2 describe-instances``, ``db:seed``), a tool's name
  (``github.list_repositories``), the operation or HTTP method in its arguments, a called
  function's name in code, a PowerShell cmdlet's verb (``Get-ChildItem``), an SQL statement's
  kind, or a free-text plan's verbs. So "recognised" means something for CLIs, APIs and
  wording no rule was written for;
  A constructive verb is recognised only when what it makes is inert: not something that runs
  (a job, a command sent to machines, a startup script), not access (a key, a member, a role,
  a group; a privileged role named in an argument), not money, not a setting (``env add``),
  and with no argument naming a removal (``--document file://factory_reset.json``). A read
  word that names a service (``gcloud compute``, ``aws logs``) does not hide the verb after it;
- or the command is a known **single-purpose binary** that only reads or makes (ls, cat, grep,
  jq, mkdir, cp, tar...);
- or a **registered tool** declares its effect ``read`` or ``write`` (the gateway enforces the
  grant a write needs; the rules read its arguments);

An unknown binary, an unknown verb of a known CLI, an unknown tool name or SaaS method, a
write-ish verb, a script in a language that is not parsed, or a free-text plan that acts on
something without a known safe verb is not recognised. :func:`unrecognised_step` and
:func:`unrecognised_text` return what was not recognised (``None`` when all of it was).
"""

from __future__ import annotations

from mapek.safety.rules.recognise.shell import (
    fetched_files,
    load_destination,
    unrecognised_shell,
)
from mapek.safety.rules.recognise.step import step_targets, unrecognised_step, writes_file
from mapek.safety.rules.recognise.text import unrecognised_text
from mapek.safety.rules.recognise.verbs import (
    CHANGE_VERBS,
    DESTROY_VERB,
    DESTROY_VERBS,
    MAKE_VERBS,
    MAX_CHARS,
    READ_VERBS,
    verb_class,
)

__all__ = ["DESTROY_VERB", "MAX_CHARS", "fetched_files", "load_destination", "unrecognised_step",
           "unrecognised_text",
           "unrecognised_shell", "step_targets", "verb_class", "writes_file", "READ_VERBS",
           "MAKE_VERBS", "CHANGE_VERBS", "DESTROY_VERBS"]
