"""``fastkv-server [config-file] [--directive value ...]`` (also ``python -m fastkv``).

Runs the RESP server in the foreground until SIGINT/SIGTERM or ``SHUTDOWN``; the process
exits with the server's exit code.
"""

from __future__ import annotations

import signal
import sys
import threading

from ._fastkv import server_main


def main(argv: list[str] | None = None) -> int:
    """Runs the server with ``argv`` (default: ``sys.argv[1:]``); returns its exit code."""
    args = sys.argv[1:] if argv is None else argv
    # The server runs with the GIL released and handles SIGINT/SIGTERM itself. Python's own
    # SIGINT handler would only record the signal and raise KeyboardInterrupt once the server
    # has already shut down cleanly; with the default disposition the Rust handler is the only
    # one (it does not chain to SIG_DFL).
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    return server_main(args)


if __name__ == "__main__":
    sys.exit(main())
