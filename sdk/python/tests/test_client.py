import json
import time
import unittest
import uuid

from herald_client import HeraldClient, HeraldError, connection_token, subscription_token
from tests.herald_server import HeraldServer
from tests.plain_websocket import PlainWebSocket

API_KEY = "sdk-test-key"
TOKEN_SECRET = "sdk-test-token-secret-0123456789abcdef"
UDP_SECRET = "sdk-test-udp-secret"
servers = {}


def setUpModule():
    servers["plain"] = HeraldServer(API_KEY, TOKEN_SECRET)
    servers["signed"] = HeraldServer(API_KEY, TOKEN_SECRET, udp_secret=UDP_SECRET)


def tearDownModule():
    for server in servers.values():
        server.stop()


def unique(prefix):
    return prefix + "-" + uuid.uuid4().hex[:8]


def client_for(server, **overrides):
    options = dict(api_key=API_KEY, udp_port=server.udp_port, token_secret=TOKEN_SECRET)
    options.update(overrides)
    return HeraldClient(server.url, **options)


def wait_for_history(herald, channel, count, seconds=5.0):
    deadline = time.time() + seconds
    while True:
        publications = herald.history(channel)["publications"]
        if len(publications) >= count or time.time() > deadline:
            return publications
        time.sleep(0.05)


class HttpPublishTests(unittest.TestCase):
    def setUp(self):
        self.herald = client_for(servers["plain"])

    def tearDown(self):
        self.herald.close()

    def test_publish_to_a_channel_is_stored_in_history(self):
        channel = unique("news")
        reply = self.herald.to_channel(channel, {"title": "Hello", "n": 1.5, "ok": True, "none": None})
        self.assertEqual(reply["recipients"], 0)
        self.assertEqual(reply["offset"], 1)
        history = self.herald.history(channel)
        self.assertEqual(history["epoch"], reply["epoch"])
        self.assertEqual(history["publications"][0]["data"], {"title": "Hello", "n": 1.5, "ok": True, "none": None})

    def test_publish_to_channels_reports_each_channel(self):
        a, b = unique("a"), unique("b")
        reply = self.herald.to_channels([a, b], "both")
        self.assertEqual(set(reply["channels"]), {a, b})
        self.assertEqual(self.herald.history(b)["publications"][0]["data"], "both")

    def test_publish_to_a_user_lands_in_the_inbox(self):
        user = unique("u")
        reply = self.herald.to_user(user, {"approve": 1001})
        self.assertEqual(reply["inbox"], {user: 1})
        inbox = self.herald.inbox(user)
        self.assertEqual(inbox["publications"][0]["data"], {"approve": 1001})
        self.assertEqual(self.herald.inbox_ack(user, 1), {"acked": 1})
        self.assertEqual(self.herald.inbox(user)["publications"], [])
        self.assertEqual(self.herald.inbox_delete(user), {})

    def test_publish_to_users_lands_in_every_inbox(self):
        users = [unique("u"), unique("u")]
        reply = self.herald.to_users(users, "hi")
        self.assertEqual(sorted(reply["inbox"]), sorted(users))
        for user in users:
            self.assertEqual(self.herald.inbox(user)["publications"][0]["data"], "hi")

    def test_publish_where_is_live_only(self):
        reply = self.herald.to_where({"school_id": "2", "class": ["1", "3"]}, {"order": 42})
        self.assertEqual(reply, {"recipients": 0})
        self.assertEqual(self.herald.to_where({}, "everyone"), {"recipients": 0})

    def test_repeated_idempotency_key_is_a_duplicate(self):
        channel, key = unique("orders"), unique("key")
        first = self.herald.to_channel(channel, 1, idempotency_key=key)
        second = self.herald.to_channel(channel, 2, idempotency_key=key)
        self.assertNotIn("duplicate", first)
        self.assertTrue(second["duplicate"])
        self.assertEqual(second["offset"], first["offset"])
        self.assertEqual(len(self.herald.history(channel)["publications"]), 1)

    def test_publish_batch_returns_every_reply_in_order(self):
        channel = unique("batch")
        replies = self.herald.publish_batch([{"channel": channel, "data": i} for i in range(20)])
        self.assertEqual([r["offset"] for r in replies], list(range(1, 21)))
        history = self.herald.history(channel, limit=3, newest_first=True)
        self.assertEqual([p["data"] for p in history["publications"]], [19, 18, 17])
        since = self.herald.history(channel, since={"offset": 18, "epoch": history["epoch"]})
        self.assertEqual([p["data"] for p in since["publications"]], [18, 19])
        self.assertEqual(self.herald.history_remove(channel), {})

    def test_unicode_data_round_trips(self):
        channel = unique("uni")
        self.herald.to_channel(channel, "Grüße 👋")
        self.assertEqual(self.herald.history(channel)["publications"][0]["data"], "Grüße 👋")


