namespace Herald.Redis.Internal;

/// <summary>
/// The Lua scripts of channel history and user inboxes. Each runs atomically on the slot of one stream (its meta hash
/// and its entries stream, see <see cref="RedisKeys"/>), so offset assignment, append and trim are one step. Entries
/// have the id <c>offset-0</c> and offsets are contiguous (only a prefix is ever removed), which the binary search of
/// the expiry trim relies on. Times (unix ms) come from the calling node's clock and never decrease within a stream,
/// so expired entries are always a prefix. Numbers stay below 2^53, exact in Lua's doubles. An entry's fields are
/// <c>t</c> (time), <c>d</c> (data) and, when the publish named one, <c>e</c> (its event name): entries written before
/// events existed read as published without one, and a node of an older build reads past the extra field.
/// </summary>
internal static class StreamScripts
{
    /// <summary>Lua helpers shared by the scripts.</summary>
    private const string Helpers = """
        local function id(offset) return string.format('%d-0', offset) end
        local function offset_of(entry_id) return tonumber(string.sub(entry_id, 1, string.find(entry_id, '-', 1, true) - 1)) end
        local function time_of(entry) return tonumber(entry[2][2]) end

        -- Removes the entries stamped before cutoff: a prefix, found by binary search over the contiguous offsets.
        local function trim_expired(entries, cutoff)
          local first = redis.call('XRANGE', entries, '-', '+', 'COUNT', 1)[1]
          if not first or time_of(first) >= cutoff then return end
          local last = redis.call('XREVRANGE', entries, '+', '-', 'COUNT', 1)[1]
          if time_of(last) < cutoff then
            redis.call('DEL', entries)
            return
          end
          local low, high = offset_of(first[1]) + 1, offset_of(last[1])
          while low < high do
            local middle = math.floor((low + high) / 2)
            local entry = redis.call('XRANGE', entries, id(middle), id(middle))[1]
            if not entry or time_of(entry) >= cutoff then high = middle else low = middle + 1 end
          end
          redis.call('XTRIM', entries, 'MINID', id(low))
        end

        -- Appends data (with its event name, '': none) as entry `offset` stamped `now` (never before the stream's newest),
        -- then trims to the limits and sets the keys' expiry: entries expire with the TTL (0: nothing kept, -1: no TTL),
        -- the position when `keep` ms passed (-1: never).
        local function append(meta, entries, offset, data, event, now, size, ttl, keep)
          if offset == 1 then redis.call('DEL', entries) end -- a new or lost position: nothing of an older run may stay
          now = math.max(now, tonumber(redis.call('HGET', meta, 'last') or '0'))
          if event == '' then
            redis.call('XADD', entries, id(offset), 't', string.format('%d', now), 'd', data)
          else
            redis.call('XADD', entries, id(offset), 't', string.format('%d', now), 'd', data, 'e', event)
          end
          redis.call('HSET', meta, 'last', string.format('%d', now), 'ttl', ttl)
          redis.call('XTRIM', entries, 'MAXLEN', size)
          if ttl >= 0 then trim_expired(entries, now - ttl) end
          if ttl == 0 or redis.call('XLEN', entries) == 0 then
            redis.call('DEL', entries)
          elseif ttl > 0 then
            redis.call('PEXPIRE', entries, ttl)
          else
            redis.call('PERSIST', entries)
          end
          if keep > 0 then redis.call('PEXPIRE', meta, keep) else redis.call('PERSIST', meta) end
        end

        -- Drops what expired under the stream's last limits, then appends {offset, time, data, event ('': none)} of up to `limit` entries
        -- after `since` to `result` (newest first when asked), and returns the oldest offset still stored (0: none).
        local function read(meta, entries, ttl, now, since, limit, newest_first, top, result)
          ttl = tonumber(ttl or '-1')
          if ttl >= 0 then trim_expired(entries, now - ttl) end
          local first = redis.call('XRANGE', entries, '-', '+', 'COUNT', 1)[1]
          if limit > 0 and since < top then
            local rows
            if newest_first then
              rows = redis.call('XREVRANGE', entries, '+', id(since + 1), 'COUNT', limit)
            else
              rows = redis.call('XRANGE', entries, id(since + 1), '+', 'COUNT', limit)
            end
            for _, row in ipairs(rows) do
              result[#result + 1] = offset_of(row[1])
              result[#result + 1] = row[2][2]
              result[#result + 1] = row[2][4]
              result[#result + 1] = row[2][6] or ''
            end
          end
          if first then return offset_of(first[1]) end
          return 0
        end

        """;

    /// <summary>
    /// KEYS: meta, entries. ARGV: data, now, size, ttl ms (-1: none), epoch for a new stream, position ms (-1: never),
    /// event name ('': none). Returns {offset, epoch}.
    /// </summary>
    public const string HistoryAppend = Helpers + HistoryAppendStep + """
        return {top, epoch}
        """;

