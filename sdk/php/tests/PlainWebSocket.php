<?php
// A minimal WebSocket client (RFC 6455, text frames only) so the tests can watch live deliveries as a plain client.

declare(strict_types=1);

final class PlainWebSocket
{
    private $stream;

    public function __construct(int $port, string $path, float $timeout = 5.0)
    {
        $stream = stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, $timeout);
        if ($stream === false) {
            throw new RuntimeException("cannot connect: $error");
        }
        stream_set_timeout($stream, (int) ceil($timeout));
        $this->stream = $stream;
        $key = base64_encode(random_bytes(16));
        fwrite($stream, "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            . "Sec-WebSocket-Key: $key\r\nSec-WebSocket-Version: 13\r\n\r\n");
        $status = fgets($stream);
        if ($status === false || strpos($status, 'HTTP/1.1 101') !== 0) {
            throw new RuntimeException('handshake refused: ' . trim((string) $status));
        }
        while (($line = fgets($stream)) !== false && $line !== "\r\n") {
            // skip the response headers
        }
    }

    /** The next text message; throws RuntimeException("closed with CODE ...") when the server closes. */
    public function receive(): string
    {
        while (true) {
            [$first, $second] = array_values(unpack('C2', $this->read(2)));
            $length = $second & 0x7F;
            if ($length === 126) {
                $length = unpack('n', $this->read(2))[1];
            } elseif ($length === 127) {
                $length = unpack('J', $this->read(8))[1];
            }
            $payload = $length > 0 ? $this->read($length) : '';
            $opcode = $first & 0x0F;
            if ($opcode === 1) {
                return $payload;
            }
            if ($opcode === 8) {
                $code = strlen($payload) >= 2 ? unpack('n', $payload)[1] : 1005;
                throw new RuntimeException("closed with $code " . substr($payload, 2));
            }
        }
    }

    public function close(): void
    {
        if ($this->stream !== null) {
            $mask = random_bytes(4);
            $payload = pack('n', 1000);
            @fwrite($this->stream, chr(0x88) . chr(0x80 | 2) . $mask . ($payload ^ substr($mask, 0, 2)));
            fclose($this->stream);
            $this->stream = null;
        }
    }

    private function read(int $length): string
    {
        $data = '';
        while (strlen($data) < $length) {
            $chunk = fread($this->stream, $length - strlen($data));
            if ($chunk === false || $chunk === '') {
                throw new RuntimeException(stream_get_meta_data($this->stream)['timed_out'] ? 'timed out' : 'connection closed');
            }
            $data .= $chunk;
        }
        return $data;
    }
}
