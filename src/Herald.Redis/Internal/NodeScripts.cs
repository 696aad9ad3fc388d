namespace Herald.Redis.Internal;

/// <summary>
/// The Lua scripts on the node-level keys, which share the hash tag <c>{nodes}</c> (one slot), so one script sees every
/// node's heartbeat. Key names are built from prefix arguments; the first key only routes the script to that slot.
/// </summary>
internal static class NodeScripts
{
    /// <summary>
    /// KEYS: this node's heartbeat, the presence node set. ARGV: node, expiry ms, heartbeat prefix, sweep prefix, claim
    /// dead nodes (1/0), claim ms. Renews the heartbeat and claims the sweep of nodes whose heartbeat expired.
    /// Returns {heartbeat was still there (1/0), live nodes, claimed dead nodes}.
    /// </summary>
    public const string Heartbeat = """
        local existed = redis.call('SET', KEYS[1], '1', 'PX', ARGV[2], 'GET')
        redis.call('SADD', KEYS[2], ARGV[1])
        local live, dead = {}, {}
        for _, node in ipairs(redis.call('SMEMBERS', KEYS[2])) do
          if node == ARGV[1] or redis.call('EXISTS', ARGV[3] .. node) == 1 then
            live[#live + 1] = node
          elseif ARGV[5] == '1' and redis.call('SET', ARGV[4] .. node, ARGV[1], 'NX', 'PX', ARGV[6]) then
            dead[#dead + 1] = node
          end
        end
        local still = 0
        if existed then still = 1 end
        return {still, live, dead}
        """;

    /// <summary>KEYS: the presence node set (routing). ARGV: heartbeat prefix, then nodes. Returns those without a heartbeat.</summary>
    public const string Dead = """
        local dead = {}
        for i = 2, #ARGV do
          if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 then dead[#dead + 1] = ARGV[i] end
        end
        return dead
        """;

    /// <summary>
    /// KEYS: the presence node set. ARGV: the swept node, heartbeat prefix, presence index prefix, sweep prefix.
    /// Forgets the node (unless it came back meanwhile) and releases the claim.
    /// </summary>
    public const string SweepDone = """
        if redis.call('EXISTS', ARGV[2] .. ARGV[1]) == 0 then
          redis.call('DEL', ARGV[3] .. ARGV[1])
          redis.call('SREM', KEYS[1], ARGV[1])
        end
        redis.call('DEL', ARGV[4] .. ARGV[1])
        return 1
        """;

    /// <summary>KEYS: a node's presence index. ARGV: channel, delta. Counts stay exact whatever order deltas arrive in.</summary>
    public const string IndexDelta = """
        if redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2]) == 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
        return 1
        """;

    /// <summary>KEYS: this node's registry entry, the registry. ARGV: node, entry JSON, expiry ms.</summary>
    public const string Register = """
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        redis.call('SADD', KEYS[2], ARGV[1])
        return 1
        """;

    /// <summary>KEYS: the registry. ARGV: registry entry prefix. Returns the live nodes' entries and drops the dead ones.</summary>
    public const string Nodes = """
        local live = {}
        for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local entry = redis.call('GET', ARGV[1] .. node)
          if entry then live[#live + 1] = entry else redis.call('SREM', KEYS[1], node) end
        end
        return live
        """;

    /// <summary>KEYS: a node's registry entry, the registry. ARGV: node. A node stopping cleanly leaves the registry at once.</summary>
    public const string Leave = """
        redis.call('DEL', KEYS[1])
        redis.call('SREM', KEYS[2], ARGV[1])
        return 1
        """;
}
