"""A private MariaDB server for the tests: ML Metadata's production backend, for real.

Started on 127.0.0.1 with a free port and a temporary data directory, and stopped at the
end of the session. Only the test process reaches it (loopback), so it runs without
grant tables. `scripts/ensure_debian_packages.sh` (run by `make test`) installs Debian's
`mariadb-server` when it is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from typing import Any

START_TIMEOUT_S = 60


class MySQLServer:
    """One `mariadbd` process; `connection_config(database)` makes a fresh MLMD database."""

    def __init__(self, root: str):
        for program in ("mariadbd", "mariadb-install-db", "mariadb"):
            if shutil.which(program) is None:
                raise RuntimeError(
                    f"{program} is missing: run `make test` (scripts/ensure_debian_packages.sh installs "
                    "Debian's mariadb-server) or `apt-get install mariadb-server`"
                )
        self.root = root
        self.socket = os.path.join(root, "mysqld.sock")
        self.port = _free_port()
        self.data = os.path.join(root, "data")
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        process = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.data}", f"--socket={self.socket}",
             f"--port={self.port}", "--bind-address=127.0.0.1", "--user=root",
             "--skip-grant-tables", "--skip-name-resolve",
             f"--log-error={os.path.join(self.root, 'error.log')}",
             f"--pid-file={os.path.join(self.root, 'mysqld.pid')}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.process = process
        self._wait_until_ready()
        return process

    def kill(self) -> None:
        """Kills the server at once (SIGKILL), as a crash would."""
        self.process.kill()
        self.process.wait()

    def restart(self) -> None:
        """Starts the server again on the same data and port (after `kill` or `stop`)."""
        if self.process.poll() is None:
            raise RuntimeError("mariadbd is still running")
        self._start()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited at start; see {self.root}/error.log")
            if self._sql("SELECT 1", check=False).returncode == 0:
                return
            time.sleep(0.3)
        raise RuntimeError(f"mariadbd did not start in {START_TIMEOUT_S} s")

    def _sql(self, statement: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-e", statement],
            check=check, capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    def connection_config(self, database: str) -> Any:
        """A `ConnectionConfig` for a new, empty database of this server."""
        from ml_metadata.proto import metadata_store_pb2

        self._sql(f"CREATE DATABASE `{database}`")
        config = metadata_store_pb2.ConnectionConfig()
        config.mysql.host = "127.0.0.1"
        config.mysql.port = self.port
        config.mysql.database = database
        config.mysql.user = "root"
        return config

    def stop(self) -> None:
        """Shuts the server down (and kills it if it does not go)."""
        self._sql("SHUTDOWN", check=False)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
