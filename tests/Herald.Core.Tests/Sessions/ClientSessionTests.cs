using System.Text.Json;
using Herald.Core.Attributes;
using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Sessions;
using Herald.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Core.Tests.Sessions;

/// <summary>The session API called directly, with typed arguments and results: no frame is parsed or written.</summary>
public sealed class ClientSessionTests
{
    private const string Secret = "test-secret-that-is-long-enough-for-hs256!";

    private static Node CreateNode(NodeOptions? options = null)
    {
        options ??= new NodeOptions();
        return new Node(options, NullLogger<Node>.Instance, tokens: new JwtTokenVerifier(new TokenOptions { Secret = Secret }, options.MaxAttributes));
    }

    private static string Token(string user, string[]? channels = null, string? channel = null) =>
        TokenIssuer.Create(Secret, user, TimeSpan.FromHours(1), null, channels, channel);

    private static (ClientSession Session, Connection Connection, RecordingTransport Transport) Open(Node node)
    {
        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:7");
        return (node.SessionFor(connection), connection, transport);
    }

    private static ConnectRequest Connect(string? token = null, AttributeSet? attributes = null, IReadOnlyDictionary<string, StreamPosition>? since = null,
        CommandError? attributesError = null, CommandError? sinceError = null) =>
        new(token, attributes ?? AttributeSet.Empty, attributesError, since, sinceError);

    private static async Task<ClientSession> ConnectedAsync(Node node, string? token = null)
    {
        var (session, _, _) = Open(node);
        var reply = new RecordingReply<ConnectResult>();
        await session.ConnectAsync(Connect(token), reply);
        _ = reply.Result;
        return session;
    }

    private static async Task<StreamPosition> PublishAsync(Node node, string channel, int count)
    {
        for (var i = 1; i <= count; i++)
        {
            var result = await node.PublishAsync(new Herald.Core.Routing.PublishRequest([channel], null, JsonSerializer.SerializeToUtf8Bytes(new { n = i }), false));
            Assert.True(result.Succeeded, result.Error);
        }
        return (await node.HistoryAsync(channel, 1, 0, newestFirst: true)).Position;
    }

    [Fact]
    public async Task Connect_admits_an_anonymous_connection_with_its_attributes_and_tells_it_the_keep_alive()
    {
        using var node = CreateNode();
        var (session, connection, transport) = Open(node);
        var reply = new RecordingReply<ConnectResult>();

        await session.ConnectAsync(Connect(attributes: AttributeSet.From([new("school_id", "2")])), reply);

        var result = reply.Result;
        Assert.Equal(ConnectionState.Ready, connection.State);
        Assert.Equal(connection.Id, result.ClientId);
        Assert.Equal(ServerInfo.Version, result.ServerVersion);
        Assert.Equal(node.Options.PingInterval, result.PingInterval);
        Assert.Equal(node.Options.PongTimeout, result.PongTimeout);
        Assert.Equal("", result.UserId);
        Assert.Null(result.ExpiresInSeconds);
        Assert.Empty(result.Subscriptions);
        Assert.Null(result.Inbox);
        Assert.True(connection.Attributes.TryGetValue("school_id", out var school) && school == "2");
        Assert.Empty(transport.Texts); // the session writes no frame: the adapter does
    }

    [Fact]
    public async Task Connect_with_a_token_subscribes_its_channels_and_recovers_what_was_missed_since_the_given_positions()
    {
        using var node = CreateNode();
        var position = await PublishAsync(node, "news", 3);
        var (session, connection, _) = Open(node);
        var reply = new RecordingReply<ConnectResult>();

        await session.ConnectAsync(Connect(Token("42", channels: ["news", "sport"]),
            since: new Dictionary<string, StreamPosition> { ["news"] = new(1, position.Epoch) }), reply);

        var result = reply.Result;
        Assert.Equal("42", result.UserId);
        Assert.InRange(result.ExpiresInSeconds!.Value, 3590, 3600);
        Assert.Equal(["news", "sport"], connection.Channels.Order(StringComparer.Ordinal));
        var news = result.Subscriptions.Single(s => s.Channel == "news").Stream!;
        Assert.Equal(position, news.Position);
        Assert.True(news.Recovered);
        Assert.Equal([2ul, 3ul], news.Publications.Select(p => p.Offset));
        var sport = result.Subscriptions.Single(s => s.Channel == "sport").Stream!;
        Assert.Null(sport.Recovered); // no position given: where the stream is, nothing replayed
        Assert.Empty(sport.Publications);
    }

