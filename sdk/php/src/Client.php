<?php

declare(strict_types=1);

namespace Herald;

/**
 * An error answered by Herald's HTTP API: getCode() is Herald's error code (104, 111...), $status the HTTP status.
 */
final class HeraldException extends \RuntimeException
{
    /** @var int */
    public $status;

    public function __construct(int $code, string $message, int $status)
    {
        parent::__construct($message, $code);
        $this->status = $status;
    }

    public function getStatus(): int
    {
        return $this->status;
    }
}

/**
 * Herald publishing client: HTTP API (curl when loaded, else streams), UDP ingress (sockets extension when loaded,
 * else stream_socket_client), HS256 connection and subscription tokens. PHP 7.4+, no dependencies.
 */
final class Client
{
    /** The largest UDP payload over IPv4; Herald drops larger datagrams. */
    public const MAX_DATAGRAM = 65507;

    /** @var string */
    private $url;
    /** @var string|null */
    private $apiKey;
    /** @var string */
    private $udpHost;
    /** @var int */
    private $udpPort;
    /** @var string|null */
    private $udpSecret;
    /** @var string|null */
    private $tokenSecret;
    /** @var float */
    private $timeout;
    /** @var resource|\CurlHandle|null kept between calls so requests reuse one connection */
    private $curl;
    /** @var resource|\Socket|null */
    private $udp;
    /** @var bool whether $udp comes from socket_create (else from stream_socket_client) */
    private $udpIsSocket = false;

    /**
     * Options: api_key, udp_host (127.0.0.1), udp_port (6553), udp_secret, token_secret, timeout (seconds, 5).
     */
    public function __construct(string $url = 'http://127.0.0.1:6552', array $options = [])
    {
        $this->url = rtrim($url, '/');
        $this->apiKey = $options['api_key'] ?? null;
        $this->udpHost = $options['udp_host'] ?? '127.0.0.1';
        $this->udpPort = (int) ($options['udp_port'] ?? 6553);
        $this->udpSecret = $options['udp_secret'] ?? null;
        $this->tokenSecret = $options['token_secret'] ?? null;
        $this->timeout = (float) ($options['timeout'] ?? 5.0);
    }

    public function __destruct()
    {
        $this->close();
    }

    // ---- HTTP ----

    /** Calls POST /api/<method> with an array of parameters and returns the decoded reply. */
    public function call(string $method, array $params = []): array
    {
        $body = self::encode($params === [] ? new \stdClass() : $params);
        [$status, $raw] = function_exists('curl_init')
            ? $this->postWithCurl('/api/' . $method, $body)
            : $this->postWithStreams('/api/' . $method, $body);
        $reply = $raw === '' ? null : json_decode($raw, true);
        if ($status >= 200 && $status < 300) {
            if (!is_array($reply)) {
                if ($raw === '') {
                    return [];
                }
                throw new HeraldException(0, 'the reply is not a JSON object: ' . substr($raw, 0, 200), $status);
            }
            return $reply;
        }
        if (is_array($reply) && isset($reply['error']) && is_array($reply['error'])) {
            throw new HeraldException((int) ($reply['error']['code'] ?? 0), (string) ($reply['error']['message'] ?? ''), $status);
        }
        throw new HeraldException(0, "HTTP $status " . substr($raw, 0, 200), $status);
    }

    /**
     * Publishes one message over HTTP: ['channel'|'channels'|'user'|'users'|'where' => ..., 'data' => ...,
     * 'idempotency_key' => ...]. Returns the reply: recipients, and offset/epoch, channels, inbox, duplicate.
     */
    public function publish(array $message): array
    {
        return $this->call('publish', self::normalize($message));
    }

    /**
     * Publishes several messages over one kept-alive HTTP connection (with curl); returns the replies in order and
     * stops at the first error. For many fire-and-forget messages pushBatch() over UDP is cheaper.
     */
    public function publishBatch(array $messages): array
    {
        $replies = [];
        foreach ($messages as $message) {
            $replies[] = $this->publish($message);
        }
        return $replies;
    }

    public function toChannel(string $channel, $data, ?string $idempotencyKey = null): array
    {
        return $this->publish(self::message('channel', $channel, $data, $idempotencyKey));
    }

    public function toChannels(array $channels, $data, ?string $idempotencyKey = null): array
    {
        return $this->publish(self::message('channels', array_values($channels), $data, $idempotencyKey));
    }

    /** @param string|int $user */
    public function toUser($user, $data, ?string $idempotencyKey = null): array
    {
        return $this->publish(self::message('user', (string) $user, $data, $idempotencyKey));
    }

    public function toUsers(array $users, $data, ?string $idempotencyKey = null): array
    {
        return $this->publish(self::message('users', array_map('strval', array_values($users)), $data, $idempotencyKey));
    }

    /** Publishes to the connections whose attributes match; [] reaches every connection. */
    public function toWhere(array $where, $data, ?string $idempotencyKey = null): array
    {
        return $this->publish(self::message('where', $where, $data, $idempotencyKey));
    }

