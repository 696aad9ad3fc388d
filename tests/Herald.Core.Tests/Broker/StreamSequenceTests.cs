using System.Text;
using Herald.Core.Engine;

namespace Herald.Core.Tests.Broker;

public sealed class StreamSequenceTests
{
    private static BrokerMessage At(ulong offset, string epoch = "e1") =>
        new() { Kind = BrokerMessageKind.Publication, Data = Encoding.UTF8.GetBytes("1"), Offset = offset, Epoch = epoch };

    [Fact]
    public void Only_a_jump_past_the_next_offset_of_the_same_epoch_is_a_gap()
    {
        var sequence = new StreamSequence();
        Assert.Null(sequence.Next(At(7))); // the first one of a subscription starts anywhere
        Assert.Null(sequence.Next(At(8)));
        Assert.Null(sequence.Next(new BrokerMessage { Kind = BrokerMessageKind.Frame, Data = [] })); // no offset: not counted
        Assert.Null(sequence.Next(At(5))); // late or repeated: not a gap, and it does not move the mark back
        Assert.Equal("offset 11 arrived after 8", sequence.Next(At(11)));
        Assert.Null(sequence.Next(At(12)));
        Assert.Null(sequence.Next(At(1, "e2"))); // a new epoch starts again
        Assert.Null(sequence.Next(At(2, "e2")));
    }
}
