-- wrk -t2 -c64 -d10s -s bench/http/publish-channel.lua http://127.0.0.1:17552/api/publish
-- A ~100-byte publish to a channel with history (stored, offset assigned) and no subscribers.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"channel":"bench","data":{"order":1042,"status":"approved","by":"wrk","pad":"xxxxxxxxxxxxxxxx"}}'