    [Fact]
    public async Task Connect_refuses_in_order_a_second_connect_then_unreadable_attributes_then_the_token_then_unreadable_positions()
    {
        using var node = CreateNode(new NodeOptions { RequireToken = true });
        var badAttributes = new CommandError(ErrorCodes.InvalidAttributes, "attributes must be an object");
        var badSince = new CommandError(ErrorCodes.BadRequest, "since is wrong");

        var (first, firstConnection, _) = Open(node);
        var attributesFirst = new RecordingReply<ConnectResult>();
        await first.ConnectAsync(Connect(attributesError: badAttributes, sinceError: badSince), attributesFirst);
        Assert.Equal(badAttributes, attributesFirst.Error);
        Assert.Equal(ConnectionState.AwaitingConnect, firstConnection.State);

        var tokenBeforeSince = new RecordingReply<ConnectResult>();
        await first.ConnectAsync(Connect(sinceError: badSince), tokenBeforeSince);
        Assert.Equal(ErrorCodes.Unauthorized, tokenBeforeSince.Error.Code);
        Assert.Equal("a token is required: pass it as \"token\" in connect", tokenBeforeSince.Error.Message);
        Assert.True(firstConnection.State >= ConnectionState.Closing); // a refused token closes the connection

        var (second, secondConnection, _) = Open(node);
        var sinceAfterToken = new RecordingReply<ConnectResult>();
        await second.ConnectAsync(Connect(Token("42"), sinceError: badSince), sinceAfterToken);
        Assert.Equal(badSince, sinceAfterToken.Error);
        Assert.Equal(ConnectionState.AwaitingConnect, secondConnection.State);

        await second.ConnectAsync(Connect(Token("42")), new RecordingReply<ConnectResult>());
        var again = new RecordingReply<ConnectResult>();
        await second.ConnectAsync(Connect(Token("42"), attributesError: badAttributes), again);
        Assert.Equal(ErrorCodes.AlreadyConnected, again.Error.Code);
    }

    [Fact]
    public async Task Subscribe_with_since_recovers_the_missed_publications_in_order()
    {
        using var node = CreateNode();
        var position = await PublishAsync(node, "c", 5);
        var session = await ConnectedAsync(node);
        var reply = new RecordingReply<SubscribeResult>();

        await session.SubscribeAsync(new SubscribeRequest("c", null, new StreamPosition(2, position.Epoch), null), reply);

        var stream = reply.Result.Stream!;
        Assert.Equal("c", reply.Result.Channel);
        Assert.Equal(position, stream.Position);
        Assert.True(stream.Recovered);
        Assert.Equal([3ul, 4ul, 5ul], stream.Publications.Select(p => p.Offset));
        Assert.True(session.Connection.Channels.Contains("c"));
    }

    [Fact]
    public async Task Subscribe_from_another_epoch_is_not_recovered_and_replays_nothing()
    {
        using var node = CreateNode();
        var position = await PublishAsync(node, "c", 2);
        var session = await ConnectedAsync(node);
        var reply = new RecordingReply<SubscribeResult>();

        await session.SubscribeAsync(new SubscribeRequest("c", null, new StreamPosition(1, "another-epoch"), null), reply);

        var stream = reply.Result.Stream!;
        Assert.Equal(position, stream.Position);
        Assert.False(stream.Recovered);
        Assert.Empty(stream.Publications);
    }

