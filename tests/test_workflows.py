"""The GitHub Actions workflows: actionlint finds nothing in them, and they do what the README
says: CI runs .ci/run (and so `make test`) on every push and pull request, and Pages publishes
the book built from main."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps") or []


def uses(step: dict[str, Any], action: str) -> bool:
    return step.get("uses", "").split("@")[0] == action


def actionlint() -> str:
    """The actionlint of this environment (requirements-dev.txt), or the one on PATH."""
    beside = Path(sys.executable).parent / "actionlint"
    if beside.is_file():
        return str(beside)
    found = shutil.which("actionlint")
    if found is None:
        pytest.fail("No actionlint: `make setup` installs it (requirements-dev.txt).")
    return found


def test_there_are_workflows() -> None:
    assert {path.name for path in FILES} >= {"ci.yml", "pages.yml"}


def test_actionlint_finds_nothing() -> None:
    # Same on every machine: no Python `run:` steps to check, and shellcheck checks the
    # `run:` scripts only where it is installed (as on GitHub's runners): without it,
    # the check is off explicitly rather than by actionlint's own look-up.
    command = [actionlint(), "-no-color", "-pyflakes="]
    if shutil.which("shellcheck") is None:
        command.append("-shellcheck=")
    result = subprocess.run(
        [*command, *(str(path) for path in FILES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"actionlint:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_actions_are_pinned_to_a_major_version_and_jobs_time_out(path: Path) -> None:
    workflow = load(path.name)
    for name, job in workflow["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"job {name} has no timeout-minutes"
        for step in steps(job):
            if "uses" in step:
                assert re.fullmatch(r"actions/[\w.-]+@v\d+", step["uses"]), step["uses"]


def test_ci_runs_ci_run_on_every_push_and_pull_request() -> None:
    workflow = load("ci.yml")
    triggers = workflow["on"]
    for event in ("push", "pull_request"):
        assert event in triggers, f"ci.yml does not run on {event}"
        assert not (triggers[event] or {}), f"ci.yml filters its {event} events"
    runners = [
        (job, step)
        for job in workflow["jobs"].values()
        for step in steps(job)
        if re.search(r"(^|\s)(bash\s+)?\.ci/run\s*$", step.get("run", ""))
    ]
    assert len(runners) == 1, "ci.yml has no (or more than one) step running .ci/run"
    job, step = runners[0]
    assert "if" not in job and "if" not in step
    assert str(job["runs-on"]).startswith("ubuntu-")
    assert uses(steps(job)[0], "actions/checkout")
    # Ubuntu's chromium is a snap stub: the browser test gets the runner's Google Chrome.
    assert {**job.get("env", {}), **step.get("env", {})}.get("CHROMIUM") == (
        "/usr/bin/google-chrome"
    )
    uploads = [s for s in steps(job) if uses(s, "actions/upload-artifact")]
    assert uploads, "ci.yml keeps no artifacts of a failed run"
    assert uploads[0]["if"] == "failure()"
    assert uploads[0]["with"]["path"].rstrip("/") == "artifacts"


def test_ci_run_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in script.splitlines() if line.strip()]
    assert commands[-1] == "make test"
    assert "CHROMIUM" in script, ".ci/run installs chromium even when $CHROMIUM is set"


def test_pages_publishes_the_book_built_from_main() -> None:
    workflow = load("pages.yml")
    triggers = workflow["on"]
    assert triggers["push"] == {"branches": ["main"]}
    assert set(triggers) <= {"push", "workflow_dispatch"}
    assert workflow["concurrency"]["group"]
    jobs = workflow["jobs"]
    build = next(
        job
        for job in jobs.values()
        # `make pdf` builds the book, then its PDFs.
        if any(str(s.get("run", "")).startswith(("make book", "make pdf")) for s in steps(job))
    )
    upload = next(s for s in steps(build) if uses(s, "actions/upload-pages-artifact"))
    assert upload["with"]["path"].rstrip("/") == "_build/html"
    assert any(uses(s, "actions/configure-pages") for s in steps(build))
    (name, deploy), *others = [
        (name, job)
        for name, job in jobs.items()
        if any(uses(s, "actions/deploy-pages") for s in steps(job))
    ]
    assert not others
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    build_name = next(key for key, job in jobs.items() if job is build)
    needs = deploy["needs"]
    assert build_name in ([needs] if isinstance(needs, str) else needs)
    # workflow_dispatch may start it from any branch: only main is published.
    assert deploy["if"] == "github.ref == 'refs/heads/main'", name
    # Nothing else in the workflow may write.
    assert workflow["permissions"] == {"contents": "read"}
