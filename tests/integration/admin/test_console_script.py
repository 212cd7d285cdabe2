"""The installed ``callsync`` console script as an operator's shell runs it: a version, no traceback when AWS
has no region or credentials, and a quiet end when the reader of its output goes away (``| head``)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
CALLSYNC = str(Path(sys.executable).parent / "callsync")


def aws_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment without any AWS region (no variable, an empty config file), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    config = tmp_path / "aws-config"
    config.write_text("")
    return {
        **env,
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(config),
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }


def test_version_is_the_installed_package_version() -> None:
    # Given the installed console script / When asked for its version
    done = subprocess.run([CALLSYNC, "--version"], capture_output=True, text=True, check=False, timeout=60)
    # Then it prints the distribution's version and exits 0
    assert done.returncode == 0 and done.stdout.strip() == f"callsync {version('callsync')}"


@pytest.mark.parametrize(
    "command",
    [
        ["replay", "--call", "c1"],
        ["backfill", "account-links", "--file", "{file}"],
        ["doctor", "--org-id", "acme"],
        ["settings", "show", "--org-id", "acme"],
    ],
    ids=["replay", "backfill", "doctor", "settings"],
)
def test_a_missing_aws_region_is_one_clear_line(tmp_path: Path, command: list[str]) -> None:
    # Given AWS credentials but no region anywhere
    env = aws_env(tmp_path, AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="example")
    file = tmp_path / "c.jsonl"
    file.write_text('{"domain": "globex.com", "url": "https://app.example/globex"}\n')
    # When an admin command that acts on the deployed stack runs
    argv = [CALLSYNC, *(part.replace("{file}", str(file)) for part in command)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=120)
    # Then it exits 2 with one line saying what to set, and no traceback
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("callsync: no AWS region is set: export AWS_DEFAULT_REGION")


def test_missing_aws_credentials_are_one_clear_line(tmp_path: Path) -> None:
    # Given a region but no credentials
    env = aws_env(tmp_path, AWS_DEFAULT_REGION="eu-west-1")
    # When replay runs against the deployed stack
    done = subprocess.run(
        [CALLSYNC, "replay", "--call", "c1"], capture_output=True, text=True, env=env, check=False, timeout=120
    )
    # Then it exits 2 with one line, and no traceback
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("callsync: no AWS credentials found")


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    # Given `callsync demo | head -0`: a reader that closes the pipe before the report is written
    proc = subprocess.Popen([CALLSYNC, "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    # When the command writes its report
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=300)
    # Then it ends with the shell's SIGPIPE status and nothing about the pipe on stderr
    assert code == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
