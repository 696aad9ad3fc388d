using Herald.Core.Channels;
using Herald.Core.Routing;
using Herald.Protocol;

namespace Herald.Fuzz.Targets;

/// <summary>
/// A publish body, as <c>POST /api/publish</c> and UDP carry it: the bytes pass the edge's text check
/// (<see cref="JsonText.TryValidate"/>, run once per HTTP body and per datagram) and go to <see cref="PublishRequestParser.TryParse"/>;
/// an accepted request is published on a real node with subscribers, who must receive only what a conforming client
/// accepts.
/// </summary>
internal sealed class PublishBodyTarget : FuzzTarget
{
    private readonly FaultLog _log = new();
    private readonly FuzzNode _node;
    private readonly Subscribers _subscribers;

    public PublishBodyTarget()
    {
        _node = new FuzzNode(_log);
        _subscribers = new Subscribers(_node);
    }


    public override void Run(byte[] input)
    {
        _log.Clear();
        if (!JsonText.TryValidate(input, out var textError))
        {
            if (textError.Length == 0)
            {
                throw new FuzzFinding("text refused without a message");
            }
            return; // refused with InvalidText (115) before parsing, as the HTTP API and UDP ingress do
        }
        if (!PublishRequestParser.TryParse(input, out var request, out var code, out var error))
        {
            if (code is <= ErrorCodes.Internal or >= 200 || error.Length == 0)
            {
                throw new FuzzFinding($"refused with code {code} and message \"{error}\"");
            }
            return;
        }
        if (request.Channels.Length > PublishRequestParser.MaxChannels || request.Users.Length > PublishRequestParser.MaxChannels)
        {
            throw new FuzzFinding($"{request.Channels.Length} channels and {request.Users.Length} users accepted");
        }
        foreach (var channel in request.Channels)
        {
            if (!ChannelName.IsValid(channel, out var channelError))
            {
                throw new FuzzFinding($"accepted channel \"{channel}\": {channelError}");
            }
        }
        if (request.Users.Any(u => u.Length == 0))
        {
            throw new FuzzFinding("accepted an empty user id");
        }
        _node.Node.PublishAsync(request).AsTask().GetAwaiter().GetResult();
        _log.ThrowIfAny();
        _subscribers.CheckAndClear();
    }

    public override void Dispose() => _node.Dispose();
}
