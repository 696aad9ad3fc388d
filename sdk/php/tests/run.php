<?php
// Tests of Herald\Client against a real Herald started here on free loopback ports.
// Prints one line per test and a last line "N passed, M failed"; exits 1 on any failure.
// Run it with `php -n` too: without the curl and sockets extensions the client falls back to streams.

declare(strict_types=1);

require __DIR__ . '/../src/Client.php';
require __DIR__ . '/HeraldServer.php';
require __DIR__ . '/PlainWebSocket.php';

use Herald\Client;
use Herald\HeraldException;

const API_KEY = 'sdk-test-key';
const TOKEN_SECRET = 'sdk-test-token-secret-0123456789abcdef';
const UDP_SECRET = 'sdk-test-udp-secret';

function check(bool $condition, string $what): void
{
    if (!$condition) {
        throw new RuntimeException($what);
    }
}

function same($expected, $actual, string $what = 'value'): void
{
    if ($expected !== $actual) {
        throw new RuntimeException("$what: expected " . var_export($expected, true) . ', got ' . var_export($actual, true));
    }
}

function unique(string $prefix): string
{
    return $prefix . '-' . bin2hex(random_bytes(4));
}

function client(HeraldServer $server, array $options = []): Client
{
    return new Client($server->url, $options + ['api_key' => API_KEY, 'udp_port' => $server->udpPort, 'token_secret' => TOKEN_SECRET]);
}

function herald_error(callable $call): HeraldException
{
    try {
        $call();
    } catch (HeraldException $e) {
        return $e;
    }
    throw new RuntimeException('expected a HeraldException');
}

function wait_for_history(Client $herald, string $channel, int $count): array
{
    $deadline = microtime(true) + 5;
    do {
        $publications = $herald->history($channel)['publications'];
        if (count($publications) >= $count) {
            break;
        }
        usleep(50000);
    } while (microtime(true) < $deadline);
    return $publications;
}

$plain = $signed = null;
$tests = [];

$tests['publish to a channel is stored in history'] = function () use (&$plain) {
    $herald = client($plain);
    $channel = unique('news');
    $reply = $herald->toChannel($channel, ['title' => 'Hello', 'n' => 1.5, 'ok' => true, 'none' => null]);
    same(0, $reply['recipients'], 'recipients');
    same(1, $reply['offset'], 'offset');
    $history = $herald->history($channel);
    same($reply['epoch'], $history['epoch'], 'epoch');
    same(['title' => 'Hello', 'n' => 1.5, 'ok' => true, 'none' => null], $history['publications'][0]['data'], 'data');
};

$tests['publish to channels reports each channel'] = function () use (&$plain) {
    $herald = client($plain);
    [$a, $b] = [unique('a'), unique('b')];
    $reply = $herald->toChannels([$a, $b], 'both');
    check(isset($reply['channels'][$a], $reply['channels'][$b]), 'both channels in the reply');
    same('both', $herald->history($b)['publications'][0]['data'], 'data');
};

$tests['publish to a user lands in the inbox'] = function () use (&$plain) {
    $herald = client($plain);
    $user = unique('u');
    same([$user => 1], $herald->toUser($user, ['approve' => 1001])['inbox'], 'inbox');
    same(['approve' => 1001], $herald->inbox($user)['publications'][0]['data'], 'data');
    same(['acked' => 1], $herald->inboxAck($user, 1), 'ack');
    same([], $herald->inbox($user)['publications'], 'after ack');
    same([], $herald->inboxDelete($user), 'delete');
};

$tests['publish to users lands in every inbox'] = function () use (&$plain) {
    $herald = client($plain);
    $users = [unique('u'), unique('u')];
    $reply = $herald->toUsers($users, 'hi');
    check(isset($reply['inbox'][$users[0]], $reply['inbox'][$users[1]]), 'both users in the reply');
    foreach ($users as $user) {
        same('hi', $herald->inbox($user)['publications'][0]['data'], 'data');
    }
};

$tests['a numeric user id is sent as a string'] = function () use (&$plain) {
    $herald = client($plain);
    $id = random_int(100000, 999999);
    same(1, $herald->toUser($id, 'x')['inbox'][(string) $id], 'inbox offset');
};

$tests['publish where is live only, and [] reaches everyone'] = function () use (&$plain) {
    $herald = client($plain);
    same(['recipients' => 0], $herald->toWhere(['school_id' => '2', 'class' => ['1', '3']], ['order' => 42]), 'reply');
    same(['recipients' => 0], $herald->toWhere([], 'everyone'), 'reply to where {}');
};

