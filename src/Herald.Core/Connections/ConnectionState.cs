namespace Herald.Core.Connections;

/// <summary>Life cycle of a connection; it only moves forward.</summary>
public enum ConnectionState
{
    /// <summary>Not yet authenticated (a native one before <c>connect</c>, a plain one while its token is checked): it receives nothing.</summary>
    AwaitingConnect,

    /// <summary>Ready: receives publications.</summary>
    Ready,

    /// <summary>The server is closing it: nothing new is queued.</summary>
    Closing,

    /// <summary>Gone; removed from every table.</summary>
    Closed,
}
