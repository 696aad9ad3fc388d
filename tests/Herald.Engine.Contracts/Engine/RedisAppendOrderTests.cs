using Herald.Redis.Internal;

namespace Herald.Engine.Contracts.Engine;

/// <summary>
/// The Redis history store answers appends on the thread pool, where a later reply could be handled first; these
/// show the ordering that keeps "appends to one channel complete in offset order" without relying on timing.
/// </summary>
public sealed class RedisAppendOrderTests
{
    private static TaskCompletionSource<int> Reply() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task Appends_of_one_stream_complete_in_the_order_sent_whatever_order_their_replies_come_in()
    {
        var order = new AppendOrder();
        var replies = new[] { Reply(), Reply(), Reply() };
        var other = Reply();
        var appends = replies.Select(reply => order.SendAsync("orders", () => reply.Task)).ToArray();
        var otherStream = order.SendAsync("news", () => other.Task);

        replies[2].SetResult(3);
        replies[1].SetResult(2);
        other.SetResult(9);
        var unrelated = await otherStream.DefaultTimeout();
        await Task.Delay(50);
        var earlyCompleted = appends.Count(a => a.IsCompleted);
        replies[0].SetResult(1);

        Assert.Equal(9, unrelated);
        Assert.Equal(0, earlyCompleted);
        Assert.Equal(new[] { 1, 2, 3 }, await Task.WhenAll(appends).DefaultTimeout());
        await Timeouts.UntilAsync(() => Task.FromResult(order.PendingStreams == 0), "the order forgot the completed streams");
    }

    [Fact]
    public async Task A_failed_append_fails_alone_and_the_next_one_still_completes_after_it()
    {
        var order = new AppendOrder();
        var failing = Reply();
        var next = Reply();
        var first = order.SendAsync("orders", () => failing.Task);
        var second = order.SendAsync("orders", () => next.Task);

        next.SetResult(2);
        failing.SetException(new InvalidOperationException("lost"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => first.DefaultTimeout());
        Assert.Equal(2, await second.DefaultTimeout());
    }
}