$tests['a repeated idempotency key is a duplicate'] = function () use (&$plain) {
    $herald = client($plain);
    [$channel, $key] = [unique('orders'), unique('key')];
    $first = $herald->toChannel($channel, 1, $key);
    $second = $herald->publish(['channel' => $channel, 'data' => 2, 'idempotency_key' => $key]);
    check(!isset($first['duplicate']), 'first is not a duplicate');
    same(true, $second['duplicate'] ?? null, 'duplicate');
    same($first['offset'], $second['offset'], 'offset');
    same(1, count($herald->history($channel)['publications']), 'stored once');
};

$tests['publish batch returns every reply in order'] = function () use (&$plain) {
    $herald = client($plain);
    $channel = unique('batch');
    $messages = [];
    for ($i = 0; $i < 20; $i++) {
        $messages[] = ['channel' => $channel, 'data' => $i];
    }
    same(range(1, 20), array_column($herald->publishBatch($messages), 'offset'), 'offsets');
    $history = $herald->history($channel, 3, null, true);
    same([19, 18, 17], array_column($history['publications'], 'data'), 'newest first');
    $since = $herald->history($channel, null, ['offset' => 18, 'epoch' => $history['epoch']]);
    same([18, 19], array_column($since['publications'], 'data'), 'since');
    same([], $herald->historyRemove($channel), 'history_remove');
};

$tests['unicode data round-trips'] = function () use (&$plain) {
    $herald = client($plain);
    $channel = unique('uni');
    $herald->toChannel($channel, "Grüße 👋 a/b");
    same("Grüße 👋 a/b", $herald->history($channel)['publications'][0]['data'], 'data');
};

$tests['no target throws 111 with status 400'] = function () use (&$plain) {
    $e = herald_error(function () use (&$plain) { client($plain)->publish(['data' => 1]); });
    same([111, 400], [$e->getCode(), $e->getStatus()], 'code and status');
    check($e->getMessage() !== '', 'has a message');
};

$tests['a wrong API key throws 101 with status 401'] = function () use (&$plain) {
    $e = herald_error(function () use (&$plain) { client($plain, ['api_key' => 'wrong'])->info(); });
    same([101, 401], [$e->getCode(), $e->status], 'code and status');
};

$tests['an unknown method throws 102 with status 404'] = function () use (&$plain) {
    $e = herald_error(function () use (&$plain) { client($plain)->call('send'); });
    same([102, 404], [$e->getCode(), $e->getStatus()], 'code and status');
};

$tests['an invalid channel throws 107'] = function () use (&$plain) {
    same(107, herald_error(function () use (&$plain) { client($plain)->toChannel('has space', 1); })->getCode(), 'code');
};

$tests['online of an absent user'] = function () use (&$plain) {
    $reply = client($plain)->online(['42']);
    same(['online' => false, 'connections' => 0], $reply['users']['42'], 'user 42');
    same(0, $reply['total_connections'], 'total_connections');
};

$tests['presence and presence_stats of an empty channel'] = function () use (&$plain) {
    $herald = client($plain);
    same([], $herald->presence('room')['members'], 'members');
    same(['connections' => 0, 'users' => 0], $herald->presenceStats('room'), 'stats');
};

$tests['disconnect, count, channels, subscribe, attributes and info'] = function () use (&$plain) {
    $herald = client($plain);
    same(['disconnected' => 0], $herald->disconnect('42', ['reason' => 'locked', 'reconnect' => false]), 'disconnect');
    same(['connections' => 0, 'users' => 0], $herald->count(['school_id' => '2']), 'count');
    same(['connections' => 0, 'users' => 0], $herald->count([]), 'count of everyone');
    same([], $herald->channels()['channels'], 'channels');
    same(['connections' => 0], $herald->subscribe('room', '42'), 'subscribe');
    same(['connections' => 0], $herald->attributes(['role' => 'x'], '42'), 'attributes');
    check(isset($herald->info()['version']), 'info has a version');
};

$tests['UDP push reaches history'] = function () use (&$plain) {
    $herald = client($plain);
    $channel = unique('udp');
    $herald->push(['channel' => $channel, 'data' => ['via' => 'udp']]);
    $herald->pushBatch([['channel' => $channel, 'data' => 0], ['channel' => $channel, 'data' => 1]]);
    same([['via' => 'udp'], 0, 1], array_column(wait_for_history($herald, $channel, 3), 'data'), 'data');
};

$tests['a signed push is accepted and wrongly signed or unsigned ones dropped'] = function () use (&$signed) {
    $channel = unique('signed');
    client($signed, ['udp_secret' => 'not-the-secret'])->push(['channel' => $channel, 'data' => 'forged']);
    client($signed)->push(['channel' => $channel, 'data' => 'unsigned']);
    $herald = client($signed, ['udp_secret' => UDP_SECRET]);
    check(strpos($herald->datagram(['x' => 1]), 'sha256=') === 0, 'the datagram starts with sha256=');
    $herald->push(['channel' => $channel, 'data' => 'signed']);
    wait_for_history($herald, $channel, 1);
    usleep(200000); // datagrams are handled in order: the bad ones, sent first, are gone for good
    same(['signed'], array_column($herald->history($channel)['publications'], 'data'), 'only the signed one');
};

