using System.Net.Http.Json;
using System.Text.Json;

namespace Herald.LoadTest;

/// <summary>The running server's counters from <c>POST /api/info</c> (no API key needed from loopback).</summary>
internal sealed record ServerCounters(long Publishes, long Deliveries, long SlowConsumers, int Connections)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static async Task<ServerCounters> ReadAsync(int port)
    {
        using var response = await Http.PostAsync($"http://127.0.0.1:{port}/api/info", JsonContent.Create(new { }));
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        var root = document.RootElement;
        return new ServerCounters(root.GetProperty("publishes").GetInt64(), root.GetProperty("deliveries").GetInt64(),
            root.GetProperty("slow_consumers").GetInt64(), root.GetProperty("connections").GetInt32());
    }
}
