using System.Collections.Concurrent;

namespace Herald.Core.Engine;

/// <summary>
/// The epochs a single-node history store reserves in memory for channels it has no stream for: the epoch a channel's
/// first publication will get, handed to whoever subscribes before it (so they recover from it). Anyone may subscribe
/// to any name, so reservations are forgotten once unused for a while by a channel nobody here is subscribed to
/// (<see cref="Forget"/>); a client that comes back later then recovers with <c>recovered:false</c>, as after a restart.
/// Thread-safe. Idle times are measured with the owner store's <see cref="TimeProvider"/>.
/// </summary>
public sealed class EpochReservations(TimeProvider? time = null)
{
    private readonly ConcurrentDictionary<string, Reservation> _reserved = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Reservations held now.</summary>
    public int Count => _reserved.Count;

    /// <summary>The epoch reserved for <paramref name="channel"/>, reserving a new one when there is none; marks it used now.</summary>
    public string Reserve(string channel)
    {
        while (true)
        {
            var reservation = _reserved.GetOrAdd(channel, static (_, time) => new Reservation(Epochs.New(), time.GetTimestamp()), _time);
            lock (reservation)
            {
                if (reservation.Forgotten)
                {
                    continue; // forgotten while this caller looked it up: reserve afresh
                }
                reservation.LastUsed = _time.GetTimestamp();
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
            reservation.LastUsed = _time.GetTimestamp();
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
            if (_time.GetElapsedTime(Volatile.Read(ref reservation.LastUsed)) < idle || inUse(channel))
            {
                continue;
            }
            lock (reservation)
            {
                if (_time.GetElapsedTime(reservation.LastUsed) >= idle && !reservation.Forgotten)
                {
                    reservation.Forgotten = true;
                    _reserved.TryRemove(new KeyValuePair<string, Reservation>(channel, reservation));
                    forgotten++;
                }
            }
        }
        return forgotten;
    }

    private sealed class Reservation(string epoch, long created)
    {
        public readonly string Epoch = epoch;

        /// <summary>When it was last handed out (a <see cref="TimeProvider"/> timestamp).</summary>
        public long LastUsed = created;
        public bool Forgotten;
    }
}
