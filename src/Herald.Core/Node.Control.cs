using Herald.Core.Control;
using Herald.Core.Engine;
using Herald.Protocol;

namespace Herald.Core;

/// <summary>
/// Control commands from the backend (<see cref="ControlCommand"/>): applied to this node's connections of the target,
/// and in a cluster sent to every other node through the broker's broadcast topic, since a user's connections may be
/// on any node and a client id of another node is only found there.
/// </summary>
public sealed partial class Node
{
    /// <summary>
    /// Applies <paramref name="command"/> to this node's connections of its target and, in a cluster, has the other
    /// nodes apply it to theirs (not for a client id of this node: no other node holds it). Returns how many
    /// connections of this node it affected; the other nodes' are not counted.
    /// </summary>
    /// <exception cref="NodeRequestException">
    /// The command is not valid here (a channel in no namespace), or it was applied on this node but could not reach
    /// the others (<see cref="ErrorCodes.StoreUnavailable"/>).
    /// </exception>
    public async ValueTask<int> ControlAsync(ControlCommand command, CancellationToken cancellation = default)
    {
        var affected = _control.Apply(command, _control.Find(command.Target));
        if (_broker.IsLocal || IsOwnClient(command.Target))
        {
            return affected;
        }
        var message = new BrokerMessage { Kind = BrokerMessageKind.Control, Data = ControlCommandJson.Write(command), Origin = Id };
        try
        {
            await _broker.PublishAsync(BrokerTopic.Broadcast, message, null, cancellation).ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            StoreFailed(ex);
            throw new NodeRequestException(ErrorCodes.StoreUnavailable, "applied on this node only: the cluster's engine is unavailable: " + ex.Message);
        }
        return affected;
    }

    /// <summary>Applies a control command that another node received from the backend and sent through the broker.</summary>
    private void ApplyControl(byte[] command)
    {
        if (ControlCommandJson.Read(command, out var method) is not { } decoded)
        {
            NodeLog.UnknownControlCommand(_logger, method);
            return;
        }
        var targets = _control.Find(decoded.Target);
        if (targets.Count > 0) // nothing to do, and nothing to complain about (a channel in no namespace) on a node without them
        {
            _control.Apply(decoded, targets);
        }
    }

    private bool IsOwnClient(ControlTarget target) =>
        target.Kind == ControlTargetKind.Client && target.Id.StartsWith(_idPrefix, StringComparison.Ordinal);
}
