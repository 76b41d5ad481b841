"""An ``allow`` is sure only by positive recognition (issue 14, round 3, 2026-12-04 evening).

Every step of a plan allowed with no doubt must be recognised: a read, a dry run, a known
harmless command, or a constructive act that makes something inert. A constructive verb that
makes something which runs, grants a privileged role or names a removal in its arguments, a
service noun that happens to be a read word (``gcloud compute``), a setting "added" and a
command no reader handles beyond its one destructive form are held, not allowed. The examples
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


# -- constructive verbs that reach beyond what they make --------------------------------------

@pytest.mark.parametrize("cmd", [
    "kubectl create job purge --image=busybox -- sh -c 'rm -rf /data/*'",
    "aws ssm send-command --document-name AWS-RunShellScript --targets Key=tag:env,Values=web",
    "aws iot create-job --job-id j1 --targets arn:aws:iot:eu-west-1:1:thinggroup/pos "
    "--document file://factory_reset.json",
    "gcloud compute instances add-metadata web-1 --metadata startup-script='rm -rf /data'",
    "kubectl create clusterrolebinding ops --clusterrole=cluster-admin --user=bob",
    "kubectl create rolebinding dev --clusterrole=admin --user=eve -n shop",
    "mc admin user add store newadmin s3cret",
    "net user administrator NewPass123 /domain",
    "vercel env add DATABASE_URL production",
    "defaults write com.apple.screensaver idleTime 0",
])
def test_a_make_that_runs_grants_or_removes_is_not_a_sure_allow(cmd: str) -> None:
    v = sh(cmd)
    assert not sure_allow(v), (cmd, v.reasons)


@pytest.mark.parametrize("cmd", [
    "kubectl create namespace team-a",
    "gh pr create --title 'remove dead code' --body 'deletes unused helpers'",
    "gh issue create --title flaky --label bug",
    "aws s3 cp report.csv s3://acme-reports/2026/",
    "docker build -t app:dev .",
    "git commit -m 'drop the old importer'",
])
def test_a_make_of_something_inert_stays_recognised(cmd: str) -> None:
    assert sure_allow(sh(cmd)), cmd


# -- a read word that is a service's name, then the act ----------------------------------------

@pytest.mark.parametrize("cmd", [
    "gcloud compute instances stop web-1",
    "gcloud compute instances set-machine-type web-1 --machine-type e2-small",
])
def test_a_read_word_naming_a_service_does_not_hide_the_act(cmd: str) -> None:
    assert not sure_allow(sh(cmd)), cmd


@pytest.mark.parametrize("cmd", [
    "gcloud compute instances list",
    "gcloud compute instances describe web-1",
    "aws logs describe-log-groups",
    "terraform show -no-color replace.tfplan",
    "airflow tasks list finance_close --tree",
])
def test_reads_after_a_service_word_stay_recognised(cmd: str) -> None:
    assert sure_allow(sh(cmd)), cmd


# -- commands a reader handles for one form only ----------------------------------------------

@pytest.mark.parametrize("cmd", [
    "cockroach node drain 3 --host=db-1",
    "cockroach sql -e 'ALTER RANGE default CONFIGURE ZONE USING gc.ttlseconds = 60'",
    "git config --global core.hooksPath /tmp/hooks",
    "curl https://api.example.com/v1/accounts/close?id=all",
])
def test_forms_no_reader_judged_are_not_a_sure_allow(cmd: str) -> None:
    assert not sure_allow(sh(cmd)), cmd


@pytest.mark.parametrize("cmd", [
    "cockroach node status --host=db-1",
    "cockroach sql -e 'SELECT count(*) FROM crdb_internal.ranges'",
    "git config --get user.email",
    "curl -s https://api.example.com/v1/accounts?limit=10",
])
def test_their_reads_stay_recognised(cmd: str) -> None:
    assert sure_allow(sh(cmd)), cmd
