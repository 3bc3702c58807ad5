#!/usr/bin/env python3
"""A real OpenSSH server on loopback for clone tests.

    sshd_server.py --host 127.0.0.1 --port 0 --state-dir DIR

DIR must hold `host_ed25519` (the host key, made with ssh-keygen) and `authorized_keys` (the
test's public keys). The script writes DIR/sshd_config (keys only, root allowed with keys only,
StrictModes and PAM off), picks a free port when --port is 0, runs `/usr/sbin/sshd -D -e` as the
current user, waits until the port accepts connections and prints "LISTENING <port>". git
commands (`git-upload-pack '/path'`) run through the user's shell as with any ssh server.
Stops sshd on SIGTERM.
"""

import argparse
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def child_setup():
    # sshd dies with this script, even when the script is SIGKILLed; signals blocked by the
    # process that started us (a test runner) are unblocked.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def main():
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-dir", required=True)
    args = parser.parse_args()
    state = os.path.abspath(args.state_dir)
    os.makedirs("/run/sshd", exist_ok=True)
    for _attempt in range(5):
        port = args.port or free_port(args.host)
        config = os.path.join(state, "sshd_config")
        with open(config, "w") as f:
            f.write(f"""Port {port}
ListenAddress {args.host}
HostKey {state}/host_ed25519
PidFile {state}/sshd.pid
AuthorizedKeysFile {state}/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PrintMotd no
LogLevel ERROR
""")
        sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", config], stdin=subprocess.DEVNULL, preexec_fn=child_setup)
        deadline = time.time() + 10
        while time.time() < deadline and sshd.poll() is None:
            try:
                with socket.create_connection((args.host, port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        if sshd.poll() is None:
            break
    else:
        print("sshd did not start", file=sys.stderr)
        return 1

    def stop(*_):
        sshd.terminate()
        try:
            sshd.wait(3)
        except subprocess.TimeoutExpired:
            sshd.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"LISTENING {port}", flush=True)
    sshd.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
