using System.Text;
using Herald.Core.Connections;

namespace Herald.Fuzz;

/// <summary>
/// Connections that publishes in the seeds reach: a native client of user <c>42</c> subscribed to <c>news</c>, a plain
/// client with the attributes <c>{"school_id":"2"}</c>, and a plain client subscribed to <c>news</c> by its token (plain
/// clients get a string publication's text itself, so they take another path). After each input, whatever they
/// received must be what a conforming client accepts.
/// </summary>
internal sealed class Subscribers
{
    private readonly FuzzNode _node;
    private (Connection Connection, ClientFrames Frames) _native;
    private (Connection Connection, ClientFrames Frames) _plain;
    private (Connection Connection, ClientFrames Frames) _plainNews;

    public Subscribers(FuzzNode node)
    {
        _node = node;
        Open();
    }

    /// <summary>Throws a <see cref="FuzzFinding"/> when a subscriber received a frame a conforming client rejects.</summary>
    public void CheckAndClear()
    {
        _native.Frames.CheckAndClear("a native subscriber");
        _plain.Frames.CheckAndClear("a plain subscriber");
        _plainNews.Frames.CheckAndClear("a plain subscriber of news");
        if (_native.Connection.State != ConnectionState.Ready || _plain.Connection.State != ConnectionState.Ready
            || _plainNews.Connection.State != ConnectionState.Ready)
        {
            // They never answer the keep-alive: in a long fuzzing session the node closes them as stale.
            Open();
        }
    }

    private void Open()
    {
        _native = _node.OpenNative(token: FuzzNode.SignToken("{\"sub\":\"42\"}"u8));
        _node.Send(_native.Connection, Encoding.UTF8.GetBytes("{\"id\":2,\"method\":\"subscribe\",\"params\":{\"channel\":\"news\"}}"));
        _plain = _node.OpenPlain();
        _node.Send(_plain.Connection, Encoding.UTF8.GetBytes("{\"school_id\":\"2\"}"));
        _plainNews = _node.OpenPlain(FuzzNode.SignToken("{\"sub\":\"43\",\"channels\":[\"news\"]}"u8));
        _node.Log.ThrowIfAny();
        _native.Frames.CheckAndClear("a native subscriber");
        _plain.Frames.CheckAndClear("a plain subscriber");
        _plainNews.Frames.CheckAndClear("a plain subscriber of news");
        if (_native.Connection.State != ConnectionState.Ready || _plain.Connection.State != ConnectionState.Ready
            || _plainNews.Connection.State != ConnectionState.Ready)
        {
            throw new InvalidOperationException("the harness's subscribers did not connect");
        }
    }
}
