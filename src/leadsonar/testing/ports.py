"""Free TCP ports on loopback addresses, for the servers tests and benchmarks start."""

from __future__ import annotations

import socket
from collections.abc import Sequence


def free_port(hosts: Sequence[str] = ("127.0.0.1",)) -> int:
    """A TCP port that is free on every address in ``hosts`` right now (several servers on
    ``127.0.0.x`` can then share one port, as MX hosts share port 25).

    Raises:
        RuntimeError: no such port was found in 50 tries.
    """
    for _ in range(50):
        with socket.socket() as first:
            first.bind((hosts[0], 0))
            port = int(first.getsockname()[1])
            taken = []
            try:
                for host in hosts[1:]:
                    sock = socket.socket()
                    taken.append(sock)
                    sock.bind((host, port))
            except OSError:
                continue
            finally:
                for sock in taken:
                    sock.close()
            return port
    raise RuntimeError(f"no TCP port is free on all of {', '.join(hosts)}")
