using System.Collections.Concurrent;

namespace Herald.Core.Engine;

/// <summary>
/// The epochs a single-node history store reserves in memory for channels it has no stream for: the epoch a channel's
/// first publication will get, handed to whoever subscribes before it (so they recover from it). Anyone may subscribe
/// to any name, so reservations are forgotten once unused for a while by a channel nobody here is subscribed to
/// (<see cref="Forget"/>); a client that comes back later then recovers with <c>recovered:false</c>, as after a restart.
/// Thread-safe.
/// </summary>
public sealed class EpochReservations
{
    private readonly ConcurrentDictionary<string, Reservation> _reserved = new(StringComparer.Ordinal);

    /// <summary>Reservations held now.</summary>
    public int Count => _reserved.Count;

    /// <summary>The epoch reserved for <paramref name="channel"/>, reserving a new one when there is none; marks it used now.</summary>
    public string Reserve(string channel)
    {
        while (true)
        {
            var reservation = _reserved.GetOrAdd(channel, static _ => new Reservation(Epochs.New()));
            lock (reservation)
            {
                if (reservation.Forgotten)
                {
                    continue; // forgotten while this caller looked it up: reserve afresh
                }
                reservation.LastUsed = Environment.TickCount64;
                return reservation.Epoch;
            }
        }
    }

    /// <summary>The epoch reserved for <paramref name="channel"/>, if any (marked used now), without reserving one.</summary>
    public string? TryUse(string channel)
    {
        if (!_reserved.TryGetValue(channel, out var reservation))
        {
            return null;
        }
        lock (reservation)
        {
            if (reservation.Forgotten)
            {
                return null;
            }
            reservation.LastUsed = Environment.TickCount64;
            return reservation.Epoch;
        }
    }

    /// <summary>Drops the reservation of <paramref name="channel"/> (its stream exists, or was removed and must get a new epoch).</summary>
    public void Remove(string channel)
    {
        if (_reserved.TryGetValue(channel, out var reservation))
        {
            lock (reservation)
            {
                reservation.Forgotten = true;
                _reserved.TryRemove(new KeyValuePair<string, Reservation>(channel, reservation));
            }
        }
    }

    /// <summary>
    /// Forgets reservations unused for <paramref name="idle"/> whose channel is not <paramref name="inUse"/> (has
    /// subscribers on this node); returns how many. A reservation handed out during the sweep is never forgotten: it was
    /// just used.
    /// </summary>
    public int Forget(TimeSpan idle, Func<string, bool> inUse)
    {
        var forgotten = 0;
        foreach (var (channel, reservation) in _reserved)
        {
            if (Environment.TickCount64 - Volatile.Read(ref reservation.LastUsed) < idle.TotalMilliseconds || inUse(channel))
            {
                continue;
            }
            lock (reservation)
            {
                if (Environment.TickCount64 - reservation.LastUsed >= idle.TotalMilliseconds && !reservation.Forgotten)
                {
                    reservation.Forgotten = true;
                    _reserved.TryRemove(new KeyValuePair<string, Reservation>(channel, reservation));
                    forgotten++;
                }
            }
        }
        return forgotten;
    }

    private sealed class Reservation(string epoch)
    {
        public readonly string Epoch = epoch;
        public long LastUsed = Environment.TickCount64;
        public bool Forgotten;
    }
}