    [Fact]
    public async Task Subscribe_hands_over_its_result_before_any_live_publication_of_the_channel_reaches_the_connection()
    {
        using var node = CreateNode();
        await PublishAsync(node, "c", 1);
        var session = await ConnectedAsync(node);
        var transport = (RecordingTransport)session.Connection.Transport;
        Task<Herald.Core.Routing.PublishResult>? publish = null;
        var pubsAtReply = -1;
        var reply = new RecordingReply<SubscribeResult>
        {
            OnOutcome = () =>
            {
                // A publish started while the result is handed over waits for the channel's stream: it cannot reach
                // the connection before the adapter has sent the reply.
                publish = node.PublishAsync(new Herald.Core.Routing.PublishRequest(["c"], null, "2"u8.ToArray(), false)).AsTask();
                pubsAtReply = Publications(transport).Count;
            },
        };

        await session.SubscribeAsync(new SubscribeRequest("c", null, null, null), reply);
        await publish!.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1ul, reply.Result.Stream!.Position.Offset);
        Assert.Equal(0, pubsAtReply);
        Assert.Equal(["{\"push\":\"pub\",\"channel\":\"c\",\"offset\":2,\"data\":2}"], Publications(transport));
    }

    private static List<string> Publications(RecordingTransport transport) =>
        transport.Texts.Where(t => t.StartsWith("{\"push\":\"pub\"", StringComparison.Ordinal)).ToList();

    [Theory]
    [InlineData(null, ErrorCodes.InvalidChannel, "\"channel\" (a string) is required")]
    [InlineData("a b", ErrorCodes.InvalidChannel, null)]
    [InlineData("nowhere:x", ErrorCodes.UnknownNamespace, null)]
    [InlineData("secret:x", ErrorCodes.PermissionDenied, "permission denied for channel \"secret:x\": it is private, pass a subscription token as \"token\"")]
    public async Task Subscribe_refuses_a_channel_the_connection_may_not_have_before_reading_its_position(string? channel, int code, string? message)
    {
        using var node = CreateNode(new NodeOptions { Namespaces = [new NamespaceOptions { Name = "secret", Private = true }] });
        var session = await ConnectedAsync(node);
        var reply = new RecordingReply<SubscribeResult>();

        await session.SubscribeAsync(new SubscribeRequest(channel, null, null, new CommandError(ErrorCodes.BadRequest, "since is wrong")), reply);

        Assert.Equal(code, reply.Error.Code);
        if (message is not null)
        {
            Assert.Equal(message, reply.Error.Message);
        }
        Assert.Empty(session.Connection.Channels);
    }

    [Fact]
    public async Task Subscribe_refuses_an_unreadable_position_after_the_permission_checks_and_stays_unsubscribed()
    {
        using var node = CreateNode();
        var session = await ConnectedAsync(node);
        var reply = new RecordingReply<SubscribeResult>();

        await session.SubscribeAsync(new SubscribeRequest("c", null, null, new CommandError(ErrorCodes.BadRequest, "since is wrong")), reply);

        Assert.Equal(new CommandError(ErrorCodes.BadRequest, "since is wrong"), reply.Error);
        Assert.Empty(session.Connection.Channels);
    }

    [Fact]
    public async Task Unsubscribe_is_done_and_no_publication_of_the_channel_follows()
    {
        using var node = CreateNode();
        var session = await ConnectedAsync(node);
        await session.SubscribeAsync(new SubscribeRequest("c", null, null, null), new RecordingReply<SubscribeResult>());
        var reply = new RecordingReply<SubscribeResult>();

        await session.UnsubscribeAsync("c", reply);
        await PublishAsync(node, "c", 1);

        Assert.True(reply.Done);
        Assert.Empty(session.Connection.Channels);
        Assert.DoesNotContain(((RecordingTransport)session.Connection.Transport).Texts, t => t.Contains("\"push\":\"pub\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Presence_needs_a_subscription_and_then_lists_the_members()
    {
        using var node = CreateNode();
        var session = await ConnectedAsync(node, Token("42"));
        var refused = new RecordingReply<PresencePage>();
        await session.PresenceAsync(new PresenceQuery("room", null, 10), refused);
        Assert.Equal(ErrorCodes.PermissionDenied, refused.Error.Code);

        await session.SubscribeAsync(new SubscribeRequest("room", null, null, null), new RecordingReply<SubscribeResult>());
        var page = new RecordingReply<PresencePage>();
        await session.PresenceAsync(new PresenceQuery("room", null, 10), page);

        var member = Assert.Single(page.Result.Members);
        Assert.Equal((session.Connection.Id, "42"), (member.ClientId, member.UserId));
    }
}
