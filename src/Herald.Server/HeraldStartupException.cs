namespace Herald.Server;

/// <summary>The server cannot start; the message says what to change.</summary>
public sealed class HeraldStartupException(string message, Exception? inner = null) : Exception(message, inner);