    /** @param int|array|null $since an offset, or ['offset' => N, 'epoch' => 'E'] */
    public function history(string $channel, ?int $limit = null, $since = null, ?bool $newestFirst = null): array
    {
        return $this->call('history', self::params(['channel' => $channel, 'limit' => $limit, 'since' => $since, 'newest_first' => $newestFirst]));
    }

    public function historyRemove(string $channel): array
    {
        return $this->call('history_remove', ['channel' => $channel]);
    }

    public function inbox(string $user, ?int $since = null, ?int $limit = null): array
    {
        return $this->call('inbox', self::params(['user' => $user, 'since' => $since, 'limit' => $limit]));
    }

    public function inboxAck(string $user, int $offset): array
    {
        return $this->call('inbox_ack', ['user' => $user, 'offset' => $offset]);
    }

    public function inboxDelete(string $user, ?int $offset = null): array
    {
        return $this->call('inbox_delete', self::params(['user' => $user, 'offset' => $offset]));
    }

    public function online(array $users): array
    {
        return $this->call('online', ['users' => array_map('strval', array_values($users))]);
    }

    public function presence(string $channel, ?int $limit = null, ?string $cursor = null): array
    {
        return $this->call('presence', self::params(['channel' => $channel, 'limit' => $limit, 'cursor' => $cursor]));
    }

    public function presenceStats(string $channel): array
    {
        return $this->call('presence_stats', ['channel' => $channel]);
    }

    public function channels(?string $prefix = null, ?int $limit = null, ?string $cursor = null): array
    {
        return $this->call('channels', self::params(['prefix' => $prefix, 'limit' => $limit, 'cursor' => $cursor]));
    }

    public function count(array $where, bool $list = false, ?int $limit = null, ?string $cursor = null): array
    {
        return $this->call('count', self::params(['where' => self::object($where), 'list' => $list ?: null, 'limit' => $limit, 'cursor' => $cursor]));
    }

    /** Closes a user's connections, or one connection: options client, code, reason, reconnect. */
    public function disconnect(?string $user, array $options = []): array
    {
        return $this->call('disconnect', self::params(['user' => $user] + $options));
    }

    public function subscribe(string $channel, ?string $user, ?string $client = null): array
    {
        return $this->call('subscribe', self::params(['user' => $user, 'client' => $client, 'channel' => $channel]));
    }

    public function unsubscribe(string $channel, ?string $user, ?string $client = null): array
    {
        return $this->call('unsubscribe', self::params(['user' => $user, 'client' => $client, 'channel' => $channel]));
    }

    public function attributes(array $attrs, ?string $user, ?string $client = null): array
    {
        return $this->call('attributes', self::params(['user' => $user, 'client' => $client, 'attrs' => self::object($attrs)]));
    }

    public function info(): array
    {
        return $this->call('info');
    }

    // ---- UDP ----

    /** Sends one message as a UDP datagram: no reply, no guarantee. Signed when udp_secret is set. */
    public function push(array $message): void
    {
        $datagram = $this->datagram($message);
        if (function_exists('socket_create')) {
            if ($this->udp === null) {
                $family = strpos($this->udpHost, ':') !== false ? AF_INET6 : AF_INET;
                $socket = socket_create($family, SOCK_DGRAM, SOL_UDP);
                if ($socket === false) {
                    throw new \RuntimeException('socket_create failed: ' . socket_strerror(socket_last_error()));
                }
                $this->udp = $socket;
                $this->udpIsSocket = true;
            }
            if (socket_sendto($this->udp, $datagram, strlen($datagram), 0, $this->udpHost, $this->udpPort) === false) {
                throw new \RuntimeException('socket_sendto failed: ' . socket_strerror(socket_last_error($this->udp)));
            }
            return;
        }
        if ($this->udp === null) {
            $host = strpos($this->udpHost, ':') !== false ? '[' . $this->udpHost . ']' : $this->udpHost;
            $stream = @stream_socket_client("udp://$host:{$this->udpPort}", $errno, $error);
            if ($stream === false) {
                throw new \RuntimeException("cannot open udp://$host:{$this->udpPort}: $error");
            }
            $this->udp = $stream;
        }
        if (@fwrite($this->udp, $datagram) !== strlen($datagram)) {
            throw new \RuntimeException('could not send the datagram');
        }
    }

    /** Sends each message as its own datagram: the cheap way to publish many messages. */
    public function pushBatch(array $messages): void
    {
        foreach ($messages as $message) {
            $this->push($message);
        }
    }

    /** The exact bytes push() sends: the JSON body, after a "sha256=<hex>\n" line when udp_secret is set. */
    public function datagram(array $message): string
    {
        $body = self::encode(self::normalize($message));
        if ($this->udpSecret !== null && $this->udpSecret !== '') {
            $body = 'sha256=' . hash_hmac('sha256', $body, $this->udpSecret) . "\n" . $body;
        }
        if (strlen($body) > self::MAX_DATAGRAM) {
            throw new \LengthException('datagram of ' . strlen($body) . ' bytes exceeds ' . self::MAX_DATAGRAM . ': publish it over HTTP');
        }
        return $body;
    }

