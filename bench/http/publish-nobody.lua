-- wrk -t2 -c64 -d10s -s bench/http/publish-nobody.lua http://127.0.0.1:17552/api/publish
-- A ~100-byte publish whose `where` matches no connection: the cost of HTTP ingress, parsing and routing.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"where":{"g":"none"},"data":{"order":1042,"status":"approved","by":"wrk","pad":"xxxxxxxxxxxxxxxx"}}'
