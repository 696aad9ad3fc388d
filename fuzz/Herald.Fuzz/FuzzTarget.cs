namespace Herald.Fuzz;

/// <summary>
/// One fuzz target: a parser that faces the network, fed one input at a time. <see cref="Run"/> returns normally when
/// the code under test accepted the input or refused it the documented way (a false result with an error, a close
/// code, an error reply); anything else is a finding and throws: an exception out of the parser, an error logged by
/// the server, a reply a conforming client would reject, a broken invariant, a hang.
/// </summary>
internal abstract class FuzzTarget : IDisposable
{
    /// <summary>Feeds one input; throws on a finding.</summary>
    public abstract void Run(byte[] input);

    /// <summary>Releases the node, sockets and timers the target holds.</summary>
    public virtual void Dispose()
    {
    }
}
