using Herald.Core.Engine;
using StackExchange.Redis;

namespace Herald.Redis.Internal;

/// <summary>Reads the entries the history and inbox read scripts return (<see cref="StreamScripts"/>).</summary>
internal static class StoredEntries
{
    /// <summary>The entries of <paramref name="result"/> from <paramref name="start"/> on: offset, time, data, event ('': none) each.</summary>
    public static List<StoredPublication> Read(RedisResult[] result, int start)
    {
        var entries = new List<StoredPublication>(Math.Max(0, (result.Length - start) / 4));
        for (var i = start; i + 3 < result.Length; i += 4)
        {
            var eventName = (string?)result[i + 3];
            entries.Add(new StoredPublication((ulong)(long)result[i], (byte[])result[i + 2]!, DateTimeOffset.FromUnixTimeMilliseconds((long)result[i + 1]),
                string.IsNullOrEmpty(eventName) ? null : eventName));
        }
        return entries;
    }
}
