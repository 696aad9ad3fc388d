using Herald.Core.Engine;
using Herald.Core.Hub;

namespace Herald.Core.Tests.Hub;

public sealed class TopicSubscriptionsTests
{
    /// <summary>A broker whose subscribe and unsubscribe calls complete only when the test says, recording their order.</summary>
    private sealed class SlowBroker : IBroker
    {
        public List<string> Calls { get; } = [];

        public System.Collections.Concurrent.ConcurrentQueue<TaskCompletionSource> Pending { get; } = new();

        public bool FailNext { get; set; }

        public bool IsConnected => true;

        public void Start(IBrokerListener listener)
        {
        }

        public ValueTask<StreamPosition> PublishAsync(BrokerTopic topic, BrokerMessage message, RetentionLimits? stream, CancellationToken cancellation = default) =>
            throw new NotSupportedException();

        public ValueTask SubscribeAsync(BrokerTopic topic, CancellationToken cancellation = default) => Record("+" + topic.Name);

        public ValueTask UnsubscribeAsync(BrokerTopic topic) => Record("-" + topic.Name);

        private ValueTask Record(string call)
        {
            lock (Calls)
            {
                Calls.Add(call);
            }
            if (FailNext)
            {
                FailNext = false;
                return ValueTask.FromException(new StoreUnavailableException("broker down"));
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Pending.Enqueue(done);
            return new ValueTask(done.Task);
        }

        public void CompleteAll()
        {
            while (Pending.TryDequeue(out var done))
            {
                done.SetResult();
            }
        }
    }

    [Fact]
    public async Task Subscribe_and_unsubscribe_run_one_after_another_and_the_last_wanted_state_wins()
    {
        var broker = new SlowBroker();
        var wanted = false;
        var topics = new TopicSubscriptions(broker, _ => wanted, (_, _) => { });
        var topic = BrokerTopic.Channel("c");

        wanted = true;
        topics.Reconcile(topic);
        wanted = false;
        topics.Reconcile(topic);
        wanted = true;
        topics.Reconcile(topic);
        topics.Reconcile(topic); // no change: nothing queued

        // Only the first call was made: the others wait for it.
        Assert.Equal(["+c"], broker.Calls);
        await Until(() =>
        {
            broker.CompleteAll();
            return broker.Calls.Count == 3 && broker.Pending.IsEmpty;
        }, () => string.Join(",", broker.Calls));
        await topics.ReadyAsync(topic).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["+c", "-c", "+c"], broker.Calls);
        Assert.Equal(1, topics.Count);
        Assert.Equal([topic], topics.Subscribed());
    }

    [Fact]
    public async Task A_failed_subscribe_is_reported_to_the_waiter_and_retried_by_the_next_reconcile()
    {
        var broker = new SlowBroker { FailNext = true };
        var failures = new List<BrokerTopic>();
        var topics = new TopicSubscriptions(broker, _ => true, (t, _) => failures.Add(t));
        var topic = BrokerTopic.User("u");

        topics.Reconcile(topic);
        await Assert.ThrowsAsync<StoreUnavailableException>(() => topics.ReadyAsync(topic).WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal([topic], failures);
        Assert.Equal(0, topics.Count);

        topics.Reconcile(topic);
        await Until(() => broker.Pending.Count > 0);
        broker.CompleteAll();
        await topics.ReadyAsync(topic).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, topics.Count);
    }

    [Fact]
    public async Task Unsubscribed_topics_are_forgotten()
    {
        var broker = new SlowBroker();
        var wanted = true;
        var topics = new TopicSubscriptions(broker, _ => wanted, (_, _) => { });
        for (var i = 0; i < 100; i++)
        {
            var topic = BrokerTopic.Channel("c" + i);
            wanted = true;
            topics.Reconcile(topic);
            wanted = false;
            topics.Reconcile(topic);
        }
        while (broker.Calls.Count < 200 || broker.Pending.Count > 0)
        {
            broker.CompleteAll();
            await Task.Yield();
        }
        await Until(() => topics.Count == 0 && topics.ReadyAsync(BrokerTopic.Channel("c99")).IsCompleted);
        Assert.Empty(topics.Subscribed());
    }

    private static async Task Until(Func<bool> condition, Func<string>? state = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out " + state?.Invoke());
            await Task.Delay(5);
        }
    }
}
