using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Herald.Core.Attributes;
using Herald.Core.Auth;
using Herald.Core.Connections;
using Herald.Core.Control;
using Herald.Core.Engine;
using Herald.Protocol;
using Microsoft.Extensions.Logging;

namespace Herald.Core.Tests.Control;

/// <summary>
/// Control commands (disconnect, subscribe, unsubscribe, attributes): their wire form between nodes, which must stay
/// the previous version's for rolling upgrades, and <see cref="Node.ControlAsync"/> on nodes of one cluster in one
/// process (the in-memory broker).
/// </summary>
public sealed class ControlCommandTests : IDisposable
{
    private const string Secret = "control-test-secret-long-enough-for-hs256!";

    private readonly MemoryBrokerHub _hub = new();
    private readonly MemoryPresenceStore _presence = new();
    private readonly List<Node> _nodes = [];

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
    }

    // ---- The wire form ----

    /// <summary>Commands exactly as the previous version's HTTP API wrote them, and what they mean.</summary>
    public static TheoryData<string, ControlCommand> PreviousVersionCommands => new()
    {
        { """{"m":"disconnect","user":"dave","code":4004,"reason":"disconnected by the server"}""",
            new DisconnectCommand(ControlTarget.User("dave"), 4004, "disconnected by the server") },
        { """{"m":"disconnect","client":"ab12cd-7","code":4502,"reason":"account locked"}""",
            new DisconnectCommand(ControlTarget.Client("ab12cd-7"), 4502, "account locked") },
        { """{"m":"disconnect","user":"\u00E9mile","code":4004,"reason":"Konto gesperrt \u2013 \u00FCberpr\u00FCfen"}""",
            new DisconnectCommand(ControlTarget.User("émile"), 4004, "Konto gesperrt – überprüfen") },
        { """{"m":"subscribe","user":"42","channel":"alerts"}""",
            new SubscribeCommand(ControlTarget.User("42"), "alerts") },
        { """{"m":"unsubscribe","client":"ab12cd-7","channel":"news:1"}""",
            new UnsubscribeCommand(ControlTarget.Client("ab12cd-7"), "news:1") },
    };

    [Theory]
    [MemberData(nameof(PreviousVersionCommands))]
    public void A_command_from_a_node_of_the_previous_version_reads_as_the_typed_command(string json, ControlCommand expected)
    {
        var command = ControlCommandJson.Read(Encoding.UTF8.GetBytes(json), out var method);

        Assert.Equal(expected, command);
        Assert.Equal(JsonDocument.Parse(json).RootElement.GetProperty("m").GetString(), method);
    }

    [Theory]
    [MemberData(nameof(PreviousVersionCommands))]
    public void The_writer_produces_the_bytes_the_previous_version_wrote(string json, ControlCommand command) =>
        Assert.Equal(json, Encoding.UTF8.GetString(ControlCommandJson.Write(command)));

    [Fact]
    public void Attributes_from_a_node_of_the_previous_version_keep_numbers_and_booleans_as_their_text()
    {
        // The previous version forwarded the request's "attrs" object as it came, numbers and booleans included.
        var json = """{"m":"attributes","user":"42","attrs":{"school_id":2,"vip":true,"dept":"finance"}}""";

        var command = Assert.IsType<SetAttributesCommand>(ControlCommandJson.Read(Encoding.UTF8.GetBytes(json), out _));

        Assert.Equal(ControlTarget.User("42"), command.Target);
        Assert.Equal("{\"dept\":\"finance\",\"school_id\":\"2\",\"vip\":\"true\"}", command.Attributes.ToString());
    }

    [Fact]
    public void Every_command_the_writer_produces_reads_the_same_in_the_previous_versions_reader()
    {
        var attributes = AttributeSet.From([new("school_id", "2"), new("vip", "true"), new("name", "Zoë \"Z\" \\ <b>")]);
        ControlCommand[] commands =
        [
            new DisconnectCommand(ControlTarget.User("dave"), 4004, "disconnected by the server"),
            new DisconnectCommand(ControlTarget.Client("ab12cd-7"), 4502, "Konto gesperrt – überprüfen"),
            new SubscribeCommand(ControlTarget.User("42"), "alerts"),
            new UnsubscribeCommand(ControlTarget.Client("ab12cd-7"), "news:1"),
            new SetAttributesCommand(ControlTarget.User("42"), attributes),
            new SetAttributesCommand(ControlTarget.Client("ab12cd-7"), AttributeSet.Empty),
        ];

        foreach (var command in commands)
        {
            var previous = ReadAsPreviousVersion(ControlCommandJson.Write(command));

            Assert.Equal(command.Target.Kind == ControlTargetKind.User ? command.Target.Id : null, previous.User);
            Assert.Equal(command.Target.Kind == ControlTargetKind.Client ? command.Target.Id : null, previous.Client);
            switch (command)
            {
                case DisconnectCommand disconnect:
                    Assert.Equal(("disconnect", disconnect.Code, disconnect.Reason), (previous.Method, previous.Code, previous.Reason));
                    break;
                case SubscribeCommand subscribe:
                    Assert.Equal(("subscribe", subscribe.Channel), (previous.Method, previous.Channel));
                    break;
                case UnsubscribeCommand unsubscribe:
                    Assert.Equal(("unsubscribe", unsubscribe.Channel), (previous.Method, previous.Channel));
                    break;
                case SetAttributesCommand set:
                    Assert.Equal("attributes", previous.Method);
                    Assert.Equal(set.Attributes.ToString(), previous.Attributes?.ToString());
                    break;
            }
        }
    }

    [Fact]
    public void Random_commands_read_back_as_written()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("HERALD_CONTROL_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? s
            : Random.Shared.Next();
        var random = new Random(seed);
        for (var i = 0; i < 500; i++)
        {
            var command = RandomCommand(random);
            var json = ControlCommandJson.Write(command);
            var read = ControlCommandJson.Read(json, out _);

            var same = command is SetAttributesCommand set
                ? read is SetAttributesCommand back && back.Target == set.Target && back.Attributes.ToString() == set.Attributes.ToString()
                : Equals(command, read);
            Assert.True(same, $"HERALD_CONTROL_SEED={seed}, command {i + 1}: {command} was written as {Encoding.UTF8.GetString(json)} and read as {read}");
        }
    }

    [Fact]
    public void A_command_this_version_does_not_know_is_reported_by_name_not_thrown()
    {
        var json = """{"m":"kick_all","user":"42","why":{"nested":[1,{"a":null}]}}"""u8;

        Assert.Null(ControlCommandJson.Read(json, out var method));
        Assert.Equal("kick_all", method);
    }

    [Fact]
    public void Fields_a_newer_version_adds_are_skipped()
    {
        var json = """{"m":"subscribe","since":{"offset":3,"epoch":"x"},"user":"42","tags":["a",{"b":[]}],"channel":"alerts","ttl":30}"""u8;

        Assert.Equal(new SubscribeCommand(ControlTarget.User("42"), "alerts"), ControlCommandJson.Read(json, out _));
    }

    [Theory]
    [InlineData("""not json""", "valid JSON")]
    [InlineData("""[1]""", "JSON object")]
    [InlineData("""{"user":"42","channel":"a"}""", "\"m\"")]
    [InlineData("""{"m":"subscribe","channel":"a"}""", "\"user\" or \"client\"")]
    [InlineData("""{"m":"subscribe","user":"","channel":"a"}""", "\"user\" or \"client\"")]
    [InlineData("""{"m":"subscribe","user":"42"}""", "\"channel\"")]
    [InlineData("""{"m":"disconnect","user":"42","reason":"r"}""", "\"code\"")]
    [InlineData("""{"m":"disconnect","user":"42","code":"4004"}""", "\"code\"")]
    [InlineData("""{"m":"attributes","user":"42"}""", "\"attrs\"")]
    [InlineData("""{"m":"attributes","user":"42","attrs":{"a":{"b":1}}}""", "\"attrs\"")]
    [InlineData("""{"m":"subscribe","user":"\uD800","channel":"a"}""", "not valid")]
    public void A_malformed_command_is_refused_with_the_reason(string json, string reason)
    {
        var error = Assert.Throws<FormatException>(() => ControlCommandJson.Read(Encoding.UTF8.GetBytes(json), out _));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    // ---- Node.ControlAsync on a cluster ----

    [Fact]
    public async Task A_user_command_applies_on_every_node_and_counts_this_nodes_connections()
    {
        var a = NewNode();
        var b = NewNode();
        var (onA, transportA) = Connect(a, "dave");
        var (onB, transportB) = Connect(b, "dave");
        var (otherOnB, _) = Connect(b, "erin");

        Assert.Equal(1, await a.ControlAsync(new SubscribeCommand(ControlTarget.User("dave"), "alerts")));

        await Until(() => b.SubscriberCount("alerts") == 1, "dave subscribed on node B");
        Assert.Contains(transportB.Texts, t => t == """{"push":"subscribe","channel":"alerts"}""");
        Assert.Contains(transportA.Texts, t => t == """{"push":"subscribe","channel":"alerts"}""");
        Assert.Equal(0, otherOnB.ChannelCount);

        var attributes = AttributeSet.From([new("school_id", "2")]);
        Assert.Equal(1, await a.ControlAsync(new SetAttributesCommand(ControlTarget.User("dave"), attributes)));
        await Until(() => onB.Attributes.ToString() == attributes.ToString(), "dave's attributes set on node B");
        Assert.Equal(attributes.ToString(), onA.Attributes.ToString());

        Assert.Equal(1, await a.ControlAsync(new UnsubscribeCommand(ControlTarget.User("dave"), "alerts")));
        await Until(() => b.SubscriberCount("alerts") == 0, "dave unsubscribed on node B");

        Assert.Equal(1, await a.ControlAsync(new DisconnectCommand(ControlTarget.User("dave"), 4004, "bye")));
        await Until(() => transportB.CloseCode == 4004, "dave's connection on node B closed");
        Assert.Equal(ConnectionState.Ready, otherOnB.State);
    }

    [Fact]
    public async Task A_client_of_another_node_is_found_there_and_one_of_this_node_is_not_sent_to_the_others()
    {
        var a = NewNode();
        var b = NewNode();
        var wire = Listen();
        var (onA, transportA) = Connect(a, "dave");
        var (onB, transportB) = Connect(b, "erin");

        Assert.Equal(1, await a.ControlAsync(new DisconnectCommand(ControlTarget.Client(onA.Id), 4502, "own")));
        Assert.Equal(0, await a.ControlAsync(new DisconnectCommand(ControlTarget.Client(onB.Id), 4502, "other")));

        await Until(() => transportB.CloseCode == 4502, "node B closed its client");
        await Until(() => transportA.CloseCode == 4502, "node A closed its own client");
        // Only the command for node B's client went through the broker (one topic, in order: the first would be first).
        await Until(() => wire.Control.Count == 1, "the forwarded command arrived");
        Assert.Equal($$"""{"m":"disconnect","client":"{{onB.Id}}","code":4502,"reason":"other"}""", wire.Control.Single());
    }

    [Fact]
    public async Task A_node_applies_a_command_sent_by_a_node_of_the_previous_version()
    {
        var b = NewNode();
        var (onB, transportB) = Connect(b, "dave");
        var previousVersionNode = _hub.Connect();

        await SendControl(previousVersionNode, """{"m":"attributes","user":"dave","attrs":{"school_id":2}}""");
        await Until(() => onB.Attributes.ToString() == """{"school_id":"2"}""", "the attributes were set");
        await SendControl(previousVersionNode, """{"m":"subscribe","user":"dave","channel":"alerts"}""");
        await Until(() => b.SubscriberCount("alerts") == 1, "dave was subscribed");
        await SendControl(previousVersionNode, $$"""{"m":"disconnect","client":"{{onB.Id}}","code":4502,"reason":"locked"}""");
        await Until(() => transportB.CloseCode == 4502, "dave was disconnected");
    }

    [Fact]
    public async Task A_command_from_a_newer_node_that_this_version_does_not_know_is_logged_and_ignored()
    {
        var log = new CapturedLogs();
        var b = NewNode(log.For<Node>());
        var (onB, _) = Connect(b, "dave");
        var newerNode = _hub.Connect();

        await SendControl(newerNode, """{"m":"mute","user":"dave","minutes":5}""");
        await SendControl(newerNode, """{"m":"subscribe","user":"dave","channel":"after"}""");

        await Until(() => b.SubscriberCount("after") == 1, "the command after it was applied");
        var entry = Assert.Single(log.WithEventId(1020));
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Contains("\"mute\"", entry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Error);
        Assert.Equal(ConnectionState.Ready, onB.State);
    }

    [Fact]
    public async Task When_the_broker_is_unreachable_the_command_is_applied_here_and_the_error_says_so()
    {
        var brokerA = _hub.Connect();
        var a = NewNode(broker: brokerA);
        var (_, transportA) = Connect(a, "dave");
        _hub.Cut(brokerA);

        var error = await Assert.ThrowsAsync<NodeRequestException>(async () =>
            await a.ControlAsync(new DisconnectCommand(ControlTarget.User("dave"), 4004, "bye")));

        Assert.Equal(ErrorCodes.StoreUnavailable, error.Code);
        Assert.StartsWith("applied on this node only: the cluster's engine is unavailable: ", error.Message, StringComparison.Ordinal);
        await Until(() => transportA.CloseCode == 4004, "dave's connection here closed");
    }

    [Fact]
    public async Task A_single_node_applies_commands_on_its_own_broker()
    {
        using var node = new Node(new NodeOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger<Node>.Instance,
            tokens: new JwtTokenVerifier(new TokenOptions { Secret = Secret }, 64));
        var (_, transport) = Connect(node, "dave");
        Connect(node, "dave");

        Assert.Equal(2, await node.ControlAsync(new SubscribeCommand(ControlTarget.User("dave"), "alerts")));
        Assert.Equal(0, await node.ControlAsync(new SubscribeCommand(ControlTarget.User("nobody"), "alerts")));
        var unknown = await Assert.ThrowsAsync<NodeRequestException>(async () =>
            await node.ControlAsync(new SubscribeCommand(ControlTarget.User("nobody"), "nowhere:x")));
        Assert.Equal(ErrorCodes.UnknownNamespace, unknown.Code);
        Assert.Equal(2, await node.ControlAsync(new DisconnectCommand(ControlTarget.User("dave"), 4502, "bye")));
        await Until(() => transport.CloseCode == 4502, "closed");
    }

    // ---- Helpers ----

    private Node NewNode(ILogger<Node>? logger = null, IBroker? broker = null)
    {
        var options = new NodeOptions();
        var node = new Node(options, logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<Node>.Instance,
            new NodeEngine { History = _hub.History, Inbox = _hub.Inbox, Presence = _presence, Broker = broker ?? _hub.Connect() },
            tokens: new JwtTokenVerifier(new TokenOptions { Secret = Secret }, options.MaxAttributes));
        _nodes.Add(node);
        node.BrokerReadyAsync().Wait();
        return node;
    }

    private static (Connection Connection, RecordingTransport Transport) Connect(Node node, string user)
    {
        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:1");
        var token = TokenIssuer.Create(Secret, user, TimeSpan.FromHours(1));
        node.Send(connection, $$$"""{"id":1,"method":"connect","params":{"token":"{{{token}}}"}}""");
        Assert.Equal(ConnectionState.Ready, connection.State);
        return (connection, transport);
    }

    /// <summary>Sends a control command as another node would, straight onto the broker's broadcast topic.</summary>
    private static async Task SendControl(IBroker from, string json) =>
        await from.PublishAsync(BrokerTopic.Broadcast, new BrokerMessage { Kind = BrokerMessageKind.Control, Data = Encoding.UTF8.GetBytes(json), Origin = "other-node" }, null);

    /// <summary>A broker connection that records the control commands on the broadcast topic.</summary>
    private ControlWire Listen()
    {
        var wire = new ControlWire();
        var broker = _hub.Connect();
        broker.Start(wire);
        broker.SubscribeAsync(BrokerTopic.Broadcast).AsTask().Wait();
        return wire;
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting until " + what);
            await Task.Delay(5);
        }
    }

    private static ControlCommand RandomCommand(Random random)
    {
        var target = random.Next(2) == 0 ? ControlTarget.User(RandomText(random, 1, 20)) : ControlTarget.Client(RandomText(random, 1, 20));
        return random.Next(4) switch
        {
            0 => new DisconnectCommand(target, random.Next(4000, 5000), RandomText(random, 0, 40)),
            1 => new SubscribeCommand(target, RandomText(random, 1, 30)),
            2 => new UnsubscribeCommand(target, RandomText(random, 1, 30)),
            _ => new SetAttributesCommand(target, AttributeSet.From(Enumerable.Range(0, random.Next(0, 5))
                .Select(_ => new KeyValuePair<string, string>(RandomText(random, 1, 10), RandomText(random, 0, 20))))),
        };
    }

    /// <summary>Text with the characters JSON must escape, non-ASCII letters and a character beyond the BMP.</summary>
    private static string RandomText(Random random, int min, int max)
    {
        string[] pieces = ["a", "Z", "7", ":", "-", "\"", "\\", "/", "<", "&", "'", " ", "\n", "\t", "\u0001", "é", "–", "中", "😀"];
        var builder = new StringBuilder();
        var length = random.Next(min, max + 1);
        while (builder.Length < length)
        {
            builder.Append(pieces[random.Next(pieces.Length)]);
        }
        return builder.ToString();
    }

    /// <summary>
    /// The previous version's reader of a control command, kept here as it was (it parsed with a JSON document and took
    /// these fields): what the writer produces must still mean the same to a node that runs it.
    /// </summary>
    private static (string Method, string? User, string? Client, int? Code, string? Reason, string? Channel, AttributeSet? Attributes) ReadAsPreviousVersion(byte[] command)
    {
        using var document = JsonDocument.Parse(command);
        var root = document.RootElement;
        var user = root.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        var client = root.TryGetProperty("client", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        var method = root.GetProperty("m").GetString()!;
        return method switch
        {
            "disconnect" => (method, user, client, root.GetProperty("code").GetInt32(), root.GetProperty("reason").GetString() ?? "", null, null),
            "subscribe" or "unsubscribe" => (method, user, client, null, null, root.GetProperty("channel").GetString()!, null),
            "attributes" => (method, user, client, null, null, null,
                AttributeJson.TryParseAttributes(Encoding.UTF8.GetBytes(root.GetProperty("attrs").GetRawText()), int.MaxValue, out var set, out _, out _) ? set : null),
            _ => throw new InvalidOperationException("the previous version knew no \"" + method + "\""),
        };
    }

    private sealed class ControlWire : IBrokerListener
    {
        public ConcurrentQueue<string> Control { get; } = new();

        public ValueTask OnMessageAsync(BrokerTopic topic, BrokerMessage message)
        {
            if (message.Kind == BrokerMessageKind.Control)
            {
                Control.Enqueue(Encoding.UTF8.GetString(message.Data));
            }
            return ValueTask.CompletedTask;
        }

        public void OnSubscriptionsRestored()
        {
        }

        public void OnMessagesMissed(BrokerTopic topic, string reason)
        {
        }
    }
}
