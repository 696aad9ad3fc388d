"""Starts a real Herald (herald.dll built by test.sh) on free loopback ports for the tests."""

import os
import socket
import subprocess
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DLL = os.environ.get("HERALD_DLL", os.path.join(ROOT, "src", "Herald", "bin", "Debug", "net10.0", "herald.dll"))


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HeraldServer:
    def __init__(self, api_key, token_secret, udp_secret=None):
        if not os.path.exists(DLL):
            raise RuntimeError("%s is missing: build it with dotnet build src/Herald -c Debug" % DLL)
        self.api_key, self.token_secret, self.udp_secret = api_key, token_secret, udp_secret
        self.port = free_port(socket.SOCK_STREAM)
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.url = "http://127.0.0.1:%d" % self.port
        args = ["dotnet", DLL, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--udp-port",
                str(self.udp_port), "--memory", "--api-key", api_key, "--token-secret", token_secret,
                "--log-level", "warning"]
        if udp_secret:
            args += ["--set", "udp_secret=" + udp_secret]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("Herald did not start on %s" % self.url)
            time.sleep(0.1)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def check_token(self, token):
        """Runs `herald token check`; returns (exit code, output)."""
        done = subprocess.run(["dotnet", DLL, "token", "check", token, "--secret", self.token_secret],
                              capture_output=True, text=True, timeout=30)
        return done.returncode, done.stdout + done.stderr
