using System.Text;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// Names every Redis key the engine uses, all under one prefix (<c>P</c> below, <see cref="RedisEngineOptions.KeyPrefix"/>),
/// so several Herald clusters can share one Redis and an ACL can grant <c>~P:*</c>. The part in braces is the Redis
/// Cluster hash tag: all keys of one channel (or one user) hash to one slot, so a Lua script can change them atomically.
/// In the tag, <c>%</c>, <c>{</c> and <c>}</c> of a name are written <c>%25</c>, <c>%7B</c> and <c>%7D</c>, and the
/// empty name is written <c>%</c>. Node-level keys share the tag <c>{nodes}</c>, so one script sees every heartbeat.
/// <list type="table">
/// <listheader><term>key</term><description>type: content</description></listheader>
/// <item><term><c>P:h:{channel}:meta</c></term><description>hash: <c>top</c> (newest offset), <c>epoch</c>, <c>last</c>
/// (time of the newest entry, unix ms), <c>ttl</c> (ms, -1: none). Written with offset 0 when a position is read before the
/// first publication (the reserved epoch). Expires <see cref="RedisEngineOptions.PositionTtl"/> (at least the TTL) after
/// the last publication.</description></item>
/// <item><term><c>P:h:{channel}:entries</c></term><description>stream: entry id <c>offset-0</c>, fields <c>t</c> (unix ms)
/// and <c>d</c> (the publication's JSON). Expires with the history TTL after the last publication.</description></item>
/// <item><term><c>P:i:{user}:meta</c>, <c>P:i:{user}:entries</c></term><description>a user's inbox, as above without
/// epoch and with <c>acked</c> (the acknowledged offset) in the hash.</description></item>
/// <item><term><c>P:p:{channel}:members</c></term><description>hash: client id → entry JSON <c>{"n":node,"u":user,"i":info}</c>.</description></item>
/// <item><term><c>P:p:{channel}:order</c></term><description>sorted set of the client ids (all score 0, read in lexical order for paging).</description></item>
/// <item><term><c>P:p:{channel}:users</c></term><description>hash: user id → connections of that user present.</description></item>
/// <item><term><c>P:p:{channel}:nodes</c></term><description>hash: node id → members that node added.</description></item>
/// <item><term><c>P:p:{channel}:node:ID</c></term><description>set: the client ids node ID added (removed at once when the node dies).</description></item>
/// <item><term><c>P:c:{channel}</c></term><description>pub/sub topic (sharded with <see cref="RedisEngineOptions.ShardedPubSub"/>):
/// the channel's publications and presence pushes, published by the history script in the same step as the append.</description></item>
/// <item><term><c>P:u:{user}</c></term><description>pub/sub topic: the user's publications (inbox entries).</description></item>
/// <item><term><c>P:idem:{key}</c></term><description>string, expires with the idempotency window: empty while the publish that
/// claimed the key runs, then its result (where it was stored).</description></item>
/// <item><term><c>P:broadcast</c></term><description>pub/sub topic every node listens to: attribute-targeted publishes and control commands.</description></item>
/// <item><term><c>P:{nodes}:alive:ID</c></term><description>string, expires: node ID's presence heartbeat.</description></item>
/// <item><term><c>P:{nodes}:presence-nodes</c></term><description>set: nodes that may have presence entries.</description></item>
/// <item><term><c>P:{nodes}:presence:ID</c></term><description>hash: channel → members node ID has there, so a dead node's
/// entries are found without scanning.</description></item>
/// <item><term><c>P:{nodes}:sweep:ID</c></term><description>string, expires: which node is removing dead node ID's entries.</description></item>
/// <item><term><c>P:{nodes}:info:ID</c></term><description>string, expires: node ID's registry entry (JSON: id, start time, connections).</description></item>
/// <item><term><c>P:{nodes}:registry</c></term><description>set: ids of the nodes that registered (dead ones are dropped when listed).</description></item>
/// </list>
/// </summary>
public sealed class RedisKeys
{
    private readonly string _prefix;

