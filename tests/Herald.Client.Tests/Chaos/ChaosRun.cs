using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Herald.Client.Tests.Chaos;

/// <summary>
/// Many <see cref="HeraldClient"/>s on one history channel (half subscribed by their token, half with
/// <c>SubscribeAsync</c>), each behind its own <see cref="DropProxy"/>, while backends publish numbered messages over
/// HTTP to the channel and to the clients' users and record which were answered 200. Meanwhile random connections are
/// reset and the scenario kills and restarts servers. Afterwards every client must have received every acknowledged
/// publication and inbox entry exactly once, in offset order, and may have reported <c>recovered:false</c> only where
/// the channel's history could not hold the gap.
/// </summary>
public sealed class ChaosRun : IAsyncDisposable
{
    public const string Channel = "chaos";
    public const string Secret = "chaos-test-secret-0123456789-abcdef";

    private readonly ChaosSettings _settings;
    private readonly Func<int?> _alivePort;
    private readonly ITestOutputHelper _output;
    private readonly Random _random;
    private readonly Lock _randomLock = new();
    private readonly List<Subscriber> _subscribers = [];
    private readonly ConcurrentDictionary<ulong, string> _ackedChannel = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<ulong, string>> _ackedInbox = new();
    private readonly string _test;
    private int _publishFailures;

    private ChaosRun(ChaosSettings settings, Func<int?> alivePort, ITestOutputHelper output, string test)
    {
        _test = test;
        _settings = settings;
        _alivePort = alivePort;
        _output = output;
        _random = new Random(settings.Seed);
    }

    /// <summary>Publications a channel keeps (the servers' history_size): a client away for longer may get recovered:false.</summary>
    public int HistorySize { get; init; } = 100_000;

    /// <summary>Chance that a drop is a blackout (reconnects refused for a while), so a client misses more than history keeps.</summary>
    public double BlackoutChance { get; init; }

    /// <summary>The server's arguments for the settings a chaos run needs.</summary>
    public static string[] ServerSettings(int historySize = 100_000) =>
    [
        "--token-secret", Secret, "--set", $"history_size={historySize}", "--set", "inbox_size=100000",
    ];

    /// <summary>Connects <paramref name="clients"/> clients through their own proxies to whatever <paramref name="alivePort"/> names.</summary>
    public static async Task<ChaosRun> StartAsync(ChaosSettings settings, Func<int?> alivePort, int clients, ITestOutputHelper output, int historySize = 100_000,
        double blackoutChance = 0, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        output.WriteLine($"chaos run: {clients} clients, {settings.Duration.TotalSeconds} s, seed {settings.Seed}");
        var run = new ChaosRun(settings, alivePort, output, test) { HistorySize = historySize, BlackoutChance = blackoutChance };
        for (var i = 0; i < clients; i++)
        {
            run._subscribers.Add(await Subscriber.StartAsync($"u{i}", fromToken: i % 2 == 0, alivePort));
        }
        return run;
    }

