using System.Collections.Concurrent;

namespace Herald.Core.Connections;

/// <summary>Every open connection of this node by id. Thread-safe.</summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, Connection> _byId = new(StringComparer.Ordinal);

    public int Count => _byId.Count;

    public void Add(Connection connection) => _byId[connection.Id] = connection;

    public bool Remove(Connection connection) => _byId.TryRemove(new KeyValuePair<string, Connection>(connection.Id, connection));

    public bool TryGet(string id, out Connection connection) => _byId.TryGetValue(id, out connection!);

    /// <summary>A live view; safe to enumerate while connections come and go.</summary>
    public IEnumerable<Connection> All
    {
        get
        {
            foreach (var pair in _byId)
            {
                yield return pair.Value;
            }
        }
    }
}
