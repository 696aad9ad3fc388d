<?php
// udp_push.php: push to every plain client of school 2 with one UDP datagram, as a PHP/Swoole backend does.
// No SDK, no reply: Herald delivers {"where":...,"data":...} to the connections whose attributes match `where`
// (here, the browsers that sent {"school_id":"2",...}; see examples/browser).
//
// Run:  php udp_push.php [host] [port]       (defaults 127.0.0.1 6553, or HERALD_UDP_HOST / HERALD_UDP_PORT)
// Needs the sockets extension (php-sockets; usually built in). With udp_secret set in Herald, use the SDK instead
// (sdk/php: Herald\Client::push signs each datagram).
$host = $argv[1] ?? (getenv('HERALD_UDP_HOST') ?: '127.0.0.1');
$port = (int) ($argv[2] ?? (getenv('HERALD_UDP_PORT') ?: 6553));

$message = json_encode([
    'where' => ['school_id' => '2'],
    'data' => ['type' => 'homework', 'school_class_id' => '1', 'text' => 'Maths: page 42', 'sent' => date('c')],
], JSON_UNESCAPED_UNICODE);

$socket = socket_create(AF_INET, SOCK_DGRAM, SOL_UDP);
if ($socket === false || socket_sendto($socket, $message, strlen($message), 0, $host, $port) === false) {
    fwrite(STDERR, 'udp push failed: ' . socket_strerror(socket_last_error()) . "\n");
    exit(1);
}
socket_close($socket);
echo "sent to udp://$host:$port: $message\n";