    /// <summary>
    /// Publishes and drops connections for the run's duration, running each scenario event when its share of the
    /// duration has passed; then waits until the clients caught up and checks what they received.
    /// </summary>
    public async Task RunAsync(TimeSpan dropEvery, params (double At, string What, Func<Task> Action)[] events)
    {
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var publishers = new[]
        {
            Task.Run(() => PublishAsync("a", channel: true, stop.Token)),
            Task.Run(() => PublishAsync("b", channel: true, stop.Token)),
            Task.Run(() => PublishAsync("i", channel: false, stop.Token)),
        };
        var scenario = Task.Run(async () =>
        {
            foreach (var (at, what, action) in events.OrderBy(e => e.At))
            {
                var due = _settings.Duration * at - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }
                _output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: {what}");
                await action();
            }
        });
        var drops = 0;
        var blackouts = 0;
        while (clock.Elapsed < _settings.Duration)
        {
            await Task.Delay(dropEvery * (0.5 + Next(r => r.NextDouble())));
            var subscriber = _subscribers[Next(r => r.Next(_subscribers.Count))];
            if (Next(r => r.NextDouble()) < BlackoutChance)
            {
                // Away until more was published than history keeps (or 5 s pass, should publishing stall): counted, not timed.
                var target = _ackedChannel.Count + HistorySize + 10;
                var latest = clock.Elapsed + TimeSpan.FromSeconds(5);
                subscriber.Proxy.Blackout(() => _ackedChannel.Count >= target || clock.Elapsed > latest);
                blackouts++;
            }
            else
            {
                subscriber.Proxy.Drop();
                drops++;
            }
        }
        await scenario.WaitAsync(TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(30));
        _output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: publishing stopped: {_ackedChannel.Count} channel publications and " +
            $"{_ackedInbox.Values.Sum(u => u.Count)} inbox entries acknowledged, {_publishFailures} publishes not acknowledged, " +
            $"{drops} drops, {blackouts} blackouts");

        // Everyone may come back now, and one last publication follows: a client told recovered:false at the very end
        // must show the gap before it, like every other.
        foreach (var subscriber in _subscribers)
        {
            subscriber.Proxy.Blackout(() => true);
        }
        // Until every client received one of them live: a recovery answered after a final publication covers it.
        for (var round = 0; round < 10; round++)
        {
            var last = await PublishLastAsync();
            try
            {
                await Timeouts.Until(() => _subscribers.All(s => s.LastOffset >= last), "every client received the last publication", TimeSpan.FromSeconds(3));
                break;
            }
            catch (TimeoutException)
            {
            }
        }
        await WaitForCatchUpAsync();
        _output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s: caught up; reconnects per client: {string.Join(",", _subscribers.Select(s => s.Client.Reconnects))}");
        Check();
    }

    private T Next<T>(Func<Random, T> draw)
    {
        lock (_randomLock)
        {
            return draw(_random);
        }
    }

    private async Task PublishAsync(string name, bool channel, CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            await Task.Delay(Next(r => r.Next(0, 6)), CancellationToken.None);
            if (_alivePort() is not { } port)
            {
                await Task.Delay(50, CancellationToken.None);
                continue;
            }
            var data = $"{name}{n}";
            var user = channel ? null : _subscribers[Next(r => r.Next(_subscribers.Count))].User;
            var body = channel ? new JsonObject { ["channel"] = Channel, ["data"] = data } : new JsonObject { ["user"] = user, ["data"] = data };
            try
            {
                using var response = await http.PostAsync($"http://127.0.0.1:{port}/api/publish",
                    new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref _publishFailures);
                    continue;
                }
                using var reply = JsonDocument.Parse(await response.Content.ReadAsStringAsync(CancellationToken.None));
                if (channel)
                {
                    _ackedChannel[reply.RootElement.GetProperty("offset").GetUInt64()] = data;
                }
                else
                {
                    var offset = reply.RootElement.GetProperty("inbox").GetProperty(user!).GetUInt64();
                    _ackedInbox.GetOrAdd(user!, _ => new())[offset] = data;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                Interlocked.Increment(ref _publishFailures); // not answered 200: never promised
                await Task.Delay(20, CancellationToken.None);
            }
        }
    }

    /// <summary>How many times the clients reported recovered:false.</summary>
    public int RecoveryFailures => _subscribers.Sum(s => s.RecoveryFailures);

    private async Task<ulong> PublishLastAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (_alivePort() is { } port)
            {
                try
                {
                    using var response = await http.PostAsync($"http://127.0.0.1:{port}/api/publish",
                        new StringContent($$"""{"channel":"{{Channel}}","data":"last"}""", Encoding.UTF8, "application/json"));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        using var reply = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                        var offset = reply.RootElement.GetProperty("offset").GetUInt64();
                        _ackedChannel[offset] = "last";
                        return offset;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                }
            }
            await Task.Delay(100);
        }
        Assert.Fail("the last publication was never acknowledged");
        return 0;
    }

    private async Task WaitForCatchUpAsync()
    {
        var lastChannel = _ackedChannel.Keys.DefaultIfEmpty().Max();
        try
        {
            await Timeouts.Until(() => _subscribers.All(s =>
                s.LastOffset >= lastChannel
                && (!_ackedInbox.TryGetValue(s.User, out var inbox) || s.LastInboxOffset >= inbox.Keys.Max())),
                "every client received the last acknowledged publication and inbox entry", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            // Check() says what is missing, which is more useful than the timeout.
        }
    }

    private void Check()
    {
        var problems = new List<string>();
        foreach (var subscriber in _subscribers)
        {
            problems.AddRange(CheckChannel(subscriber).Select(p => $"{subscriber.User} ({(subscriber.FromToken ? "token channel" : "subscribed")}): {p}"));
            problems.AddRange(CheckInbox(subscriber).Select(p => $"{subscriber.User} inbox: {p}"));
        }
        Assert.True(problems.Count == 0,
            $"{_settings.Replay(_test)}\n{problems.Count} problems:\n{string.Join("\n", problems.Take(40))}");
    }

    /// <summary>
    /// Offsets must follow each other by one. A jump is allowed only where the client reported recovered:false, and
    /// that report is right only when history could not hold the gap: more than <see cref="HistorySize"/> missed.
    /// </summary>
    private IEnumerable<string> CheckChannel(Subscriber subscriber)
    {
        var received = subscriber.Received;
        var previous = 0UL;
        var jumps = 0;
        foreach (var (offset, data) in received)
        {
            if (offset <= previous)
            {
                yield return $"offset {offset} after {previous}: a repeat or out of order";
                continue;
            }
            if (offset != previous + 1)
            {
                jumps++;
                var missed = offset - previous - 1;
                if (missed <= (ulong)HistorySize)
                {
                    yield return $"offsets {previous + 1}..{offset - 1} never arrived ({missed} publications; history keeps {HistorySize})" +
                        (subscriber.RecoveryFailures > 0 ? $", {subscriber.RecoveryFailures} recovered:false reported" : ", and no recovered:false was reported");
                }
            }
            if (_ackedChannel.TryGetValue(offset, out var expected) && expected != data)
            {
                yield return $"offset {offset} carried {data}, but the publish answered with that offset was {expected}";
            }
            previous = offset;
        }
        if (jumps != subscriber.RecoveryFailures)
        {
            yield return $"{subscriber.RecoveryFailures} recovered:false reported but {jumps} gaps in the offsets received";
        }
        var missing = _ackedChannel.Keys.Where(o => o > previous).Order().ToList();
        if (missing.Count > 0)
        {
            yield return $"{missing.Count} acknowledged publications after its last offset {previous} never arrived (first {missing[0]}; " +
                $"connected now: {subscriber.Client.IsConnected}, {subscriber.Client.Reconnects} reconnects; {subscriber.Client.DescribeStreams()})";
        }
        foreach (var failure in subscriber.Errors)
        {
            yield return failure;
        }
    }

    private IEnumerable<string> CheckInbox(Subscriber subscriber)
    {
        var acked = _ackedInbox.TryGetValue(subscriber.User, out var a) ? a : new ConcurrentDictionary<ulong, string>();
        var previous = 0UL;
        foreach (var (offset, data) in subscriber.Inbox)
        {
            if (offset != previous + 1)
            {
                yield return offset <= previous ? $"entry {offset} after {previous}: a repeat or out of order" : $"entries {previous + 1}..{offset - 1} never arrived";
            }
            if (acked.TryGetValue(offset, out var expected) && expected != data)
            {
                yield return $"entry {offset} carried {data}, but the publish answered with that offset was {expected}";
            }
            previous = Math.Max(previous, offset);
        }
        if (acked.Keys.Where(o => o > previous).Order().FirstOrDefault() is var first and > 0)
        {
            yield return $"acknowledged entries after its last offset {previous} never arrived (first {first})";
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var subscriber in _subscribers)
        {
            await subscriber.DisposeAsync();
        }
    }

    /// <summary>One client, its proxy, and what it received.</summary>
    private sealed class Subscriber : IAsyncDisposable
    {
        private readonly Lock _lock = new();
        private readonly List<(ulong Offset, string Data)> _received = [];
        private readonly List<(ulong Offset, string Data)> _inbox = [];
        private readonly List<string> _errors = [];
        private Task _reading = Task.CompletedTask;
        private Task _readingInbox = Task.CompletedTask;
        private int _recoveryFailures;

        private Subscriber(string user, bool fromToken, DropProxy proxy)
        {
            User = user;
            FromToken = fromToken;
            Proxy = proxy;
            Client = new HeraldClient(new HeraldClientOptions
            {
                Url = proxy.Uri,
                GetToken = _ => ValueTask.FromResult<string?>(HeraldTokens.Connection(Secret, user, TimeSpan.FromHours(1), channels: fromToken ? [Channel] : null)),
                MinReconnectDelay = TimeSpan.FromMilliseconds(30),
                MaxReconnectDelay = TimeSpan.FromMilliseconds(400),
                CommandTimeout = TimeSpan.FromSeconds(5),
            });
            Client.RecoveryFailed += (_, _) => Interlocked.Increment(ref _recoveryFailures);
            Client.ResubscribeFailed += (_, failure) => AddError($"resubscribe to {failure.Channel} refused: {failure.Error.Message}");
        }

        public string User { get; }

        public bool FromToken { get; }

        public DropProxy Proxy { get; }

        public HeraldClient Client { get; }

        public int RecoveryFailures => Volatile.Read(ref _recoveryFailures);

        public List<(ulong Offset, string Data)> Received
        {
            get
            {
                lock (_lock)
                {
                    return [.. _received];
                }
            }
        }

        public List<(ulong Offset, string Data)> Inbox
        {
            get
            {
                lock (_lock)
                {
                    return [.. _inbox];
                }
            }
        }

        public List<string> Errors
        {
            get
            {
                lock (_lock)
                {
                    return [.. _errors];
                }
            }
        }

        public ulong LastOffset
        {
            get
            {
                lock (_lock)
                {
                    return _received.Count == 0 ? 0 : _received[^1].Offset;
                }
            }
        }

        public ulong LastInboxOffset
        {
            get
            {
                lock (_lock)
                {
                    return _inbox.Count == 0 ? 0 : _inbox[^1].Offset;
                }
            }
        }

        public static async Task<Subscriber> StartAsync(string user, bool fromToken, Func<int?> alivePort)
        {
            var subscriber = new Subscriber(user, fromToken, new DropProxy(alivePort));
            await subscriber.Client.ConnectAsync().DefaultTimeout();
            if (!fromToken)
            {
                await subscriber.Client.SubscribeAsync(Channel).DefaultTimeout();
            }
            subscriber._reading = Task.Run(subscriber.ReadAsync);
            subscriber._readingInbox = Task.Run(subscriber.ReadInboxAsync);
            return subscriber;
        }

        private void AddError(string error)
        {
            lock (_lock)
            {
                _errors.Add(error);
            }
        }

        private async Task ReadAsync()
        {
            await foreach (var publication in Client.ReadPublicationsAsync())
            {
                if (publication.Channel != Channel)
                {
                    AddError($"a publication of channel {publication.Channel ?? "(none)"}: {publication.Data}");
                    continue;
                }
                lock (_lock)
                {
                    _received.Add((publication.Offset, publication.Data.GetString()!));
                }
            }
        }

        private async Task ReadInboxAsync()
        {
            await foreach (var entry in Client.ReadInboxAsync())
            {
                lock (_lock)
                {
                    _inbox.Add((entry.Offset, entry.Data.GetString()!));
                }
                if (entry.Offset % 5 == 0)
                {
                    _ = AcknowledgeAsync(entry.Offset); // some handled entries are acknowledged, as an app would
                }
            }
        }

        private async Task AcknowledgeAsync(ulong offset)
        {
            try
            {
                await Client.AckInboxAsync(offset);
            }
            catch (Exception ex) when (ex is HeraldException or InvalidOperationException or System.Net.WebSockets.WebSocketException
                or TimeoutException or OperationCanceledException)
            {
                // The connection dropped meanwhile: the entry stays in the inbox, and the client must not hand it over twice.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Task.WhenAll(_reading, _readingInbox).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await Proxy.DisposeAsync();
        }
    }
}
