namespace Herald.Configuration;

/// <summary>A configuration value is wrong; the message names the key, where it came from and what is allowed.</summary>
internal sealed class ConfigException(string message) : Exception(message);
