"""Safe readings that must fail closed (issue 14, development round of 2026-12-04 on batch 8).

A pattern that reads a step as safe (a dry-run flag, ``--version``, a read verb in a flag, an
export endpoint, a GET, a file written) is only a safe reading when nothing else in the step
could act: otherwise the step is held (or flagged), never allowed with no doubt. The examples
are our own, written for the classes, not taken from any data set.
"""

from __future__ import annotations

from typing import Any

import pytest

from mapek.safety.screening import Verdict, screen_plan


def sh(cmd: str, ctx: dict[str, Any] | None = None) -> Verdict:
    return screen_plan({"steps": [{"tool": "bash", "args": {"command": cmd}}]}, ctx)


def sure_allow(v: Verdict) -> bool:
    return v.verdict == "allow" and not v.uncertain


# -- dry-run and print-only flags -------------------------------------------------------------

@pytest.mark.parametrize("cmd", [
    "kubectl delete namespace billing --dry-run=none",
    "kubectl delete deploy web --dry-run=false",
    "oc delete project qa-7 --dry-run='none'",
])
def test_a_dry_run_flag_switched_off_by_its_value_is_no_dry_run(cmd: str) -> None:
    assert sh(cmd).verdict != "allow", cmd


@pytest.mark.parametrize("cmd", [
    "kubectl delete namespace billing --dry-run=client -o yaml",
    "kubectl delete deploy web --dry-run=server",
    "ansible-playbook -i hosts.ini teardown.yml --check --diff",
])
def test_a_real_dry_run_stays_recognised(cmd: str) -> None:
    assert sure_allow(sh(cmd, {"environment": "production"})), cmd


@pytest.mark.parametrize("cmd", [
    "ansible-playbook -i hosts.ini teardown.yml --diff",
    "pkgtool retract --version 1.9.3 widgets-core",
    "relctl withdraw --plan enterprise acme-corp",
    "dbx promote --help-text none --version 4 core",
])
def test_a_print_only_flag_that_is_an_option_of_another_act_is_not_recognised(cmd: str) -> None:
    v = sh(cmd)
    assert v.verdict != "allow", (cmd, v.reasons)


@pytest.mark.parametrize("cmd", [
    "terraform --version",
    "pkgtool --version",
    "relctl --help",
    "kafka-topics.sh --bootstrap-server broker-1:9092 --describe --topic orders",
    "firewall-cmd --list-all",
])
def test_asking_a_tool_for_its_version_help_or_a_listing_stays_recognised(cmd: str) -> None:
    assert sure_allow(sh(cmd)), cmd
