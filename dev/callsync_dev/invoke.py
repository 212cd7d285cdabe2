"""``callsync invoke FUNCTION -e EVENT.json``: one function of the *built* application, as Lambda runs it.

What ``sam local invoke`` does, without Docker:

- the code is what ``sam build`` wrote to ``.aws-sam/build``: the function's directory as the task root
  and its layers' ``python/`` directories, in the order Lambda puts them on ``sys.path``. The layer is built
  for the template's architecture (arm64); on another machine, a copy of the build with the layer rebuilt by
  its Makefile for this machine (same code, same locked versions, other wheels) runs instead
  (``.aws-sam/build-x86_64``, remade after each ``sam build``);
- the process is a CPython 3.13 running the AWS Lambda runtime interface client (``python -m awslambdaric
  app.handler``, from ``requirements/lambda-runtime.txt`` with the runtime's boto3, installed once into
  ``.aws-sam/lambda-runtime``), started with ``-S`` so nothing else of the interpreter's site-packages is
  importable; it polls a Runtime API emulator on loopback (``callsync_dev.runtime_api``);
- its environment is the function's from the template (Globals + its own variables, resolved against the
  local stack) plus what Lambda sets (``AWS_LAMBDA_FUNCTION_NAME``, ``LAMBDA_TASK_ROOT``, ``_HANDLER``, ...);
- AWS is the local stack (moto, built from ``template.yaml``) served over HTTP on loopback
  (``AWS_ENDPOINT_URL``), Salesforce is the emulator seeded with the demo org and settings (or ``--org`` /
  ``--settings``), with the org's OAuth secret in Secrets Manager.

A function error (the handler raised, or the function could not start, or it ran out of time) prints the
runtime's error document and exits 1; the response is printed as JSON and the command exits 0.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callsync_dev.cfn import REPO_ROOT, TEMPLATE_PATH, load_template, resources_of_type
from callsync_dev.runtime_api import Outcome, RuntimeApi

BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
RUNTIME_DIR = REPO_ROOT / ".aws-sam" / "lambda-runtime"
RUNTIME_LOCK = REPO_ROOT / "requirements" / "lambda-runtime.txt"
PYTHON_ENV = "CALLSYNC_PYTHON313"  # overrides where the CPython 3.13 interpreter is found
INIT_GRACE_SECONDS = 30.0  # the function's Timeout counts from the invocation; importing comes first
SETTLE_SECONDS = 120.0
_ARCH_OF_MACHINE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


class InvokeError(Exception):
    """The built application, the interpreter or the arguments are not usable (exit 2)."""


@dataclass(frozen=True)
class BuiltFunction:
    logical_id: str
    code_dir: Path
    handler: str
    layer_dirs: tuple[Path, ...]
    timeout: int
    memory: int


def built_functions(build_dir: Path = BUILD_DIR) -> dict[str, BuiltFunction]:
    """Every ``AWS::Serverless::Function`` of the template ``sam build`` wrote, with its built code and layers."""
    template_path = build_dir / "template.yaml"
    if not template_path.is_file():
        raise InvokeError(f"{template_path} does not exist: run `sam build` first (README, Deployment)")
    template = load_template(template_path)
    resources = template["Resources"]
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    functions = {}
    for logical, spec in resources_of_type(template, "AWS::Serverless::Function").items():
        props = spec["Properties"]
        layers = []
        for ref in props.get("Layers", globals_fn.get("Layers", [])):
            name = ref.get("Ref") if isinstance(ref, dict) else None
            layer = resources.get(name) if isinstance(name, str) else None
            if layer is None or layer.get("Type") != "AWS::Serverless::LayerVersion":
                raise InvokeError(f"{logical}: layer {ref!r} is not a layer of this template")
            layers.append(build_dir / str(layer["Properties"]["ContentUri"]) / "python")
        functions[logical] = BuiltFunction(
            logical_id=logical,
            code_dir=build_dir / str(props["CodeUri"]),
            handler=str(props.get("Handler", globals_fn.get("Handler", "app.handler"))),
            layer_dirs=tuple(layers),
            timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            memory=int(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
        )
    return functions


def find_function(functions: Mapping[str, BuiltFunction], name: str) -> BuiltFunction:
    """By logical id (``StartSyncFunction``) or by source directory name (``start_sync``)."""
    if name in functions:
        return functions[name]
    wanted = name.replace("_", "").lower()
    for fn in functions.values():
        if fn.logical_id.lower() in (wanted, f"{wanted}function"):
            return fn
    raise InvokeError(f"no function {name!r} in the built template; one of: {', '.join(sorted(functions))}")


def layer_architecture(layer_dir: Path) -> str | None:
    """``arm64`` / ``x86_64`` from the layer's compiled extensions; None when it has none."""
    for path in layer_dir.rglob("*.so"):
        if "-aarch64-linux-gnu" in path.name:
            return "arm64"
        if "-x86_64-linux-gnu" in path.name:
            return "x86_64"
    return None


