import socket
import struct

import pytest
from gunicorn.config import Backlog

from core.process import free_port, listening_socket, start_service


def test_a_taken_port_fails_before_any_server_starts() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            start_service("core", port=port)


def test_a_free_port_refuses() -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", free_port()), timeout=1)


def test_a_service_socket_listens_with_gunicorns_backlog() -> None:
    with listening_socket("127.0.0.1", 0) as listener:
        # struct tcp_info: a listening socket's tcpi_sacked is its backlog
        info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        (backlog,) = struct.unpack_from("I", info, 28)
    assert backlog == Backlog.default == 2048
