using System.Text.Json;
using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Core.Tests.Sessions;

public sealed class PresenceTests
{
    private const string Secret = "presence-test-secret-0123456789abcdef";

    private static Node CreateNode(NodeOptions? options = null) =>
        new(options ?? new NodeOptions(), NullLogger<Node>.Instance, tokens: new JwtTokenVerifier(new TokenOptions { Secret = Secret }, 32));

    private static (Connection, RecordingTransport) User(Node node, string user, string? info = null)
    {
        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:1");
        var token = TokenIssuer.Create(Secret, user, TimeSpan.FromHours(1), info: info is null ? null : System.Text.Json.Nodes.JsonNode.Parse(info));
        node.Send(connection, "{\"id\":1,\"method\":\"connect\",\"params\":{\"token\":\"" + token + "\"}}");
        return (connection, transport);
    }

    private static void Subscribe(Node node, Connection connection, string channel) =>
        node.Send(connection, "{\"id\":2,\"method\":\"subscribe\",\"params\":{\"channel\":\"" + channel + "\"}}");

    [Fact]
    public async Task Presence_lists_subscribers_with_user_and_info_and_stats_count_unique_users()
    {
        using var node = CreateNode();
        var (a1, _) = User(node, "alice", """{"name":"Alice"}""");
        var (a2, _) = User(node, "alice");
        var (b, _) = User(node, "bob");
        Subscribe(node, a1, "room");
        Subscribe(node, a2, "room");
        Subscribe(node, b, "room");

        var stats = await node.PresenceStatsAsync("room");
        var page = await node.PresenceAsync("room", null, 10);

        Assert.Equal(new PresenceStats(3, 2), stats);
        Assert.Equal(3, page.Members.Count);
        var alice = page.Members.Single(m => m.ClientId == a1.Id);
        Assert.Equal("alice", alice.UserId);
        Assert.Equal("""{"name":"Alice"}""", System.Text.Encoding.UTF8.GetString(alice.Info!));
    }

    [Fact]
    public async Task Leaving_by_unsubscribe_or_close_updates_presence_without_ghosts_or_negative_counts()
    {
        using var node = CreateNode();
        var (a, _) = User(node, "alice");
        var (b, _) = User(node, "bob");
        Subscribe(node, a, "room");
        Subscribe(node, b, "room");

        node.Send(a, """{"id":3,"method":"unsubscribe","params":{"channel":"room"}}""");
        node.Send(a, """{"id":4,"method":"unsubscribe","params":{"channel":"room"}}""");
        node.OnClosed(b, 1006, null);
        node.OnClosed(b, 1006, null);

        Assert.Equal(new PresenceStats(0, 0), await node.PresenceStatsAsync("room"));
        Assert.Empty((await node.PresenceAsync("room", null, 10)).Members);
    }

    [Fact]
    public void Join_and_leave_pushes_go_once_per_user_when_the_namespace_asks()
    {
        using var node = CreateNode(new NodeOptions { Namespaces = [new NamespaceOptions { Name = "chat", JoinLeave = true }] });
        var (watcher, watcherTransport) = User(node, "watcher");
        Subscribe(node, watcher, "chat:1");
        var (phone, _) = User(node, "alice");
        var (laptop, _) = User(node, "alice");

        Subscribe(node, phone, "chat:1");
        Subscribe(node, laptop, "chat:1");
        node.OnClosed(phone, 1000, null);
        node.OnClosed(laptop, 1000, null);

        var pushes = watcherTransport.Texts.Where(t => t.Contains("\"push\":\"join\"", StringComparison.Ordinal) || t.Contains("\"push\":\"leave\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, pushes.Count);
        Assert.StartsWith("""{"push":"join","channel":"chat:1","client":""" + "\"" + phone.Id, pushes[0]);
        Assert.StartsWith("""{"push":"leave","channel":"chat:1","client":""" + "\"" + laptop.Id, pushes[1]);
    }

    [Fact]
    public void Presence_commands_need_a_subscription_and_answer_from_maintained_counts()
    {
        using var node = CreateNode();
        var (a, transport) = User(node, "alice");
        var (b, _) = User(node, "bob");
        Subscribe(node, b, "room");

        node.Send(a, """{"id":5,"method":"presence_stats","params":{"channel":"room"}}""");
        var denied = JsonDocument.Parse(transport.Texts.Last()).RootElement;
        Subscribe(node, a, "room");
        node.Send(a, """{"id":6,"method":"presence_stats","params":{"channel":"room"}}""");
        var stats = JsonDocument.Parse(transport.Texts.Last()).RootElement;
        node.Send(a, """{"id":7,"method":"presence","params":{"channel":"room","limit":1}}""");
        var page = JsonDocument.Parse(transport.Texts.Last()).RootElement.GetProperty("result");

        Assert.Equal(ErrorCodes.PermissionDenied, denied.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(2, stats.GetProperty("result").GetProperty("connections").GetInt32());
        Assert.Equal(2, stats.GetProperty("result").GetProperty("users").GetInt32());
        Assert.Equal(1, page.GetProperty("members").GetArrayLength());
        Assert.True(page.TryGetProperty("cursor", out _));
    }

    [Fact]
    public async Task Presence_pages_through_ten_thousand_members_by_cursor()
    {
        var store = new MemoryPresenceStore();
        for (var i = 0; i < 10_000; i++)
        {
            await store.AddAsync("big", new PresenceEntry($"c{i:D5}", $"u{i % 5000}", null));
        }

        var seen = new HashSet<string>();
        string? cursor = null;
        do
        {
            var page = await store.GetAsync("big", cursor, 1000);
            foreach (var member in page.Members)
            {
                Assert.True(seen.Add(member.ClientId));
            }
            cursor = page.NextCursor;
        } while (cursor is not null);

        Assert.Equal(10_000, seen.Count);
        Assert.Equal(new PresenceStats(10_000, 5000), await store.GetStatsAsync("big"));
    }

    [Fact]
    public async Task A_namespace_can_turn_presence_off()
    {
        using var node = CreateNode(new NodeOptions { Namespaces = [new NamespaceOptions { Name = "quiet", Presence = false }] });
        var (a, _) = User(node, "alice");
        Subscribe(node, a, "quiet:x");

        Assert.Equal(new PresenceStats(0, 0), await node.PresenceStatsAsync("quiet:x"));
    }
}