    /// <summary>Keys under <paramref name="prefix"/>, which must not be empty nor contain braces (they would become the hash tag).</summary>
    public RedisKeys(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.Contains('{', StringComparison.Ordinal) || prefix.Contains('}', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The Redis key prefix \"{prefix}\" must not contain braces: Redis Cluster would use them as the hash tag", nameof(prefix));
        }
        _prefix = prefix;
    }

    /// <summary>The prefix every key starts with (followed by a colon).</summary>
    public string Prefix => _prefix;

    /// <summary>A channel's history position and retention: <c>P:h:{channel}:meta</c>.</summary>
    public RedisKey HistoryMeta(string channel) => Key("h", channel, "meta");

    /// <summary>A channel's stored publications: <c>P:h:{channel}:entries</c>.</summary>
    public RedisKey HistoryEntries(string channel) => Key("h", channel, "entries");

    /// <summary>A user's inbox position, acknowledgement and retention: <c>P:i:{user}:meta</c>.</summary>
    public RedisKey InboxMeta(string user) => Key("i", user, "meta");

    /// <summary>A user's inbox entries: <c>P:i:{user}:entries</c>.</summary>
    public RedisKey InboxEntries(string user) => Key("i", user, "entries");

    /// <summary>A channel's pub/sub topic: <c>P:c:{channel}</c> (same slot as its history keys).</summary>
    public string ChannelTopic(string channel) => $"{_prefix}:c:{{{EscapeTag(channel)}}}";

    /// <summary>A user's pub/sub topic: <c>P:u:{user}</c> (same slot as its inbox keys).</summary>
    public string UserTopic(string user) => $"{_prefix}:u:{{{EscapeTag(user)}}}";

    /// <summary>A publish's idempotency key: <c>P:idem:{key}</c>.</summary>
    public RedisKey Idempotency(string key) => $"{_prefix}:idem:{{{EscapeTag(key)}}}";

    /// <summary>The topic every node listens to: <c>P:broadcast</c>.</summary>
    public string BroadcastTopic => _prefix + ":broadcast";

    /// <summary>A channel's presence entries by client id: <c>P:p:{channel}:members</c>.</summary>
    public RedisKey PresenceMembers(string channel) => Key("p", channel, "members");

    /// <summary>A channel's client ids in order, for paging: <c>P:p:{channel}:order</c>.</summary>
    public RedisKey PresenceOrder(string channel) => Key("p", channel, "order");

    /// <summary>A channel's connection count per user: <c>P:p:{channel}:users</c>.</summary>
    public RedisKey PresenceUsers(string channel) => Key("p", channel, "users");

    /// <summary>A channel's member count per node: <c>P:p:{channel}:nodes</c>.</summary>
    public RedisKey PresenceNodes(string channel) => Key("p", channel, "nodes");

    /// <summary>The start of the per-node member sets of a channel; the node id follows (<c>P:p:{channel}:node:</c>).</summary>
    public string PresenceNodeMembersPrefix(string channel) => Key("p", channel, "node:");

    /// <summary>A node's presence heartbeat: <c>P:{nodes}:alive:ID</c>.</summary>
    public RedisKey NodeAlive(string node) => NodeKey("alive:" + node);

    /// <summary>The start of the heartbeat keys; the node id follows.</summary>
    public string NodeAlivePrefix => NodeKey("alive:");

    /// <summary>The nodes that may have presence entries: <c>P:{nodes}:presence-nodes</c>.</summary>
    public RedisKey PresenceNodeSet => NodeKey("presence-nodes");

    /// <summary>Where a node has presence entries, channel → count: <c>P:{nodes}:presence:ID</c>.</summary>
    public RedisKey NodePresenceIndex(string node) => NodeKey("presence:" + node);

    /// <summary>The start of the per-node presence indexes; the node id follows.</summary>
    public string NodePresenceIndexPrefix => NodeKey("presence:");

    /// <summary>The start of the sweep claims; the id of the dead node follows.</summary>
    public string NodeSweepPrefix => NodeKey("sweep:");

    /// <summary>A node's registry entry: <c>P:{nodes}:info:ID</c>.</summary>
    public RedisKey NodeInfo(string node) => NodeKey("info:" + node);

    /// <summary>The start of the registry entries; the node id follows.</summary>
    public string NodeInfoPrefix => NodeKey("info:");

    /// <summary>The ids of the registered nodes: <c>P:{nodes}:registry</c>.</summary>
    public RedisKey NodeRegistry => NodeKey("registry");

    private string Key(string kind, string name, string suffix) => $"{_prefix}:{kind}:{{{EscapeTag(name)}}}:{suffix}";

    private string NodeKey(string suffix) => $"{_prefix}:{{nodes}}:{suffix}";

    /// <summary>
    /// Makes <paramref name="name"/> safe inside a hash tag; injective, so two names never share keys. The empty name
    /// becomes <c>%</c>, because an empty tag would make Redis Cluster hash each whole key to a different slot.
    /// </summary>
    internal static string EscapeTag(string name)
    {
        if (name.Length == 0)
        {
            return "%";
        }
        if (name.AsSpan().IndexOfAny('%', '{', '}') < 0)
        {
            return name;
        }
        var escaped = new StringBuilder(name.Length + 8);
        foreach (var c in name)
        {
            _ = c switch
            {
                '%' => escaped.Append("%25"),
                '{' => escaped.Append("%7B"),
                '}' => escaped.Append("%7D"),
                _ => escaped.Append(c),
            };
        }
        return escaped.ToString();
    }
}
