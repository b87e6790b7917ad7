"""``perpdesk serve``: the same console in a browser, through textual-serve.

textual-serve starts one console process per browser tab and has no login of its own, so
it binds to 127.0.0.1 unless told otherwise and says so loudly.  Reach it from elsewhere
through an SSH tunnel (``ssh -L 8000:127.0.0.1:8000 host``), not by opening the port.
"""

from __future__ import annotations

import shlex
import sys

WARNING = (
    "perpdesk serve has NO LOGIN: anyone who can reach {url} can trade with your keys. "
    "Keep it on 127.0.0.1 and use an SSH tunnel to reach it from another machine."
)


def console_command(console_args: list[str]) -> str:
    """The command textual-serve runs per connection: this interpreter, by absolute path."""
    return shlex.join([sys.executable, "-m", "console", *console_args])


def serve(host: str, port: int, console_args: list[str]) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        print("perpdesk serve needs textual-serve: pip install -e '.[serve]'", file=sys.stderr)
        return 2
    url = f"http://{host}:{port}"
    print(WARNING.format(url=url), file=sys.stderr)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: binding to {host} exposes the console beyond this machine.", file=sys.stderr)
    Server(console_command(console_args), host=host, port=port, title="perpdesk").serve()
    return 0
