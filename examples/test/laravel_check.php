<?php
// Calls NotificationController::notify() without Laravel, as examples/test.sh does: php laravel_check.php URL KEY.
// The same request_id twice publishes once (idempotency key). Prints Herald's first reply as JSON.
require __DIR__ . '/../../sdk/php/src/Client.php';
require __DIR__ . '/../laravel/NotificationController.php';

$controller = new App\Http\Controllers\NotificationController(new Herald\Client($argv[1], ['api_key' => $argv[2]]));
$request = ['user_id' => 5, 'title' => 'Invoice paid', 'body' => 'INV-1001', 'request_id' => 'req-1'];
$reply = $controller->notify($request);
$controller->notify($request); // a retry: Herald answers duplicate and publishes nothing
echo json_encode($reply), "\n";
