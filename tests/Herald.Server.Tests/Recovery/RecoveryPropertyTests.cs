using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Herald.Core.Auth;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Herald.Server.Tests.Recovery;

/// <summary>
/// A property of <c>subscribe</c> with <c>since</c> and of <c>connect</c> with channel recovery, over the raw native
/// protocol, while backends publish: raw clients subscribe, unsubscribe, drop their connection and come back in a
/// random (seeded) order, each time with <c>since</c> at a random position (the last offset seen, an older one, one
/// in the future, a wrong epoch, the start). Every time, the reply's <c>recovered</c> must be exactly what the
/// history allows, and the replayed publications followed by the live ones must be exactly the stored sequence after
/// <c>since</c>: in order, no gap, no repeat, each offset carrying what the publish acknowledged with it.
/// Run once per engine by the derived classes. <c>HERALD_CHAOS_SEED</c> replays a run; the seed is in every failure.
/// </summary>
public abstract class RecoveryPropertyTests(ITestOutputHelper output)
{
    protected const string Secret = "recovery-property-secret-0123456789";
    protected const int HistorySize = 150;
    private const string Channel = "prop";
    private const int Agents = 4;
    private const int PublishesPerPublisher = 250;

    /// <summary>Starts the engine's nodes (one, or several of a cluster) with <see cref="HistorySize"/> and the token secret.</summary>
    protected abstract Task<IReadOnlyList<TestServer>> StartNodesAsync();

    protected static HeraldServerOptions Configure(HeraldServerOptions options) => options with
    {
        Token = new TokenOptions { Secret = Secret },
        Node = options.Node with { HistorySize = HistorySize },
    };

