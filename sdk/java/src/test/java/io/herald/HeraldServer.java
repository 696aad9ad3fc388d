package io.herald;

import java.io.File;
import java.net.DatagramSocket;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts a real Herald (herald.dll, built by test.sh) on free loopback ports for the tests. */
final class HeraldServer implements AutoCloseable {
    final String url;
    final int udpPort;
    private final String tokenSecret;
    private final Process process;

    static String dll() {
        String fromEnv = System.getenv("HERALD_DLL");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return fromEnv;
        }
        String root = System.getProperty("herald.root", "../..");
        return new File(root, "src/Herald/bin/Debug/net10.0/herald.dll").getAbsolutePath();
    }

    HeraldServer(String apiKey, String tokenSecret, String udpSecret) throws Exception {
        if (!new File(dll()).isFile()) {
            throw new IllegalStateException(dll() + " is missing: build it with dotnet build src/Herald -c Debug");
        }
        this.tokenSecret = tokenSecret;
        int port;
        try (ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = tcp.getLocalPort();
        }
        try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            udpPort = udp.getLocalPort();
        }
        url = "http://127.0.0.1:" + port;
        List<String> command = new ArrayList<>(List.of("dotnet", dll(), "serve", "--host", "127.0.0.1", "--port", String.valueOf(port),
            "--udp-port", String.valueOf(udpPort), "--memory", "--api-key", apiKey, "--token-secret", tokenSecret, "--log-level", "warning"));
        if (udpSecret != null) {
            command.add("--set");
            command.add("udp_secret=" + udpSecret);
        }
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try {
                HttpURLConnection health = (HttpURLConnection) new URL(url + "/health").openConnection();
                health.setConnectTimeout(1000);
                health.setReadTimeout(1000);
                if (health.getResponseCode() == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            if (!process.isAlive()) {
                break;
            }
            Thread.sleep(100);
        }
        close();
        throw new IllegalStateException("Herald did not start on " + url);
    }

    /** Runs {@code herald token check}; returns the exit code and the output. */
    Object[] checkToken(String token) throws Exception {
        Process check = new ProcessBuilder("dotnet", dll(), "token", "check", token, "--secret", tokenSecret).redirectErrorStream(true).start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!check.waitFor(30, TimeUnit.SECONDS)) {
            check.destroyForcibly();
            throw new IllegalStateException("herald token check hung");
        }
        return new Object[] {check.exitValue(), output};
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
