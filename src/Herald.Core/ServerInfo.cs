using System.Reflection;

namespace Herald.Core;

/// <summary>Facts about this build of Herald.</summary>
public static class ServerInfo
{
    /// <summary>The product version (from the assembly).</summary>
    public static readonly string Version =
        typeof(ServerInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