    [Fact]
    public async Task Replay_plus_live_is_exactly_the_acknowledged_sequence_after_since_whatever_the_interleaving()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("HERALD_CHAOS_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? s
            : Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var nodes = await StartNodesAsync();
        try
        {
            var acked = new ConcurrentDictionary<ulong, string>();
            using var published = new CancellationTokenSource();
            var agents = Enumerable.Range(0, Agents).Select(i => new Agent(i, new Random(seed + i), nodes, acked)).ToList();
            foreach (var agent in agents)
            {
                await agent.StartAsync();
            }
            var publishers = Enumerable.Range(0, 2).Select(p => Task.Run(() => PublishAsync(p, new Random(seed - p - 1), nodes, acked))).ToArray();
            var running = agents.Select(a => Task.Run(() => a.RunAsync(published.Token))).ToArray();
            await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(60));
            await published.CancelAsync();
            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(60));
            var last = acked.Keys.Max();
            foreach (var agent in agents)
            {
                await agent.FinishAsync(last);
                agent.CheckData();
            }
            output.WriteLine($"{acked.Count} publications; per agent: " + string.Join("; ", agents.Select(a => a.Summary)));
        }
        catch (Exception ex) when (ex is not XunitException || !ex.Message.StartsWith("seed", StringComparison.Ordinal))
        {
            throw new XunitException($"seed {seed} (replay with HERALD_CHAOS_SEED={seed} and --filter \"FullyQualifiedName~{GetType().Name}\"): {ex}");
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static async Task PublishAsync(int publisher, Random random, IReadOnlyList<TestServer> nodes, ConcurrentDictionary<ulong, string> acked)
    {
        for (var n = 0; n < PublishesPerPublisher; n++)
        {
            if (random.Next(4) == 0)
            {
                await Task.Delay(random.Next(1, 8));
            }
            var data = $"p{publisher}-{n}";
            using var response = await nodes[random.Next(nodes.Count)].PostApiAsync("publish", $$"""{"channel":"{{Channel}}","data":"{{data}}"}""");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var reply = await TestServer.JsonAsync(response);
            acked[reply.GetProperty("offset").GetUInt64()] = data;
        }
    }

    /// <summary>One raw native client following a random script, checking every frame it gets as it goes.</summary>
    private sealed class Agent(int number, Random random, IReadOnlyList<TestServer> nodes, ConcurrentDictionary<ulong, string> acked)
    {
        private readonly List<(ulong Offset, string Data)> _received = [];
        private readonly Queue<string> _trace = new();
        private WsClient? _ws;
        private ulong _nextId;
        private string _epoch = "";
        private ulong _lastSeen;
        private ulong? _expected; // the next offset this subscription must deliver; null while not subscribed
        private int _subscribes;
        private int _recoveredFalse;
        private int _reconnects;
        private int _unsubscribes;

        public string Summary => $"#{number}: {_received.Count} received, {_subscribes} recoveries asked, {_recoveredFalse} recovered:false, " +
            $"{_reconnects} reconnects, {_unsubscribes} unsubscribes";

        /// <summary>Connects and subscribes without <c>since</c> (learning the epoch) before anything is published.</summary>
        public async Task StartAsync()
        {
            await OpenAsync(token: false, since: null);
            var reply = await CallAsync("subscribe", $$"""{"channel":"{{Channel}}"}""");
            _epoch = reply.GetProperty("epoch").GetString()!;
            Assert.Equal(0UL, reply.GetProperty("offset").GetUInt64());
            _expected = 1;
        }

        public async Task RunAsync(CancellationToken published)
        {
            while (!published.IsCancellationRequested)
            {
                switch (random.Next(10))
                {
                    case 0 or 1:
                        await ReconnectAsync();
                        break;
                    case 2 when _expected is not null:
                        await CallAsync("unsubscribe", $$"""{"channel":"{{Channel}}"}""");
                        _expected = null; // from its reply on, no publication of the channel may arrive
                        _unsubscribes++;
                        break;
                    case 3 or 4:
                        await SubscribeAsync(PickSince());
                        break;
                    default:
                        await ReadLiveAsync(TimeSpan.FromMilliseconds(random.Next(5, 60)));
                        break;
                }
            }
        }

        /// <summary>After the last publish: subscribed from the last offset seen, everything up to <paramref name="last"/> arrives.</summary>
        public async Task FinishAsync(ulong last)
        {
            if (_expected is null)
            {
                await SubscribeAsync((_lastSeen, _epoch));
            }
            while (_expected <= last)
            {
                HandleFrame(await _ws!.ReceiveJsonAsync());
            }
        }

        /// <summary>Each offset carried what the publish acknowledged with it.</summary>
        public void CheckData()
        {
            foreach (var (offset, data) in _received)
            {
                Assert.True(acked.TryGetValue(offset, out var expected) && expected == data,
                    $"agent {number}: offset {offset} carried {data}, the publish acknowledged with it was {expected ?? "(none)"}");
            }
        }

        private (ulong Offset, string Epoch)? PickSince() => random.Next(20) switch
        {
            < 9 => (_lastSeen, _epoch),                                                          // where it left off
            < 14 => ((ulong)random.NextInt64(0, (long)_lastSeen + 1), _epoch),                   // further back, maybe trimmed
            14 => (_lastSeen + 10_000, _epoch),                                                  // beyond the stream
            15 => (_lastSeen, "0badbad0"),                                                       // another epoch
            16 => (0, ""),                                                                       // everything the channel keeps
            _ => null,                                                                           // no recovery
        };

        private async Task SubscribeAsync((ulong Offset, string Epoch)? since)
        {
            if (_expected is not null)
            {
                await CallAsync("unsubscribe", $$"""{"channel":"{{Channel}}"}""");
                _expected = null;
            }
            var parameters = since is { } from
                ? $$$"""{"channel":"{{{Channel}}}","since":{"offset":{{{from.Offset}}},"epoch":"{{{from.Epoch}}}"}}"""
                : $$"""{"channel":"{{Channel}}"}""";
            ApplyState(since, await CallAsync("subscribe", parameters));
        }

        private async Task ReconnectAsync()
        {
            Note("abort");
            _ws!.Socket.Abort(); // no close frame: the server finds out from the socket
            await _ws.DisposeAsync();
            _expected = null;
            _reconnects++;
            // Half the time the token names the channel and connect recovers it; else subscribe after connect.
            var token = random.Next(2) == 0;
            var since = token ? PickSince() : null;
            var reply = await OpenAsync(token, since);
            if (token)
            {
                ApplyState(since, reply.GetProperty("subs").GetProperty(Channel));
            }
            else if (random.Next(3) > 0)
            {
                await SubscribeAsync(PickSince());
            }
        }

        private async Task<JsonElement> OpenAsync(bool token, (ulong Offset, string Epoch)? since)
        {
            var node = nodes[random.Next(nodes.Count)];
            _ws = await WsClient.ConnectAsync(node.WebSocketUri, ProtocolNames.SubprotocolV1);
            var parameters = new StringBuilder("{");
            if (token)
            {
                parameters.Append($$"""
                    "token":"{{TokenIssuer.Create(Secret, $"agent{number}", TimeSpan.FromHours(1), channels: [Channel])}}"
                    """);
                if (since is { } from)
                {
                    parameters.Append($$$""","since":{"{{{Channel}}}":{"offset":{{{from.Offset}}},"epoch":"{{{from.Epoch}}}"}}""");
                }
            }
            return await CallAsync("connect", parameters.Append('}').ToString());
        }

        /// <summary>
        /// A subscribe reply (or connect's entry for the channel): <c>recovered</c> must be what the history allows,
        /// and a recovery must hold exactly the publications after <c>since</c> up to the reply's offset.
        /// </summary>
        private void ApplyState((ulong Offset, string Epoch)? since, JsonElement state)
        {
            var position = state.GetProperty("offset").GetUInt64();
            Assert.Equal(_epoch, state.GetProperty("epoch").GetString());
            if (since is { } from)
            {
                _subscribes++;
                var oldest = position == 0 ? 0 : Math.Max(1, position - Math.Min(position, HistorySize) + 1);
                var expected = (from.Epoch == _epoch || from is { Offset: 0, Epoch: "" })
                    && from.Offset <= position
                    && (from.Offset == position || oldest <= from.Offset + 1);
                var recovered = state.GetProperty("recovered").GetBoolean();
                Assert.True(expected == recovered,
                    $"agent {number}: since {from.Offset}/{from.Epoch} at offset {position} (history {HistorySize}) answered recovered:{recovered}");
                if (recovered)
                {
                    var next = from.Offset + 1;
                    foreach (var publication in state.GetProperty("publications").EnumerateArray())
                    {
                        var offset = publication.GetProperty("offset").GetUInt64();
                        Assert.True(offset == next, $"agent {number}: the recovery from {from.Offset} holds {offset} where {next} belongs");
                        Record(offset, publication.GetProperty("data").GetString()!);
                        next++;
                    }
                    Assert.True(next == position + 1, $"agent {number}: the recovery from {from.Offset} ends at {next - 1}, the reply says {position}");
                }
                else
                {
                    _recoveredFalse++;
                    Assert.Equal(0, state.GetProperty("publications").GetArrayLength());
                }
            }
            else
            {
                Assert.False(state.TryGetProperty("recovered", out _), $"agent {number}: recovered without since");
            }
            _expected = position + 1;
        }

        private async Task ReadLiveAsync(TimeSpan duration)
        {
            var until = DateTime.UtcNow + duration;
            while (DateTime.UtcNow < until)
            {
                JsonElement frame;
                try
                {
                    frame = await _ws!.ReceiveJsonAsync(until - DateTime.UtcNow + TimeSpan.FromMilliseconds(1));
                }
                catch (TimeoutException)
                {
                    return;
                }
                HandleFrame(frame);
            }
        }

        /// <summary>The last frames sent and received, for failure messages.</summary>
        private string Trace => string.Join("\n", _trace);

        private void Note(string line)
        {
            _trace.Enqueue(line);
            if (_trace.Count > 12)
            {
                _trace.Dequeue();
            }
        }

        private async Task<JsonElement> CallAsync(string method, string parameters)
        {
            var id = ++_nextId;
            Note($"sent {method} {parameters[..Math.Min(parameters.Length, 160)]}");
            await _ws!.SendAsync($$"""{"id":{{id}},"method":"{{method}}","params":{{parameters}}}""");
            while (true)
            {
                var frame = await _ws.ReceiveJsonAsync();
                if (frame.TryGetProperty("id", out var replyId) && replyId.GetUInt64() == id)
                {
                    var text = frame.GetRawText();
                    Note($"got {text[..Math.Min(text.Length, 160)]}");
                    Assert.True(frame.TryGetProperty("result", out var result), $"agent {number}: {method} {parameters} answered {frame}");
                    return result;
                }
                HandleFrame(frame);
            }
        }

        /// <summary>A push: a live publication must be the next offset of the current subscription.</summary>
        private void HandleFrame(JsonElement frame)
        {
            if (!frame.TryGetProperty("push", out var push) || push.GetString() != ProtocolNames.Pushes.Publication)
            {
                return;
            }
            var offset = frame.GetProperty("offset").GetUInt64();
            Note($"got pub {offset}");
            Assert.True(_expected is not null, $"agent {number}: publication {offset} arrived while not subscribed\n{Trace}");
            Assert.True(offset == _expected, $"agent {number}: live publication {offset} where {_expected} belongs\n{Trace}");
            Record(offset, frame.GetProperty("data").GetString()!);
            _expected = offset + 1;
        }

        private void Record(ulong offset, string data)
        {
            _received.Add((offset, data));
            _lastSeen = Math.Max(_lastSeen, offset);
        }
    }
}
