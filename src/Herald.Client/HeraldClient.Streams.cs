using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Client.Internal;
using Herald.Protocol;

namespace Herald.Client;

/// <summary>
/// The client's position in each channel and in the user's inbox. Every change happens under <see cref="_streamLock"/>
/// as the receive loop reads replies and pushes, in the order they arrived, so a subscribe reply and the live
/// publications read right after it (or right before it) are handed to the app in offset order, each once.
/// </summary>
public sealed partial class HeraldClient
{
    private readonly Lock _streamLock = new();
    private readonly Dictionary<string, ChannelStream> _streams = new(StringComparer.Ordinal);
    private readonly List<(ulong Offset, JsonElement Data, string? Event)> _heldInbox = [];
    private ulong _inboxOffset;
    private ulong _connectPending;

    /// <summary>Why a subscribe command is sent: its reply is applied the same way, but failures mean different things.</summary>
    private enum StreamUse
    {
        /// <summary>The app called <see cref="SubscribeAsync"/>.</summary>
        Subscribe,

        /// <summary>After a reconnect, for a channel the client was subscribed to.</summary>
        Resubscribe,

        /// <summary>A live publication did not follow the last one (a gap, or a new epoch): ask the server what was missed.</summary>
        Resync,
    }

    /// <summary>Sends <c>subscribe</c>, with <c>since</c> when the client already has a position in the channel.</summary>
    private async Task<JsonElement> SubscribeCallAsync(string channel, string? token, StreamUse use, CancellationToken cancellation, ClientWebSocket? socket = null)
    {
        var id = NextId();
        var parameters = new JsonObject { ["channel"] = channel };
        var withSince = false;
        lock (_streamLock)
        {
            if (_streams.TryGetValue(channel, out var stream))
            {
                token ??= stream.Token;
                if (stream.Since is { } since)
                {
                    parameters["since"] = new JsonObject { ["offset"] = since.Offset, ["epoch"] = since.Epoch };
                    stream.PendingCalls.Add(id);
                    withSince = true;
                }
            }
        }
        if (token is not null)
        {
            parameters["token"] = token;
        }
        try
        {
            return await CallAsync(ProtocolNames.Methods.Subscribe, parameters, cancellation, id: id, socket: socket,
                onReply: message => OnSubscribeReply(channel, token, use, withSince, id, message)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not HeraldException)
        {
            // No reply (a timeout, or the connection ended): publications held for it are handled as live ones again.
            List<string>? failed = null;
            lock (_streamLock)
            {
                if (_streams.TryGetValue(channel, out var stream) && stream.PendingCalls.Remove(id))
                {
                    ReleaseHeld(channel, stream, ref failed);
                }
            }
            RaiseRecoveryFailed(failed);
            throw;
        }
    }

    /// <summary>Runs in the receive loop, before any frame read after the reply.</summary>
    private void OnSubscribeReply(string channel, string? token, StreamUse use, bool withSince, ulong id, JsonElement message)
    {
        List<string>? failed = null;
        lock (_streamLock)
        {
            _streams.TryGetValue(channel, out var stream);
            if (message.TryGetProperty("error", out _))
            {
                if (stream is not null && stream.PendingCalls.Remove(id))
                {
                    if (use == StreamUse.Resync)
                    {
                        // The gap cannot be closed: say so, and go on from the publications that did arrive.
                        (failed ??= []).Add(channel);
                        stream.Offset = 0;
                        stream.Epoch = "";
                    }
                    ReleaseHeld(channel, stream, ref failed);
                }
            }
            else if (stream is not null || use == StreamUse.Subscribe)
            {
                if (stream is null)
                {
                    _streams[channel] = stream = new ChannelStream();
                }
                stream.Token = token ?? stream.Token;
                stream.PendingCalls.Remove(id);
                ApplyState(channel, stream, message.GetProperty("result"), recovering: use != StreamUse.Subscribe || withSince, ref failed);
                ReleaseHeld(channel, stream, ref failed);
            }
        }
        RaiseRecoveryFailed(failed);
    }

    /// <summary>
    /// Applies a subscribe reply, or one channel of connect's <c>subs</c>: hands recovered publications to the app and
    /// moves the position. <paramref name="recovering"/>: the client had a position before, so it must learn whether
    /// the gap was closed; a reply that cannot say so counts as not recovered.
    /// </summary>
    private void ApplyState(string channel, ChannelStream stream, JsonElement state, bool recovering, ref List<string>? failed)
    {
        if (!state.TryGetProperty("epoch", out var epoch))
        {
            stream.Offset = 0; // a channel without history: its publications carry no offset
            stream.Epoch = "";
            return;
        }
        var offset = state.GetProperty("offset").GetUInt64();
        if (state.TryGetProperty("recovered", out var recovered) && recovered.GetBoolean())
        {
            foreach (var publication in state.GetProperty("publications").EnumerateArray())
            {
                var at = publication.GetProperty("offset").GetUInt64();
                if (at > stream.Offset)
                {
                    _publications.Writer.TryWrite(new Publication(channel, at, publication.GetProperty("data").Clone(), Recovered: true) { Event = EventOf(publication) });
                    stream.Offset = at;
                }
            }
        }
        else if (recovering)
        {
            (failed ??= []).Add(channel);
        }
        stream.Offset = offset;
        stream.Epoch = epoch.GetString() ?? "";
    }

    /// <summary>Once no reply is pending, handles the publications held meanwhile; those the reply covered are dropped.</summary>
    private void ReleaseHeld(string channel, ChannelStream stream, ref List<string>? failed)
    {
        if (stream.PendingCalls.Count > 0 || stream.Held.Count == 0)
        {
            return;
        }
        var held = stream.Held.ToArray();
        stream.Held.Clear();
        foreach (var (offset, data, eventName) in held)
        {
            if (stream.PendingCalls.Count > 0)
            {
                stream.Held.Add((offset, data, eventName)); // a resync started: keep the rest in order behind it
            }
            else if (offset > stream.Offset || stream.Epoch.Length == 0 && stream.Offset == 0)
            {
                OnLivePublication(channel, stream, offset, data, eventName, ref failed);
            }
        }
    }

    /// <summary>A live publication of a channel with history that the client tracks.</summary>
    private void OnLivePublication(string channel, ChannelStream stream, ulong offset, JsonElement data, string? eventName, ref List<string>? failed)
    {
        if (stream.PendingCalls.Count > 0)
        {
            stream.Held.Add((offset, data, eventName));
            return;
        }
        if (offset == stream.Offset + 1 || stream.Epoch.Length == 0 && stream.Offset == 0)
        {
            _publications.Writer.TryWrite(new Publication(channel, offset, data) { Event = eventName });
            stream.Offset = offset;
            return;
        }
        // Within one connection a channel's offsets grow by one. Anything else means publications were missed or the
        // stream started a new epoch (its history was removed): ask the server, holding what follows until it answers.
        stream.Held.Add((offset, data, eventName));
        var since = stream.Since;
        var id = NextId();
        stream.PendingCalls.Add(id);
        var socket = _socket;
        _ = Task.Run(() => ResyncAsync(channel, since, id, socket));
    }

    private async Task ResyncAsync(string channel, (ulong Offset, string Epoch)? since, ulong id, ClientWebSocket? socket)
    {
        var parameters = new JsonObject { ["channel"] = channel };
        if (since is { } from)
        {
            parameters["since"] = new JsonObject { ["offset"] = from.Offset, ["epoch"] = from.Epoch };
        }
        string? token;
        lock (_streamLock)
        {
            token = _streams.TryGetValue(channel, out var stream) ? stream.Token : null;
        }
        if (token is not null)
        {
            parameters["token"] = token;
        }
        try
        {
            await CallAsync(ProtocolNames.Methods.Subscribe, parameters, _disposed.Token, id: id, socket: socket,
                onReply: message => OnSubscribeReply(channel, token, StreamUse.Resync, withSince: true, id, message)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Whatever went wrong (this runs in the background, nobody awaits it), the id must not stay pending: that
            // would hold the channel's publications for good.
            // An error reply was handled in the receive loop. Without a reply the connection is not to be trusted: drop
            // it, and the next one recovers from the same position what was held here.
            var unanswered = false;
            lock (_streamLock)
            {
                if (_streams.TryGetValue(channel, out var stream) && stream.PendingCalls.Remove(id))
                {
                    stream.Held.Clear();
                    unanswered = true;
                }
            }
            if (unanswered)
            {
                socket?.Abort();
            }
        }
    }

    /// <summary>A <c>pub</c> push, in the receive loop.</summary>
    private void OnPublicationPush(JsonElement message)
    {
        var channel = message.TryGetProperty("channel", out var c) ? c.GetString() : null;
        var offset = message.TryGetProperty("offset", out var o) ? o.GetUInt64() : 0;
        var data = message.GetProperty("data").Clone();
        var eventName = EventOf(message);
        List<string>? failed = null;
        lock (_streamLock)
        {
            if (channel is not null && offset != 0 && _streams.TryGetValue(channel, out var stream))
            {
                OnLivePublication(channel, stream, offset, data, eventName, ref failed);
            }
            else
            {
                _publications.Writer.TryWrite(new Publication(channel, offset, data) { Event = eventName });
            }
        }
        RaiseRecoveryFailed(failed);
    }

    /// <summary>The event name of a publication or inbox entry (a push or a stored one), null when the publish named none.</summary>
    private static string? EventOf(JsonElement publication) =>
        publication.TryGetProperty("event", out var eventName) && eventName.ValueKind == JsonValueKind.String ? eventName.GetString() : null;

    /// <summary>The backend subscribed this connection (<c>subscribe</c> push): track the channel from its first publication.</summary>
    private void OnServerSubscribed(string channel)
    {
        lock (_streamLock)
        {
            _streams.TryAdd(channel, new ChannelStream());
        }
    }

    private void ForgetStream(string channel)
    {
        lock (_streamLock)
        {
            _streams.Remove(channel);
        }
    }

    /// <summary>
    /// Before connect is sent: the token's channels the client has a position in get a <c>since</c>, and their
    /// publications (and inbox pushes) are held until the reply is handled.
    /// </summary>
    private JsonObject? PrepareConnect(ulong id)
    {
        JsonObject? since = null;
        lock (_streamLock)
        {
            _connectPending = id;
            foreach (var (channel, stream) in _streams)
            {
                if (stream.FromToken && stream.Since is { } from)
                {
                    since ??= [];
                    since[channel] = new JsonObject { ["offset"] = from.Offset, ["epoch"] = from.Epoch };
                    stream.PendingCalls.Add(id);
                }
            }
        }
        return since;
    }

    /// <summary>Runs in the receive loop: the token's channels (recovered ones first) and the inbox waiting at connect.</summary>
    private void OnConnectReply(ulong id, JsonElement message)
    {
        List<string>? failed = null;
        lock (_streamLock)
        {
            _connectPending = 0;
            var result = message.TryGetProperty("result", out var r) ? r : default;
            var subs = result.ValueKind == JsonValueKind.Object && result.TryGetProperty("subs", out var s) ? s : default;
            foreach (var (channel, stream) in _streams.ToArray())
            {
                var hadPosition = stream.PendingCalls.Remove(id);
                if (!stream.FromToken)
                {
                    continue;
                }
                if (subs.ValueKind == JsonValueKind.Object && subs.TryGetProperty(channel, out var state))
                {
                    ApplyState(channel, stream, state, recovering: hadPosition, ref failed);
                    ReleaseHeld(channel, stream, ref failed);
                }
                else if (result.ValueKind == JsonValueKind.Object)
                {
                    _streams.Remove(channel); // the new token no longer names it
                }
                else
                {
                    ReleaseHeld(channel, stream, ref failed);
                }
            }
            if (subs.ValueKind == JsonValueKind.Object)
            {
                foreach (var sub in subs.EnumerateObject())
                {
                    if (!_streams.ContainsKey(sub.Name))
                    {
                        var stream = new ChannelStream { FromToken = true };
                        _streams[sub.Name] = stream;
                        ApplyState(sub.Name, stream, sub.Value, recovering: false, ref failed);
                    }
                }
            }
            if (result.ValueKind == JsonValueKind.Object && result.TryGetProperty("inbox", out var inbox))
            {
                if (inbox.GetProperty("offset").GetUInt64() < _inboxOffset)
                {
                    _inboxOffset = inbox.GetProperty("acked").GetUInt64(); // the server lost the inbox (in-memory storage restarted)
                }
                foreach (var entry in inbox.GetProperty("publications").EnumerateArray())
                {
                    DeliverInbox(entry.GetProperty("offset").GetUInt64(), entry.GetProperty("data").Clone(), EventOf(entry));
                }
            }
            foreach (var (offset, data, eventName) in _heldInbox)
            {
                DeliverInbox(offset, data, eventName);
            }
            _heldInbox.Clear();
        }
        RaiseRecoveryFailed(failed);
    }

    /// <summary>Connect got no reply: what waited for it is recovered on the next connection, from the same positions.</summary>
    private void AbandonConnect(ulong id)
    {
        lock (_streamLock)
        {
            if (_connectPending == id)
            {
                _connectPending = 0;
                _heldInbox.Clear();
            }
            foreach (var stream in _streams.Values)
            {
                if (stream.PendingCalls.Remove(id))
                {
                    stream.Held.Clear();
                }
            }
        }
    }

    /// <summary>An <c>inbox</c> push, in the receive loop.</summary>
    private void OnInboxPush(ulong offset, JsonElement data, string? eventName)
    {
        lock (_streamLock)
        {
            if (_connectPending != 0)
            {
                _heldInbox.Add((offset, data, eventName));
                return;
            }
            DeliverInbox(offset, data, eventName);
        }
    }

    /// <summary>Hands an inbox entry to the app once: entries up to the last one handed over were already delivered.</summary>
    private void DeliverInbox(ulong offset, JsonElement data, string? eventName)
    {
        if (offset <= _inboxOffset)
        {
            return;
        }
        _inboxOffset = offset;
        _inbox.Writer.TryWrite(new InboxEntry(offset, data) { Event = eventName });
    }

    /// <summary>The connection ended: replies pending on it never come, and what was held is recovered on the next one.</summary>
    private void OnConnectionEnded()
    {
        lock (_streamLock)
        {
            _connectPending = 0;
            _heldInbox.Clear();
            foreach (var stream in _streams.Values)
            {
                stream.PendingCalls.Clear();
                stream.Held.Clear();
            }
        }
    }

    /// <summary>The channels to subscribe again after connect: those the app (or the backend) subscribed, not the token's.</summary>
    private List<string> ChannelsToResubscribe()
    {
        lock (_streamLock)
        {
            return [.. _streams.Where(s => !s.Value.FromToken).Select(s => s.Key)];
        }
    }

    /// <summary>The client's position in each channel, for failure messages of tests.</summary>
    internal string DescribeStreams()
    {
        lock (_streamLock)
        {
            return string.Join("; ", _streams.Select(s =>
                $"{s.Key}: offset {s.Value.Offset} epoch {s.Value.Epoch} pending [{string.Join(",", s.Value.PendingCalls)}] held {s.Value.Held.Count}")) +
                $"; inbox {_inboxOffset}, connect pending {_connectPending}";
        }
    }

    private void RaiseRecoveryFailed(List<string>? channels)
    {
        foreach (var channel in channels ?? [])
        {
            RecoveryFailed?.Invoke(this, channel);
        }
    }
}
