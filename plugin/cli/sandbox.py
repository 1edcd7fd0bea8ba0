"""`discogram sandbox`: the sandbox EHR and the app, on this machine, in one process.

On first run it creates, under the data folder (default ``var/sandbox/``), the app's signing
keys (EC P-384, current and next) and secret key and the sandbox's id_token key; it registers
the app with the sandbox as a `private_key_jwt` client whose JWKS URL is the app's own
``/.well-known/jwks.json``, and serves both on http://127.0.0.1:PORT (the app's requests to
the sandbox stay in-process). The sandbox is also registered as a CDS Hooks client of the
app (``[[cds_client]]``: its FHIR base as `iss`, the public key of its own EC P-384 CDS
signing key as a JWK Set file), so its EHR page can order discography and show the cards.
A development tool: every patient in it is fictional.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from plugin.cli import CliError
from plugin.cli.serve import configure_logging, port_problem
from plugin.sandbox.app import create_sandbox_app, create_sandbox_with_app
from plugin.sandbox.cds.signing import CdsSigningKey
from plugin.sandbox.config import ClientAuthMethod, SandboxCdsClient, SandboxClient, SandboxConfig
from smart_app.keys import generate_private_key
from smart_app.settings import CdsClientRegistration, ClientAuth, EhrRegistration, Settings
from smart_app.store.private_files import ensure_private_folder
from smart_app.token_encryption import TokenCipher

__all__ = ["SANDBOX_CLIENT_ID", "SandboxSetup", "add_parser", "build_sandbox", "prepare_sandbox"]

SANDBOX_CLIENT_ID = "discogram-sandbox"
DEFAULT_DATA_DIR = Path("var/sandbox")


@dataclass(frozen=True, slots=True)
class SandboxSetup:
    config: SandboxConfig  # the sandbox EHR
    settings: Settings  # the app, registered with it


def _public_url(host: str, port: int) -> str:
    # The browser and the app reach the sandbox on the loopback address whatever interface
    # uvicorn listens on; OAuth over plain http is only acceptable there.
    name = "localhost" if host == "localhost" else "127.0.0.1"
    return f"http://{name}:{port}"


def _ensure_key(path: Path) -> None:
    if not path.exists():
        generate_private_key(path, kind="EC")


def prepare_sandbox(data_dir: Path, port: int, host: str = "127.0.0.1") -> SandboxSetup:
    """Create the keys (first run only) and build the sandbox's and the app's configuration.
    Raises ConfigurationError when `data_dir` is not a folder."""
    # The app's database (drafts, signed reports) lives here: the service account's only.
    ensure_private_folder(data_dir, "--data-dir")
    public_url = _public_url(host, port)
    current_key = data_dir / "app-signing-key.pem"
    next_key = data_dir / "app-signing-key-next.pem"
    _ensure_key(current_key)
    _ensure_key(next_key)
    secret_key = data_dir / "app-secret.key"
    TokenCipher.from_key_file(secret_key)  # creates the key file on first run
    # The sandbox EHR's own key for signing its CDS Hooks calls; the app trusts its public
    # half from a file, rewritten each run so it always matches the key.
    cds_key_file = data_dir / "sandbox-cds-signing-key.pem"
    cds_jwks_file = CdsSigningKey.ensure(cds_key_file).write_public_jwks(
        data_dir / "sandbox-cds-jwks.json"
    )
    fhir_base = f"{public_url}/fhir"
    config = SandboxConfig(
        base_url=public_url,
        database_file=data_dir / "sandbox-fhir.sqlite3",
        signing_key_file=data_dir / "sandbox-id-token-key.pem",
        clients=[
            SandboxClient(
                client_id=SANDBOX_CLIENT_ID,
                name="Discography plugin",
                auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
                redirect_uris=[f"{public_url}/callback"],
                launch_url=f"{public_url}/launch",
                jwks_url=f"{public_url}/.well-known/jwks.json",
            )
        ],
        cds_client=SandboxCdsClient(
            services_url=f"{public_url}/cds-services",
            issuer=fhir_base,
            signing_key_file=cds_key_file,
        ),
    )
    settings = Settings(
        public_url=public_url,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'app.sqlite3'}",
        data_dir=data_dir,
        secret_key_file=secret_key,
        ehr=[
            EhrRegistration(
                name="Sandbox EHR",
                iss=config.fhir_base,
                client_id=SANDBOX_CLIENT_ID,
                client_auth=ClientAuth.PRIVATE_KEY_JWT,
                private_key_file=current_key,
                next_private_key_file=next_key,
            )
        ],
        cds_client=[CdsClientRegistration(iss=fhir_base, jwks_file=cds_jwks_file)],
    )
    return SandboxSetup(config, settings)


def build_sandbox(setup: SandboxSetup) -> FastAPI:
    """The sandbox hosting the app, the app's calls to the sandbox routed in-process."""
    create_app: Any = import_module("smart_app.app").create_app
    return create_sandbox_with_app(
        setup.config, lambda transport: create_app(setup.settings, transport=transport)
    )


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run the sandbox EHR with the app on this machine (development tool)",
        description="Run the sandbox EHR (synthetic patients, SMART authorization server, "
        "FHIR server) with the app registered in it, on http://127.0.0.1:PORT.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="where keys and databases are kept (default var/sandbox)",
    )
    parser.add_argument(
        "--without-app",
        action="store_true",
        help="serve the sandbox EHR alone (e.g. to develop the app in another process)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    if not 0 < args.port < 65536:
        print(f"sandbox: --port must be 1–65535 (got {args.port})", file=sys.stderr)
        return 2
    # Before the URLs are printed: on a busy port they would lead to another program.
    problem = port_problem(args.host, args.port)
    if problem is not None:
        raise CliError(f"discogram sandbox: {problem}")
    configure_logging("info")
    setup = prepare_sandbox(args.data_dir, args.port, args.host)
    if args.without_app:
        config = setup.config.model_copy(update={"clients": []})
        app = create_sandbox_app(config)
    else:
        app = build_sandbox(setup)
    print(f"Sandbox EHR: {setup.config.base_url}/ehr  (synthetic patients; development tool)")
    print(f"FHIR base (iss): {setup.config.fhir_base}")
    sys.stdout.flush()
    # No access log: FHIR URLs carry patient ids and search values.
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="info")
    return 0
