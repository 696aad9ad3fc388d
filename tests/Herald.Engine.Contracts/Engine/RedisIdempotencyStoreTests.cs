using System.Text;
using Herald.Redis;
using Herald.Engine.Contracts.Infrastructure;

namespace Herald.Engine.Contracts.Engine;

/// <summary>Idempotency keys shared by the nodes of a cluster.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisIdempotencyStoreTests(RedisEngineFixture redis)
{
    [Fact]
    public async Task One_claim_wins_its_result_is_shared_and_only_a_pending_claim_can_be_released()
    {
        var prefix = RedisEngineFixture.NewPrefix();
        await using var a = await redis.ConnectAsync(new CapturedLogs(), prefix: prefix);
        await using var b = await redis.ConnectAsync(new CapturedLogs(), prefix: prefix);
        var window = TimeSpan.FromMinutes(1);

        var claims = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? a : b).Idempotency.TryClaimAsync("order-1", window).AsTask()));
        Assert.Single(claims, c => c);
        Assert.Null(await b.Idempotency.GetResultAsync("order-1").DefaultTimeout()); // still publishing

        await a.Idempotency.CompleteAsync("order-1", Encoding.UTF8.GetBytes("{\"c\":{}}"), window).DefaultTimeout();
        Assert.Equal("{\"c\":{}}", Encoding.UTF8.GetString((await b.Idempotency.GetResultAsync("order-1").DefaultTimeout())!));
        await b.Idempotency.ReleaseAsync("order-1").DefaultTimeout(); // a result is never released
        Assert.False(await b.Idempotency.TryClaimAsync("order-1", window).DefaultTimeout());

        Assert.True(await a.Idempotency.TryClaimAsync("order-2", window).DefaultTimeout());
        await a.Idempotency.ReleaseAsync("order-2").DefaultTimeout(); // the publish failed
        Assert.True(await b.Idempotency.TryClaimAsync("order-2", window).DefaultTimeout());
    }

    [Fact]
    public async Task Keys_are_forgotten_after_the_window()
    {
        await using var engine = await redis.ConnectAsync(new CapturedLogs());
        Assert.True(await engine.Idempotency.TryClaimAsync("k", TimeSpan.FromMilliseconds(100)).DefaultTimeout());
        await Task.Delay(300);
        Assert.True(await engine.Idempotency.TryClaimAsync("k", TimeSpan.FromMilliseconds(100)).DefaultTimeout());
    }
}
