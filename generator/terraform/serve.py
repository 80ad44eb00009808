"""Serve schema-only providers to Terraform from one long-lived process.

Terraform starts a provider process per command and per provider configuration (`aws` and
`aws.backup` are two), and a command such as `plan` walks the configuration twice (validate,
then plan): a `check` started the providers 15 times. Terraform's `TF_REATTACH_PROVIDERS`
(the mechanism of provider debugging) instead points it at providers that already run; it then
starts none, and never stops them. A workspace starts this server once and every command of
the workspace (init, validate, plan, show, apply) talks to it.

Protocol with the parent (:mod:`generator.terraform.workspace`): one JSON request on stdin,
`{"providers": [{"addresses": [...], "schema": FILE, "replacing": FILE|null, "types": [...]|null,
"plan_model": FILE|null}]}`;
the server answers one line on stdout, the value for `TF_REATTACH_PROVIDERS`, and serves until
its stdin closes (the parent ends it, or dies). The sockets are in a directory only this user
can enter; the connection is plain gRPC over them, as in Terraform's provider debug mode.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from concurrent import futures
from pathlib import Path
from typing import Any


def _server(servicer: Any, socket: str) -> Any:
    import grpc
    from tf.gen import grpc_controller_pb2 as controller_pb
    from tf.gen import grpc_controller_pb2_grpc as controller_rpc
    from tf.gen import grpc_stdio_pb2_grpc as stdio_rpc
    from tf.gen import tfplugin_pb2_grpc as rpc

    class Controller(controller_rpc.GRPCControllerServicer):
        def Shutdown(self, request: Any, context: Any) -> Any:
            # Reattached providers outlive each command: only stdin's end stops the server.
            return controller_pb.Empty()

    class Stdio(stdio_rpc.GRPCStdioServicer):
        def StreamStdio(self, request: Any, context: Any) -> Any:
            return iter([])

    server = grpc.server(thread_pool=futures.ThreadPoolExecutor(max_workers=8))
    rpc.add_ProviderServicer_to_server(servicer, server)
    controller_rpc.add_GRPCControllerServicer_to_server(Controller(), server)
    stdio_rpc.add_GRPCStdioServicer_to_server(Stdio(), server)
    server.add_insecure_port(f"unix://{socket}")
    server.start()
    return server


def _servicer(entry: dict[str, Any]) -> Any:
    from tf.provider import ProviderServicer

    from generator.terraform.provider import SchemaOnlyProvider, modelled_servicer

    schemas = json.loads(Path(entry["schema"]).read_text("utf-8"))
    if "provider_schemas" in schemas:  # a whole `providers schema -json` document
        schemas = next(iter(schemas["provider_schemas"].values()))
    replacing = (json.loads(Path(entry["replacing"]).read_text("utf-8"))["resources"]
                 if entry.get("replacing") else None)
    types = frozenset(entry["types"]) if entry.get("types") is not None else None
    provider = SchemaOnlyProvider(entry["addresses"][0], schemas, replacing=replacing, types=types)
    if entry.get("plan_model"):
        return modelled_servicer(provider, json.loads(Path(entry["plan_model"]).read_text("utf-8")))
    return ProviderServicer(provider)


def main() -> int:
    """Start every requested provider, print the reattach configuration, serve until EOF."""
    request = json.loads(sys.stdin.readline())
    reattach: dict[str, Any] = {}
    servers = []
    with tempfile.TemporaryDirectory(prefix="ssb-providers-") as tmp:
        os.chmod(tmp, 0o700)
        for index, entry in enumerate(request["providers"]):
            socket = str(Path(tmp) / f"p{index}.sock")
            servers.append(_server(_servicer(entry), socket))
            for address in entry["addresses"]:
                reattach[address] = {"Protocol": "grpc", "ProtocolVersion": 6, "Pid": os.getpid(),
                                     "Test": True, "Addr": {"Network": "unix", "String": socket}}
        sys.stdout.write(json.dumps(reattach) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # until the workspace closes the pipe (or its process ends)
        for server in servers:
            server.stop(grace=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