    /// <summary>The append of <see cref="HistoryAppend"/>: leaves the new offset in <c>top</c> and the epoch in <c>epoch</c>.</summary>
    private const string HistoryAppendStep = """
        local top = redis.call('HINCRBY', KEYS[1], 'top', 1)
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if not epoch then
          epoch = ARGV[5]
          redis.call('HSET', KEYS[1], 'epoch', epoch)
        end
        append(KEYS[1], KEYS[2], top, ARGV[1], ARGV[7], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6]))

        """;

    /// <summary>
    /// As <see cref="HistoryAppend"/>, then publishes the publication with its position to the channel's topic in the
    /// same atomic step, so every node receives the channel's publications in offset order. KEYS: meta, entries, topic.
    /// ARGV: as HistoryAppend, then the message's kind, the rest of the message after the epoch
    /// (<see cref="BrokerEnvelope"/>), and 1 for sharded pub/sub (SPUBLISH, Redis Cluster) or 0 (PUBLISH).
    /// </summary>
    public const string HistoryAppendPublish = Helpers + HistoryAppendStep + """
        local command = 'PUBLISH'
        if ARGV[10] == '1' then command = 'SPUBLISH' end
        redis.call(command, KEYS[3], ARGV[8] .. string.format('%d', top) .. '|' .. epoch .. ARGV[9])
        return {top, epoch}
        """;

    /// <summary>
    /// As <see cref="InboxAppend"/>, then publishes the entry with its offset (and an empty epoch) to the user's topic in
    /// the same step. KEYS: meta, entries, topic. ARGV: as InboxAppend, then kind, rest of the message, sharded (1/0).
    /// </summary>
    public const string InboxAppendPublish = Helpers + """
        local top = redis.call('HINCRBY', KEYS[1], 'top', 1)
        append(KEYS[1], KEYS[2], top, ARGV[1], ARGV[6], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
        local command = 'PUBLISH'
        if ARGV[9] == '1' then command = 'SPUBLISH' end
        redis.call(command, KEYS[3], ARGV[7] .. string.format('%d', top) .. '|' .. ARGV[8])
        return top
        """;

    /// <summary>
    /// KEYS: meta, entries. ARGV: since, limit, newest first (1/0), now, epoch to reserve, reservation ms (-1: never).
    /// A channel without a position gets one at offset 0 with the given epoch, which its first append keeps.
    /// Returns {top, epoch, oldest, then offset, time, data, event per entry}.
    /// </summary>
    public const string HistoryRead = Helpers + """
        local top, epoch, ttl = unpack(redis.call('HMGET', KEYS[1], 'top', 'epoch', 'ttl'))
        if not epoch then
          redis.call('HSET', KEYS[1], 'epoch', ARGV[5], 'top', 0)
          if tonumber(ARGV[6]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
          return {0, ARGV[5], 0}
        end
        top = tonumber(top)
        local result = {top, epoch, 0}
        result[3] = read(KEYS[1], KEYS[2], ttl, tonumber(ARGV[4]), tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1', top, result)
        return result
        """;

    /// <summary>
    /// KEYS: meta, entries. ARGV: data, now, size, ttl ms (-1: none), position ms (-1: never), event name ('': none).
    /// Returns the offset.
    /// </summary>
    public const string InboxAppend = Helpers + """
        local top = redis.call('HINCRBY', KEYS[1], 'top', 1)
        append(KEYS[1], KEYS[2], top, ARGV[1], ARGV[6], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
        return top
        """;

    /// <summary>
    /// KEYS: meta, entries. ARGV: since (-1: the acknowledged offset), limit, now.
    /// Returns {top, acked, then offset, time, data, event per entry}; {0, 0} for an inbox that never held anything.
    /// </summary>
    public const string InboxRead = Helpers + """
        local top, acked, ttl = unpack(redis.call('HMGET', KEYS[1], 'top', 'acked', 'ttl'))
        if not top then return {0, 0} end
        top = tonumber(top)
        acked = tonumber(acked or '0')
        local since = tonumber(ARGV[1])
        if since < 0 then since = acked end
        local result = {top, acked}
        read(KEYS[1], KEYS[2], ttl, tonumber(ARGV[3]), since, tonumber(ARGV[2]), false, top, result)
        return result
        """;

    /// <summary>KEYS: meta. ARGV: offset. Moves the acknowledged offset up (never past the newest); returns it.</summary>
    public const string InboxAck = """
        local top, acked = unpack(redis.call('HMGET', KEYS[1], 'top', 'acked'))
        if not top then return 0 end
        acked = tonumber(acked or '0')
        local wanted = math.min(tonumber(ARGV[1]), tonumber(top))
        if wanted > acked then
          redis.call('HSET', KEYS[1], 'acked', string.format('%d', wanted))
          acked = wanted
        end
        return acked
        """;

    /// <summary>KEYS: meta, entries. ARGV: up to offset (-1: all). Deletes entries; the position stays.</summary>
    public const string InboxDelete = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        local up_to = tonumber(ARGV[1])
        if up_to < 0 then
          redis.call('DEL', KEYS[2])
        else
          redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d-0', up_to + 1))
          if redis.call('XLEN', KEYS[2]) == 0 then redis.call('DEL', KEYS[2]) end
        end
        return 1
        """;
}