    // ---- tokens ----

    /**
     * An HS256 connection token signed with token_secret. Options: attrs, channels, info, ttl (seconds, default 3600;
     * 0 for no exp), now (Unix time). $user null makes an anonymous token.
     * @param string|int|null $user
     */
    public function connectionToken($user, array $options = []): string
    {
        return self::mintConnectionToken($this->secret(), $user, $options);
    }

    /** @param string|int|null $user */
    public function subscriptionToken(string $channel, $user, int $ttl = 300): string
    {
        return self::mintConnectionToken($this->secret(), $user, ['ttl' => $ttl, 'claims' => ['channel' => $channel]]);
    }

    /** @param string|int|null $user */
    public static function mintConnectionToken(string $secret, $user, array $options = []): string
    {
        $now = (int) ($options['now'] ?? time());
        $claims = ['iat' => $now];
        if ($user !== null) {
            $claims['sub'] = (string) $user;
        }
        $ttl = (int) ($options['ttl'] ?? 3600);
        if ($ttl > 0) {
            $claims['exp'] = $now + $ttl;
        }
        if (!empty($options['attrs'])) {
            $claims['attrs'] = (object) $options['attrs'];
        }
        if (!empty($options['channels'])) {
            $claims['channels'] = array_values($options['channels']);
        }
        if (array_key_exists('info', $options)) {
            $claims['info'] = $options['info'];
        }
        $claims = ($options['claims'] ?? []) + $claims;
        $header = self::base64url(self::encode(['alg' => 'HS256', 'typ' => 'JWT']));
        $payload = self::base64url(self::encode($claims));
        return "$header.$payload." . self::base64url(hash_hmac('sha256', "$header.$payload", $secret, true));
    }

    /** Closes the kept-alive HTTP connection and the UDP socket. */
    public function close(): void
    {
        if ($this->curl !== null) {
            curl_close($this->curl);
            $this->curl = null;
        }
        if ($this->udp !== null) {
            if ($this->udpIsSocket) {
                socket_close($this->udp);
            } else {
                fclose($this->udp);
            }
            $this->udp = null;
        }
    }

    // ---- internals ----

    private function headers(): array
    {
        $headers = ['Content-Type: application/json'];
        if ($this->apiKey !== null && $this->apiKey !== '') {
            $headers[] = 'X-API-Key: ' . $this->apiKey;
        }
        return $headers;
    }

    private function postWithCurl(string $path, string $body): array
    {
        if ($this->curl === null) {
            $this->curl = curl_init();
        }
        curl_setopt_array($this->curl, [
            CURLOPT_URL => $this->url . $path,
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_HTTPHEADER => array_merge($this->headers(), ['Expect:']),
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT_MS => (int) ($this->timeout * 1000),
            CURLOPT_CONNECTTIMEOUT_MS => (int) ($this->timeout * 1000),
        ]);
        $raw = curl_exec($this->curl);
        if ($raw === false) {
            $error = curl_error($this->curl);
            $this->close();
            throw new \RuntimeException("POST {$this->url}$path failed: $error");
        }
        return [(int) curl_getinfo($this->curl, CURLINFO_RESPONSE_CODE), (string) $raw];
    }

    private function postWithStreams(string $path, string $body): array
    {
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => implode("\r\n", $this->headers()) . "\r\n",
            'content' => $body,
            'ignore_errors' => true,
            'timeout' => $this->timeout,
        ]]);
        $raw = @file_get_contents($this->url . $path, false, $context);
        if ($raw === false) {
            $error = error_get_last()['message'] ?? 'unknown error';
            throw new \RuntimeException("POST {$this->url}$path failed: $error");
        }
        $status = 0;
        foreach ($http_response_header ?? [] as $line) {
            if (preg_match('#^HTTP/\S+ (\d{3})#', $line, $match)) {
                $status = (int) $match[1]; // the last status line wins (after redirects)
            }
        }
        return [$status, $raw];
    }

    private function secret(): string
    {
        if ($this->tokenSecret === null || $this->tokenSecret === '') {
            throw new \LogicException("no token_secret: pass new Client(\$url, ['token_secret' => ...]) with Herald's token_secret");
        }
        return $this->tokenSecret;
    }

    /** PHP encodes [] as a JSON array: `where` and `attrs` must be objects ({} reaches everyone). */
    private static function normalize(array $message): array
    {
        if (isset($message['where']) && is_array($message['where'])) {
            $message['where'] = self::object($message['where']);
        }
        return $message;
    }

    private static function object(array $value)
    {
        return $value === [] ? new \stdClass() : $value;
    }

    private static function message(string $kind, $target, $data, ?string $idempotencyKey): array
    {
        $message = [$kind => $target, 'data' => $data];
        if ($idempotencyKey !== null) {
            $message['idempotency_key'] = $idempotencyKey;
        }
        return $message;
    }

    private static function params(array $params): array
    {
        return array_filter($params, static function ($value) {
            return $value !== null;
        });
    }

    private static function encode($value): string
    {
        return json_encode($value, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR);
    }

    private static function base64url(string $bytes): string
    {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }
}
