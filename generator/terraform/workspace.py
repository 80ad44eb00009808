"""One root module made ready for Terraform: the one way this project plans and applies.

A `Workspace` owns where the commands run (offline: a scratch copy, online: the directory
itself), their environment, the providers (offline: one server of schema-only providers for the
whole workspace, see serve.py and providers.py), the state carried in and out, and the steps:
fmt, init, validate, plan (`plan -out`, then `show -json`) and apply of exactly that plan.
`validate`, `plan`, `scan --plan`, `apply` and `check` all go through it, so they hand a root
the same variables and the same providers.

Variables: `variables` go to Terraform as `-var NAME=VALUE`, and Terraform refuses one the root
does not declare, as it does on its own command line. `inputs` go as `TF_VAR_NAME`, which
Terraform applies only where the root declares the variable: what `check` gives every
generated blueprint (its key pair), whichever variables it has.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from generator.terraform import providers
from generator.terraform import run as tf
from generator.terraform.run import Diagnostic, Step

Progress = Callable[[str, "Step | None"], None]
STATE_FILE = "terraform.tfstate"
SERVER_START_LIMIT = 120  # seconds; a hang guard only: the server answers in well under 2 s


def quiet(name: str, step: Step | None) -> None:
    """The default progress: nothing shown."""


def offline_plan_env(env: dict[str, str]) -> dict[str, str]:
    """Planning offline never calls Safespring Storage (no refresh), but the aws provider wants
    credentials to configure itself: placeholders that can open nothing."""
    return {"AWS_ACCESS_KEY_ID": "offline-plan", "AWS_SECRET_ACCESS_KEY": "offline-plan",
            **env, "AWS_EC2_METADATA_DISABLED": "true"}


class Workspace:
    """Use as a context manager: `with Workspace(DIR, offline=True) as ws: ws.init(); ws.plan()`."""

    def __init__(self, directory: str | Path, *, offline: bool = False, progress: Progress = quiet,
                 s3_endpoint: str | None = None, real_aws: str | None = None) -> None:
        self.root = Path(directory)
        self.real_aws = real_aws  # why this command needs the real aws provider, if it does
        self.offline = offline
        self.progress = progress
        self.s3_endpoint = s3_endpoint
        self.workdir = self.root
        self.env: dict[str, str] = {}
        self.served: dict[str, str] = {}  # address -> where its schema comes from
        self.real_aws_reason: str | None = None
        self.unavailable: list[str] = []
        self._stack = ExitStack()
        self._server: subprocess.Popen[str] | None = None
        self._server_log: IO[bytes] | None = None
        self._reattach: str | None = None

    # ------------------------------------------------------------------ set-up

    def __enter__(self) -> Workspace:
        try:
            if self.offline:
                self._prepare_offline()
            else:
                self.env = tf.base_env()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the provider server and remove the scratch copy."""
        if self._server is not None:
            server, self._server = self._server, None
            assert server.stdin is not None
            try:
                server.stdin.close()
                server.wait(timeout=30)  # a hang guard: it stops as soon as stdin closes
            except (OSError, subprocess.TimeoutExpired):
                server.kill()
                server.wait()
        if self._server_log is not None:
            self._server_log.close()
            self._server_log = None
        self._stack.close()

    def _prepare_offline(self) -> None:
        from generator.terraform import offline as toolchain_module
        from generator.terraform.schema import PROVIDER_VERSION

        self.progress("offline toolchain", None)
        toolchain = toolchain_module.prepare()
        self.env = offline_plan_env(tf.base_env(toolchain.env))
        self.workdir = self._stack.enter_context(
            tf.scratch_copy(self.root, openstack_version=PROVIDER_VERSION))
        if (self.root / STATE_FILE).is_file():
            shutil.copy2(self.root / STATE_FILE, self.workdir / STATE_FILE)
        if self.s3_endpoint:
            tf.point_s3_at(self.workdir, self.s3_endpoint)
        self._start_server(toolchain)
        self.progress("offline toolchain", Step("offline toolchain", 0))

    def _start_server(self, toolchain: Any) -> None:
        """Start the schema-only providers this configuration needs, in one process."""
        used = providers.usage([self.workdir, *tf.local_module_dirs(self.workdir)])
        entries: list[dict[str, Any]] = [{
            "addresses": [providers.OPENSTACK, providers.HASHICORP_OPENSTACK],
            "schema": str(toolchain.schema_path),
            "replacing": str(Path(__file__).resolve().parents[1] / "data" / "openstack_force_new.json"),
            "types": None,
        }]
        self.served = {providers.OPENSTACK: "schema", providers.HASHICORP_OPENSTACK: "schema"}
        prefixes = used.prefixes()
        for name, bindings in providers.UTILITY.items():
            if name in prefixes:
                entries.append({"addresses": [bindings.address],
                                "schema": str(providers.utility_schema(bindings, toolchain.cache_dir)),
                                "types": None})
                self.served[bindings.address] = "schema"
        self.real_aws_reason = providers.aws_servable(
            used, has_state=(self.workdir / STATE_FILE).is_file(), real=self.real_aws)
        binary = providers.aws_binary(toolchain.system_mirror)
        if self.real_aws_reason is None and binary is not None:
            schema = providers.aws_schema(binary, toolchain.cache_dir, self.env, str(toolchain.terraform))
            entries.append({"addresses": [providers.AWS], "schema": str(schema),
                            "types": sorted(t for t in used.resources if t.startswith("aws_")),
                            "plan_model": str(Path(__file__).resolve().parents[1] / "data" /
                                              "aws_plan.json")})
            self.served[providers.AWS] = "schema"
        package_root = Path(__file__).resolve().parents[2]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(package_root), *filter(None, [os.environ.get("PYTHONPATH")])])}
        self._server_log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._server = subprocess.Popen(
            [sys.executable, "-P", "-m", "generator.terraform.serve"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._server_log, text=True, env=env)
        assert self._server.stdin is not None
        self._server.stdin.write(json.dumps({"providers": entries}) + "\n")
        self._server.stdin.flush()

    def _providers_ready(self) -> None:
        """Wait for the provider server's answer (it starts while fmt and the copy run)."""
        if self._server is None or self._reattach is not None:
            return
        assert self._server.stdout is not None
        line = self._server.stdout.readline()  # the server answers or exits
        if not line.strip():
            from generator.terraform.offline import ToolchainError

            log = ""
            if self._server_log is not None:
                self._server_log.seek(0)
                log = self._server_log.read().decode("utf-8", "replace")[-2000:]
            raise ToolchainError(f"the offline providers did not start: {log.strip() or 'no output'}")
        self._reattach = line.strip()
        self.env = {**self.env, "TF_REATTACH_PROVIDERS": self._reattach}

    # ------------------------------------------------------------------ steps

    def _step(self, name: str, run: Callable[[], Step]) -> Step:
        self.progress(name, None)
        step = run()
        self.progress(name, step)
        return step

    def fmt(self) -> Step:
        """`terraform fmt -check` of the user's directory (no providers needed)."""
        return self._step("fmt", lambda: tf.fmt_check(self.root, self.env))

    def init(self, *, backend: bool = True, stream: bool | None = None) -> Step:
        """`terraform init`. Offline, a provider with no offline schema fails it with one
        message naming the provider and the HCL scan as the way to judge the root."""
        self._providers_ready()

        def run() -> Step:
            step = tf.init(self.workdir, self.env, backend=backend,
                           stream=not self.offline if stream is None else stream)
            if not step.ok and self.offline:
                self.unavailable = [a for a in providers.unavailable(step.output)
                                    if f"{providers.REGISTRY}/{a}" not in self.served]
                if self.unavailable:
                    step.diagnostics.append(Diagnostic("error", unavailable_message(self.unavailable),
                                                       ""))
            return step

        return self._step("init", run)

    def validate(self) -> Step:
        """`terraform validate -json`, diagnostics placed in the user's directory."""
        return self._step("validate", lambda: tf.validate(self.workdir, self.env, shown_as=self.root))

    def plan(self, variables: Mapping[str, str] | None = None, *, inputs: Mapping[str, str] | None = None,
             replace: tuple[str, ...] = (), out: Path | None = None, stream: bool | None = None,
             refresh: bool | None = None) -> tuple[list[Step], dict]:
        """`plan -out` then `show -json`: the steps run and the plan as data ({} unless both
        succeeded). Offline plans never refresh (nothing to refresh from; the aws provider reads
        a DNS failure as "deleted"); online plans do, and stream Terraform's output, unless told
        otherwise (a plan for the scan judges the configuration, and its output is the scan's)."""
        stream = not self.offline if stream is None else stream
        refresh = not self.offline if refresh is None else refresh
        args = ["plan", "-input=false", *([] if refresh else ["-refresh=false"]),
                *([] if stream and _terminal() else ["-no-color"]),
                *[f"-replace={address}" for address in replace],
                *[f"-var={k}={v}" for k, v in sorted((variables or {}).items())]]
        env = {**self.env, **{f"TF_VAR_{k}": v for k, v in (inputs or {}).items()}}
        with tempfile.TemporaryDirectory(prefix="ssb-plan-") as tmp:
            target = out or Path(tmp) / "plan.tfplan"
            done: list[Step] = []
            shown: dict = {}

            def run() -> Step:
                step = tf.run([*args, f"-out={target}"], self.workdir, env, stream=stream, name="plan")
                done.append(step)
                if step.ok:
                    show, data = self._show(target)
                    if data is None:
                        done.append(show)
                        return show
                    shown.update(data)
                return step

            self._step("plan", run)
            return done, shown

    def _show(self, plan_file: Path) -> tuple[Step, dict | None]:
        step = tf.run(["show", "-json", "-no-color", str(plan_file)], self.workdir, self.env,
                      name="show")
        return step, _json_document(step)

    def show(self, plan_file: Path) -> tuple[Step, dict | None]:
        """`terraform show -json PLAN` as data (None when Terraform could not show it)."""
        done: list[dict | None] = []

        def run() -> Step:
            step, data = self._show(plan_file)
            done.append(data)
            return step

        return self._step("show", run), done[0]

    def apply(self, plan_file: Path, *, output: Callable[[str], None] | None = None) -> Step:
        """`terraform apply PLAN`: exactly the saved plan. Offline, Terraform's lines go to
        `output` as it prints them (uncoloured); online, to the terminal."""
        return self._step("apply", lambda: tf.run(
            ["apply", "-input=false", *(["-no-color"] if self.offline or not _terminal() else []),
             str(plan_file)],
            self.workdir, self.env, stream=not self.offline, name="apply",
            lines=output if self.offline else None))

    def keep_state(self) -> None:
        """Offline: write the scratch copy's state back to DIR/terraform.tfstate, readable by its
        owner only (mode 0600): a state holds secrets (an application credential's) in clear,
        whatever the provider marks sensitive. Written whole or not at all."""
        if self.offline and (self.workdir / STATE_FILE).is_file():
            from generator.terraform.schema import write_atomic

            write_atomic(self.root / STATE_FILE, (self.workdir / STATE_FILE).read_bytes(), mode=0o600)


def _terminal() -> bool:
    """Colour only for a person at a terminal: piped output (CI logs, files) gets plain text."""
    return sys.stdout.isatty()


def unavailable_message(addresses: list[str]) -> str:
    """The one message for providers an offline run cannot serve."""
    names = ", ".join(addresses)
    return (f"no offline schema for provider {names}: offline runs serve OpenStack, aws (from "
            "the machine's mirror), random, null, local, tls and time; plan this root online, "
            "or judge it without a plan in HCL mode (scan DIR)")


def _json_document(step: Step) -> dict | None:
    """The JSON document a command printed (None, the step marked failed, when there is none)."""
    if not step.ok:
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(step.output[step.output.index("{"):])
    except ValueError:
        step.code = step.code or 1
        return None
    return data if isinstance(data, dict) else None