class HttpErrorTests(unittest.TestCase):
    def test_no_target_raises_111_with_status_400(self):
        with client_for(servers["plain"]) as herald:
            with self.assertRaises(HeraldError) as caught:
                herald.publish({"data": 1})
        self.assertEqual((caught.exception.code, caught.exception.status), (111, 400))
        self.assertTrue(caught.exception.message)

    def test_wrong_api_key_raises_101_with_status_401(self):
        with client_for(servers["plain"], api_key="wrong") as herald:
            with self.assertRaises(HeraldError) as caught:
                herald.info()
        self.assertEqual((caught.exception.code, caught.exception.status), (101, 401))

    def test_unknown_method_raises_102_with_status_404(self):
        with client_for(servers["plain"]) as herald:
            with self.assertRaises(HeraldError) as caught:
                herald.call("send", {})
        self.assertEqual((caught.exception.code, caught.exception.status), (102, 404))

    def test_invalid_channel_raises_107(self):
        with client_for(servers["plain"]) as herald:
            with self.assertRaises(HeraldError) as caught:
                herald.to_channel("has space", 1)
        self.assertEqual(caught.exception.code, 107)


class PresenceAndControlTests(unittest.TestCase):
    def setUp(self):
        self.herald = client_for(servers["plain"])

    def tearDown(self):
        self.herald.close()

    def test_online_of_an_absent_user(self):
        reply = self.herald.online(["42"])
        self.assertEqual(reply["users"]["42"], {"online": False, "connections": 0})
        self.assertEqual(reply["total_connections"], 0)

    def test_presence_and_presence_stats_of_an_empty_channel(self):
        self.assertEqual(self.herald.presence("room")["members"], [])
        self.assertEqual(self.herald.presence_stats("room"), {"connections": 0, "users": 0})

    def test_disconnect_count_channels_and_info(self):
        self.assertEqual(self.herald.disconnect(user="42", reason="locked", reconnect=False), {"disconnected": 0})
        self.assertEqual(self.herald.count({"school_id": "2"}), {"connections": 0, "users": 0})
        self.assertEqual(self.herald.channels()["channels"], [])
        self.assertEqual(self.herald.subscribe("room", user="42"), {"connections": 0})
        self.assertEqual(self.herald.attributes({"role": "x"}, user="42"), {"connections": 0})
        self.assertIn("version", self.herald.info())


