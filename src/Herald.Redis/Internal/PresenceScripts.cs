namespace Herald.Redis.Internal;

/// <summary>
/// The Lua scripts of channel presence. Each runs atomically on the slot of one channel with the keys members, order,
/// users and nodes (see <see cref="RedisKeys"/>), so the entries, the order, the per-user and the per-node counts never
/// disagree: adding twice or removing what is not there changes nothing, and a count never goes below zero. The
/// per-node member sets are named from a prefix argument (same hash tag, so same slot).
/// </summary>
internal static class PresenceScripts
{
    private const string Decrement = """
        local function decrement(hash, field)
          local count = redis.call('HINCRBY', hash, field, -1)
          if count <= 0 then
            redis.call('HDEL', hash, field)
            return 0
          end
          return count
        end

        """;

    /// <summary>
    /// KEYS: members, order, users, nodes. ARGV: client, user, node, entry JSON, node set prefix.
    /// Returns {added (1/0), the user's connections after}.
    /// </summary>
    public const string Add = Decrement + """
        local client, user, node, sets = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
        local old = redis.call('HGET', KEYS[1], client)
        redis.call('HSET', KEYS[1], client, ARGV[4])
        if old then
          local entry = cjson.decode(old)
          if entry.n ~= node then
            redis.call('SREM', sets .. entry.n, client)
            decrement(KEYS[4], entry.n)
            redis.call('SADD', sets .. node, client)
            redis.call('HINCRBY', KEYS[4], node, 1)
          end
          if entry.u ~= user then
            if entry.u ~= '' then decrement(KEYS[3], entry.u) end
            if user ~= '' then redis.call('HINCRBY', KEYS[3], user, 1) end
          end
          if user == '' then return {0, 0} end
          return {0, tonumber(redis.call('HGET', KEYS[3], user))}
        end
        redis.call('ZADD', KEYS[2], 0, client)
        redis.call('SADD', sets .. node, client)
        redis.call('HINCRBY', KEYS[4], node, 1)
        if user == '' then return {1, 0} end
        return {1, redis.call('HINCRBY', KEYS[3], user, 1)}
        """;

    /// <summary>
    /// KEYS: members, order, users, nodes. ARGV: client, node set prefix.
    /// Returns {removed (1/0), the user's connections after, the node that had added the entry}.
    /// </summary>
    public const string Remove = Decrement + """
        local client = ARGV[1]
        local old = redis.call('HGET', KEYS[1], client)
        if not old then return {0, 0, ''} end
        local entry = cjson.decode(old)
        redis.call('HDEL', KEYS[1], client)
        redis.call('ZREM', KEYS[2], client)
        redis.call('SREM', ARGV[2] .. entry.n, client)
        decrement(KEYS[4], entry.n)
        if entry.u == '' then return {1, 0, entry.n} end
        return {1, decrement(KEYS[3], entry.u), entry.n}
        """;

    /// <summary>
    /// KEYS: members, order, nodes. ARGV: cursor ('' from the start), limit.
    /// Returns {more (1/0), node count, the nodes present, then client id and entry JSON per member}.
    /// </summary>
    public const string Page = """
        local result = {0, 0}
        local nodes = redis.call('HKEYS', KEYS[3])
        result[2] = #nodes
        for _, node in ipairs(nodes) do result[#result + 1] = node end
        local limit = tonumber(ARGV[2])
        if limit > 0 then
          local from = '-'
          if ARGV[1] ~= '' then from = '(' .. ARGV[1] end
          local clients = redis.call('ZRANGEBYLEX', KEYS[2], from, '+', 'LIMIT', 0, limit + 1)
          if #clients > limit then
            result[1] = 1
            clients[#clients] = nil
          end
          for _, client in ipairs(clients) do
            result[#result + 1] = client
            result[#result + 1] = redis.call('HGET', KEYS[1], client)
          end
        end
        return result
        """;

    /// <summary>KEYS: members, users, nodes. Returns {connections, users, then the nodes present}.</summary>
    public const string Stats = """
        local result = {redis.call('HLEN', KEYS[1]), redis.call('HLEN', KEYS[2])}
        for _, node in ipairs(redis.call('HKEYS', KEYS[3])) do result[#result + 1] = node end
        return result
        """;

    /// <summary>
    /// KEYS: members, order, users, nodes. ARGV: node set prefix, then the dead nodes.
    /// Removes every entry those nodes added; returns how many.
    /// </summary>
    public const string Purge = Decrement + """
        local removed = 0
        for i = 2, #ARGV do
          local node = ARGV[i]
          local set = ARGV[1] .. node
          for _, client in ipairs(redis.call('SMEMBERS', set)) do
            local old = redis.call('HGET', KEYS[1], client)
            if old then
              local entry = cjson.decode(old)
              if entry.n == node then
                redis.call('HDEL', KEYS[1], client)
                redis.call('ZREM', KEYS[2], client)
                if entry.u ~= '' then decrement(KEYS[3], entry.u) end
                removed = removed + 1
              end
            end
          end
          redis.call('DEL', set)
          redis.call('HDEL', KEYS[4], node)
        end
        return removed
        """;
}
