"""Fixtures of the fault-injection tests: a sandbox EHR and the app's write-back, in-process."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.faults.harness import WriteBackRig, make_rig

RigFactory = Callable[..., Awaitable[WriteBackRig]]


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("sandbox-keys") / "id-token.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def rig_folder(tmp_path: Path) -> Iterator[Path]:
    """Where a rig keeps its database: in memory-backed /dev/shm when there is one (these
    tests commit thousands of small transactions), else the test's temporary folder."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="discogram-faults-", dir=shm))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def make(rig_folder: Path, signing_key_file: Path) -> AsyncIterator[RigFactory]:
    rigs: list[WriteBackRig] = []

    async def factory(**options: Any) -> WriteBackRig:
        folder = rig_folder / f"rig-{len(rigs)}"
        folder.mkdir()
        rig = await make_rig(folder, signing_key_file, **options)
        rigs.append(rig)
        return rig

    yield factory
    for rig in rigs:
        await rig.close()