$tests['an oversized datagram is refused locally'] = function () use (&$plain) {
    try {
        client($plain)->push(['channel' => 'big', 'data' => str_repeat('x', 70000)]);
    } catch (LengthException $e) {
        return;
    }
    throw new RuntimeException('expected a LengthException');
};

$tests['a connection token is accepted by herald token check'] = function () use (&$plain) {
    $token = Client::mintConnectionToken(TOKEN_SECRET, 42, ['ttl' => 600, 'attrs' => ['school_id' => '2'], 'channels' => ['orders#42'], 'info' => ['name' => 'Ann']]);
    [$code, $output] = $plain->checkToken($token);
    same(0, $code, "exit code ($output)");
    $claims = json_decode($output, true);
    same('42', $claims['user'], 'user');
    same(['school_id' => '2'], $claims['attrs'], 'attrs');
    same(['orders#42'], $claims['channels'], 'channels');
};

$tests['a subscription token is accepted by herald token check'] = function () use (&$plain) {
    [$code, $output] = $plain->checkToken(client($plain)->subscriptionToken('secret:plans', '42'));
    same(0, $code, "exit code ($output)");
    same('secret:plans', json_decode($output, true)['channel'], 'channel');
};

$tests['expired and wrongly signed tokens are refused'] = function () use (&$plain) {
    $expired = Client::mintConnectionToken(TOKEN_SECRET, '42', ['ttl' => 60, 'now' => time() - 3600]);
    $forged = Client::mintConnectionToken('another-secret-0123456789abcdef0123', '42');
    same(1, $plain->checkToken($expired)[0], 'expired');
    same(1, $plain->checkToken($forged)[0], 'forged');
};

$tests['a connected user gets HTTP and UDP publishes and can be disconnected'] = function () use (&$plain) {
    $herald = client($plain);
    [$user, $channel] = [unique('live'), unique('room')];
    $token = $herald->connectionToken($user, ['attrs' => ['school_id' => '2'], 'channels' => [$channel]]);
    $ws = new PlainWebSocket($plain->port, '/?token=' . rawurlencode($token));
    try {
        // online can count the connection a moment before its token's channels are subscribed: wait for both
        $deadline = microtime(true) + 5;
        while ($herald->online([$user])['users'][$user]['connections'] !== 1
            || $herald->presenceStats($channel) !== ['connections' => 1, 'users' => 1]) {
            check(microtime(true) < $deadline, 'the connection was not admitted');
            usleep(50000);
        }
        same(1, $herald->toUser($user, ['n' => 1])['recipients'], 'recipients of the user publish');
        same('{"n":1}', $ws->receive(), 'user publish');
        same(1, $herald->toChannel($channel, 'on the channel')['recipients'], 'recipients of the channel publish');
        same('on the channel', $ws->receive(), 'channel publish');
        $herald->push(['where' => ['school_id' => '2'], 'data' => ['order' => 42]]);
        same('{"order":42}', $ws->receive(), 'UDP where publish');
        same(['disconnected' => 1], $herald->disconnect($user, ['reason' => 'bye', 'reconnect' => false]), 'disconnect');
        try {
            $ws->receive();
            throw new RuntimeException('expected the server to close');
        } catch (RuntimeException $e) {
            check(strpos($e->getMessage(), 'closed with 4502') === 0, 'close code 4502: ' . $e->getMessage());
        }
    } finally {
        $ws->close();
    }
};

$mode = (function_exists('curl_init') ? 'curl' : 'streams') . ' + ' . (function_exists('socket_create') ? 'sockets' : 'stream_socket_client');
echo "PHP " . PHP_VERSION . " ($mode)\n";
$passed = $failed = 0;
try {
    $plain = new HeraldServer(API_KEY, TOKEN_SECRET);
    $signed = new HeraldServer(API_KEY, TOKEN_SECRET, UDP_SECRET);
    foreach ($tests as $name => $test) {
        try {
            $test();
            $passed++;
            echo "ok   $name\n";
        } catch (Throwable $e) {
            $failed++;
            echo "FAIL $name: " . get_class($e) . ': ' . $e->getMessage() . "\n";
        }
    }
} catch (Throwable $e) {
    $failed++;
    echo "FAIL starting Herald: " . $e->getMessage() . "\n";
} finally {
    foreach ([$plain, $signed] as $server) {
        if ($server !== null) {
            $server->stop();
        }
    }
}
echo "$passed passed, $failed failed\n";
exit($failed === 0 ? 0 : 1);