def machine_architecture() -> str:
    return _ARCH_OF_MACHINE.get(platform.machine().lower(), platform.machine())


def runnable_build(build_dir: Path, python: str) -> Path:
    """``build_dir`` when its layers run on this machine; otherwise a copy of it (``<build_dir>-<arch>``) with
    each layer rebuilt by its Makefile for this machine's architecture: the same code and locked versions,
    other wheels. The copy is remade whenever ``sam build`` ran again."""
    functions = built_functions(build_dir)
    machine = machine_architecture()
    layers = {layer for fn in functions.values() for layer in fn.layer_dirs}
    if all(layer_architecture(layer) in (None, machine) for layer in layers):
        return build_dir
    target = build_dir.with_name(f"{build_dir.name}-{machine}")
    source_stamp = str((build_dir / "template.yaml").stat().st_mtime_ns)
    stamp = target / ".copied-from"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == source_stamp:
        return target
    make = shutil.which("make")
    if make is None:
        raise InvokeError(f"{build_dir} is built for another architecture, and rebuilding its layer needs make")
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(build_dir, target, symlinks=True)
    template = load_template(TEMPLATE_PATH)
    for logical, spec in resources_of_type(template, "AWS::Serverless::LayerVersion").items():
        if (spec.get("Metadata") or {}).get("BuildMethod") != "makefile":
            raise InvokeError(f"{logical}: only layers built by a Makefile can be rebuilt for {machine}")
        artifacts = target / logical
        shutil.rmtree(artifacts, ignore_errors=True)
        artifacts.mkdir()
        done = subprocess.run(  # noqa: S603
            [
                make,
                "--silent",
                "-C",
                str(TEMPLATE_PATH.parent / spec["Properties"]["ContentUri"]),
                f"build-{logical}",
                f"ARTIFACTS_DIR={artifacts}",
                f"LAYER_ARCH={machine}",
                f"PYTHON={python}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise InvokeError(f"rebuilding {logical} for {machine} failed:\n{done.stderr.strip()}")
    stamp.write_text(source_stamp, encoding="utf-8")
    return target


def find_python313() -> str:
    candidates = [os.environ.get(PYTHON_ENV)]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S603
        candidates += [str(p) for p in sorted(Path(root).glob("versions/3.13.*/bin/python3.13"), reverse=True)]
    candidates.append(shutil.which("python3.13"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and "/shims/" not in candidate:  # a pyenv shim may point nowhere
            return candidate
    raise InvokeError(f"no CPython 3.13 found (python3.13 on PATH, pyenv 3.13.x, or {PYTHON_ENV})")


def ensure_runtime(python: str, runtime_dir: Path = RUNTIME_DIR, lock: Path = RUNTIME_LOCK) -> Path:
    """The Lambda runtime's own packages (awslambdaric, boto3) for ``python``, installed once from the lock."""
    marker = runtime_dir / ".installed-from"
    wanted = lock.read_text(encoding="utf-8")
    if marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
        return runtime_dir
    runtime_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="lambda-runtime-", dir=runtime_dir.parent))  # same filesystem: rename
    done = subprocess.run(  # noqa: S603
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--require-hashes",
            "--only-binary=:all:",
            "--no-compile",
            "--target",
            str(staging),
            "--requirement",
            str(lock),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise InvokeError(f"installing {lock.name} failed:\n{done.stderr.strip()}")
    subprocess.run([python, "-m", "compileall", "-q", str(staging)], capture_output=True, check=False)  # noqa: S603
    shutil.rmtree(staging / "bin", ignore_errors=True)
    (staging / ".installed-from").write_text(wanted, encoding="utf-8")
    shutil.rmtree(runtime_dir, ignore_errors=True)
    staging.rename(runtime_dir)
    return runtime_dir


def lambda_environment(
    fn: BuiltFunction,
    function_env: Mapping[str, str],
    *,
    name: str,
    runtime_api: str,
    aws_endpoint: str,
    runtime_dir: Path,
) -> dict[str, str]:
    """The process environment Lambda gives a python3.13 function, pointed at the local stack."""
    # Lambda's python runtime: the task root, then each layer's python/ (and its site-packages form), then
    # the runtime's own packages.
    path = [str(fn.code_dir)]
    for layer in fn.layer_dirs:
        path += [str(layer / "lib" / "python3.13" / "site-packages"), str(layer)]
    path.append(str(runtime_dir))
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": os.pathsep.join(path),
        "LAMBDA_TASK_ROOT": str(fn.code_dir),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "_HANDLER": fn.handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]callsync-invoke",
        "AWS_REGION": function_env.get("AWS_REGION", "us-east-1"),
        "AWS_DEFAULT_REGION": function_env.get("AWS_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": aws_endpoint,
        # X-Ray: the template's Tracing: Active as deployed; segments go to a daemon address nobody listens on.
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        **function_env,
    }


@dataclass
class Invoked:
    outcome: Outcome
    logs: str

    @property
    def failed(self) -> bool:
        return self.outcome.failed

    def document(self) -> Any:
        if self.outcome.error is not None:
            return self.outcome.error
        return json.loads(self.outcome.response or b"null")


class InvokeSession:
    """The local stack, served over HTTP, and the emulator; ``invoke`` runs one built function per call."""

    def __init__(
        self, *, build_dir: Path = BUILD_DIR, org: Any = None, settings: Any = None, python: str | None = None
    ) -> None:
        self.python = python or find_python313()
        self.build_dir = runnable_build(build_dir, self.python)
        self.functions = built_functions(self.build_dir)
        self._org, self._settings = org, settings
        self._exit: list[Any] = []
        self.stack: Any = None
        self.emulator: Any = None
        self.endpoint = ""

    def __enter__(self) -> InvokeSession:
        from moto.server import ThreadedMotoServer

        from callsync_dev.emulator import Emulator
        from callsync_dev.localstack import LocalStack
        from callsync_dev.runner import DEMO_ORG, DEMO_SETTINGS, read_json_file, settings_items

        self.runtime_dir = ensure_runtime(self.python)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's access log
        try:
            org = self._org if self._org is not None else read_json_file(DEMO_ORG, "org fixture")
            settings = self._settings if self._settings is not None else read_json_file(DEMO_SETTINGS, "settings")
            self.emulator = Emulator.from_fixture(org).start()
            self._exit.append(self.emulator.stop)
            connection = self.emulator.connection
            self.stack = LocalStack(extra_env={"SALESFORCE_CA_BUNDLE": connection["ca_file"]})
            self.stack.start()
            self._exit.append(self.stack.stop)
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            self._exit.append(server.stop)
            host, port = server.get_host_and_port()
            self.endpoint = f"http://{host}:{port}"
            _seed(self.stack, settings_items(settings), connection)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        while self._exit:
            self._exit.pop()()

    def invoke(self, function: str, event: Any) -> Invoked:
        fn = find_function(self.functions, function)
        local = self.stack.function(fn.logical_id)
        with RuntimeApi() as api:
            env = lambda_environment(
                fn,
                local.env,
                name=local.name,
                runtime_api=api.address,
                aws_endpoint=self.endpoint,
                runtime_dir=self.runtime_dir,
            )
            process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
                [self.python, "-S", "-m", "awslambdaric", fn.handler],
                cwd=fn.code_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            logs: list[bytes] = []
            reader = threading.Thread(
                target=lambda: logs.extend(iter(process.stdout.readline, b"")),  # type: ignore[union-attr]
                daemon=True,
            )
            reader.start()
            try:
                request_id = api.submit(event, function_arn=local.arn, timeout_seconds=fn.timeout)
                outcome = api.wait(request_id, fn.timeout + INIT_GRACE_SECONDS, alive=lambda: process.poll() is None)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                reader.join(timeout=5)
            if outcome is None:
                outcome = Outcome(request_id, error=api.init_error or _exit_error(process.returncode, fn.timeout))
        self._settle()
        return Invoked(outcome, b"".join(logs).decode(errors="replace"))

    def _settle(self, timeout: float = SETTLE_SECONDS) -> None:
        """Executions the function started (the consumer) finish before the stack goes away."""
        sfn = self.stack.client("stepfunctions")
        deadline = time.monotonic() + timeout
        for arn in self.stack.state_machines.values():
            while any(e["status"] == "RUNNING" for e in sfn.list_executions(stateMachineArn=arn)["executions"]):
                if time.monotonic() > deadline:
                    return
                time.sleep(0.05)


def _exit_error(returncode: int | None, timeout: int) -> dict[str, Any]:
    if returncode is not None and returncode < 0 and returncode != -15:
        return {"errorType": "Runtime.ExitError", "errorMessage": f"the runtime died (signal {-returncode})"}
    if returncode not in (None, -15):
        return {"errorType": "Runtime.ExitError", "errorMessage": f"the runtime exited with status {returncode}"}
    return {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {timeout}.00 seconds"}


def _seed(stack: Any, items: list[dict[str, Any]], connection: Mapping[str, str]) -> None:
    """The settings items and, per org, the OAuth secret from the emulator's connection (as ``callsync run``)."""
    env = stack.function("StartSyncFunction").env
    prefix = env.get("SECRET_PREFIX", "callsync/org/")
    stack.put_secret(
        env.get("APP_SECRET_NAME", "callsync/app"),
        {"client_id": connection["client_id"], "client_secret": connection["client_secret"]},
    )
    for item in items:
        stack.put_settings(item)
        stack.put_secret(
            f"{prefix}{item['org_id']}",
            {
                "instance_url": connection["instance_url"],
                "access_token": connection["access_token"],
                "refresh_token": connection["refresh_token"],
                "issued_at": str(int(time.time() * 1000)),
            },
        )


def register_cli(commands: Any) -> None:
    parser = commands.add_parser(
        "invoke",
        help="run one function of the built application (.aws-sam/build) under the Lambda runtime "
        "interface client, against the local stack",
    )
    parser.add_argument("function", metavar="FUNCTION", help="logical id (StartSyncFunction) or directory (start_sync)")
    parser.add_argument("-e", "--event", metavar="EVENT.json", required=True, help="the event (JSON file)")
    parser.add_argument("--org", metavar="ORG.json", help="org fixture for the emulator (default: the demo org)")
    parser.add_argument("--settings", metavar="SETTINGS.json", help="settings item(s) (default: the demo settings)")
    parser.add_argument("--build-dir", metavar="DIR", default=str(BUILD_DIR), help="what sam build wrote")
    parser.set_defaults(handler=_invoke_command)


def _invoke_command(args: Any) -> int:
    from callsync_dev.runner import UsageError, read_json_file

    try:
        event = read_json_file(args.event, "event")
        org = read_json_file(args.org, "org fixture") if args.org else None
        settings = read_json_file(args.settings, "settings") if args.settings else None
        with InvokeSession(build_dir=Path(args.build_dir), org=org, settings=settings) as session:
            invoked = session.invoke(args.function, event)
    except (InvokeError, UsageError) as e:
        print(f"callsync: error: {e}", file=sys.stderr)
        return 2
    sys.stderr.write(invoked.logs)
    print(json.dumps(invoked.document(), indent=2))
    return 1 if invoked.failed else 0
