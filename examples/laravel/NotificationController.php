<?php
// NotificationController.php: a Laravel controller that notifies a user through Herald with the PHP SDK
// (sdk/php, Herald\Client). The publish goes to the user's personal channel `notifications#<user>` (what
// examples/vue, examples/uniapp and examples/miniprogram subscribe to), which keeps it in history for recovery.
//
// Use: add sdk/php as a Composer path repository (or copy src/Client.php), put this file in app/Http/Controllers,
// bind the client once in a service provider:
//     $this->app->singleton(\Herald\Client::class, fn () => new \Herald\Client(
//         config('services.herald.url'), ['api_key' => config('services.herald.key')]));
// and add a route:  Route::post('/notifications', [NotificationController::class, 'store']);
// notify() holds the publishing and needs no Laravel: examples/test.sh calls it with a plain array.
namespace App\Http\Controllers;

use Herald\Client;
use Herald\HeraldException;
use Illuminate\Http\Request;

class NotificationController
{
    private Client $herald;

    public function __construct(Client $herald)
    {
        $this->herald = $herald;
    }

    /** POST /notifications  {"user_id": 42, "title": "...", "body": "..."} */
    public function store(Request $request)
    {
        $input = $request->validate([
            'user_id' => 'required',
            'title' => 'required|string|max:200',
            'body' => 'nullable|string',
        ]);
        try {
            return response()->json($this->notify($input), 202);
        } catch (HeraldException $e) {
            report($e);
            return response()->json(['error' => $e->getMessage()], 502);
        }
    }

    /**
     * Publishes one notification and returns Herald's reply (recipients, offset, epoch). The idempotency key makes a
     * retried request publish once.
     */
    public function notify(array $input): array
    {
        $data = ['title' => $input['title'], 'body' => $input['body'] ?? null];
        $key = $input['request_id'] ?? null;
        return $this->herald->toChannel('notifications#' . $input['user_id'], $data, $key);
    }
}
