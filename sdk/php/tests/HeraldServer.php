<?php
// Starts a real Herald (herald.dll, built by test.sh) on free loopback ports for the tests.

declare(strict_types=1);

final class HeraldServer
{
    public $url;
    public $port;
    public $udpPort;
    private $process;
    private $tokenSecret;

    public static function dll(): string
    {
        return getenv('HERALD_DLL') ?: dirname(__DIR__, 3) . '/src/Herald/bin/Debug/net10.0/herald.dll';
    }

    public function __construct(string $apiKey, string $tokenSecret, ?string $udpSecret = null)
    {
        if (!is_file(self::dll())) {
            throw new RuntimeException(self::dll() . ' is missing: build it with dotnet build src/Herald -c Debug');
        }
        $this->tokenSecret = $tokenSecret;
        $port = $this->port = self::freePort('tcp');
        $this->udpPort = self::freePort('udp');
        $this->url = "http://127.0.0.1:$port";
        $command = ['dotnet', self::dll(), 'serve', '--host', '127.0.0.1', '--port', (string) $port, '--udp-port', (string) $this->udpPort,
            '--memory', '--api-key', $apiKey, '--token-secret', $tokenSecret, '--log-level', 'warning'];
        if ($udpSecret !== null) {
            array_push($command, '--set', "udp_secret=$udpSecret");
        }
        $this->process = proc_open(self::commandLine($command), [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
        $deadline = microtime(true) + 20;
        while (microtime(true) < $deadline) {
            $health = @file_get_contents($this->url . '/health', false, stream_context_create(['http' => ['timeout' => 1]]));
            if ($health !== false) {
                return;
            }
            if (!proc_get_status($this->process)['running']) {
                break;
            }
            usleep(100000);
        }
        $this->stop();
        throw new RuntimeException("Herald did not start on {$this->url}");
    }

    public function stop(): void
    {
        if ($this->process === null) {
            return;
        }
        $status = proc_get_status($this->process);
        if ($status['running']) {
            terminate_process($this->process, $status['pid']);
        }
        proc_close($this->process);
        $this->process = null;
    }

    /** Runs `herald token check`; returns [exit code, output]. */
    public function checkToken(string $token): array
    {
        $command = self::commandLine(['dotnet', self::dll(), 'token', 'check', $token, '--secret', $this->tokenSecret]) . ' 2>&1';
        exec($command, $lines, $code);
        return [$code, implode("\n", $lines)];
    }

    private static function freePort(string $transport): int
    {
        $flags = $transport === 'udp' ? STREAM_SERVER_BIND : STREAM_SERVER_BIND | STREAM_SERVER_LISTEN;
        $socket = stream_socket_server("$transport://127.0.0.1:0", $errno, $error, $flags);
        $name = stream_socket_get_name($socket, false);
        fclose($socket);
        return (int) substr($name, strrpos($name, ':') + 1);
    }

    private static function commandLine(array $arguments): string
    {
        // exec replaces the shell, so the process we signal is dotnet itself
        return 'exec ' . implode(' ', array_map('escapeshellarg', $arguments));
    }
}

/** SIGTERM and wait (SIGKILL after 5 s); proc_terminate works without the pcntl/posix extensions. */
function terminate_process($process, int $pid): void
{
    proc_terminate($process, 15);
    $deadline = microtime(true) + 5;
    while (proc_get_status($process)['running'] && microtime(true) < $deadline) {
        usleep(50000);
    }
    if (proc_get_status($process)['running']) {
        proc_terminate($process, 9);
    }
}