class UdpTests(unittest.TestCase):
    def test_push_reaches_history(self):
        server = servers["plain"]
        with client_for(server) as herald:
            channel = unique("udp")
            herald.push({"channel": channel, "data": {"via": "udp"}})
            herald.push_batch([{"channel": channel, "data": i} for i in range(3)])
            publications = wait_for_history(herald, channel, 4)
        self.assertEqual([p["data"] for p in publications], [{"via": "udp"}, 0, 1, 2])

    def test_signed_push_is_accepted_and_a_wrongly_signed_one_dropped(self):
        server = servers["signed"]
        channel = unique("signed")
        with client_for(server, udp_secret="not-the-secret") as forger, client_for(server) as unsigned:
            forger.push({"channel": channel, "data": "forged"})
            unsigned.push({"channel": channel, "data": "unsigned"})
        with client_for(server, udp_secret=UDP_SECRET) as herald:
            self.assertTrue(herald.datagram({"x": 1}).startswith(b"sha256="))
            herald.push({"channel": channel, "data": "signed"})
            publications = wait_for_history(herald, channel, 1)
            time.sleep(0.2)  # datagrams are handled in order: the bad ones, sent first, are gone for good
            publications = herald.history(channel)["publications"]
        self.assertEqual([p["data"] for p in publications], ["signed"])

    def test_oversized_datagram_is_refused_locally(self):
        with client_for(servers["plain"]) as herald:
            with self.assertRaises(ValueError):
                herald.push({"channel": "big", "data": "x" * 70000})


class TokenTests(unittest.TestCase):
    def test_connection_token_is_accepted_by_herald(self):
        token = connection_token(TOKEN_SECRET, user=42, ttl=600, attrs={"school_id": "2"}, channels=["orders#42"],
                                 info={"name": "Ann"})
        code, output = servers["plain"].check_token(token)
        self.assertEqual(code, 0, output)
        claims = json.loads(output)
        self.assertEqual(claims["user"], "42")
        self.assertEqual(claims["attrs"], {"school_id": "2"})
        self.assertEqual(claims["channels"], ["orders#42"])

    def test_subscription_token_is_accepted_by_herald(self):
        with client_for(servers["plain"]) as herald:
            token = herald.subscription_token("secret:plans", user="42")
        code, output = servers["plain"].check_token(token)
        self.assertEqual(code, 0, output)
        self.assertEqual(json.loads(output)["channel"], "secret:plans")

    def test_expired_and_wrongly_signed_tokens_are_refused(self):
        expired = connection_token(TOKEN_SECRET, user="42", ttl=60, now=time.time() - 3600)
        forged = connection_token("another-secret-0123456789abcdef0123", user="42")
        self.assertEqual(servers["plain"].check_token(expired)[0], 1)
        self.assertEqual(servers["plain"].check_token(forged)[0], 1)


class LiveDeliveryTests(unittest.TestCase):
    """A plain WebSocket client, admitted with a minted token, sees what the SDK publishes."""

    def test_a_connected_user_gets_http_and_udp_publishes_and_can_be_disconnected(self):
        server = servers["plain"]
        user, channel = unique("live"), unique("room")
        with client_for(server) as herald:
            token = herald.connection_token(user, attrs={"school_id": "2"}, channels=[channel])
            ws = PlainWebSocket(server.port, "/?token=" + token)
            try:
                deadline = time.time() + 5
                # online can count the connection a moment before its token's channels are subscribed: wait for both
                while (herald.online([user])["users"][user]["connections"] != 1
                       or herald.presence_stats(channel) != {"connections": 1, "users": 1}):
                    self.assertLess(time.time(), deadline, "the connection was not admitted")
                    time.sleep(0.05)
                self.assertEqual(herald.presence(channel)["members"][0]["user"], user)
                self.assertEqual(herald.count({"school_id": "2"})["connections"], 1)

                self.assertEqual(herald.to_user(user, {"n": 1})["recipients"], 1)
                self.assertEqual(json.loads(ws.receive()), {"n": 1})
                self.assertEqual(herald.to_channel(channel, "on the channel")["recipients"], 1)
                self.assertEqual(ws.receive(), "on the channel")
                herald.push({"where": {"school_id": "2"}, "data": {"order": 42}})
                self.assertEqual(json.loads(ws.receive()), {"order": 42})

                self.assertEqual(herald.disconnect(user=user, reason="bye", reconnect=False), {"disconnected": 1})
                with self.assertRaises(ConnectionError) as closed:
                    ws.receive()
                self.assertIn("4502", str(closed.exception))
            finally:
                ws.close()


if __name__ == "__main__":
    unittest.main()
