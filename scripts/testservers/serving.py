"""How every test server serves: optional TLS, a prompt exit on SIGTERM, and the `LISTENING <port>`
line its starter waits for."""

import os
import signal
import ssl


def serve(server, tls_cert=None, tls_key=None):
    """Serves `server` (bound, not yet serving) until SIGTERM or Ctrl-C."""
    if tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert, tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    # Swift's Process can start us with SIGTERM blocked (an inherited signal mask), which would
    # leave TestServer.stop waiting for its SIGKILL fallback: unblock it and exit at once.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
