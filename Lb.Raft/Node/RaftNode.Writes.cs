using System.Net;
using DotNext.Net.Cluster.Consensus.Raft;
using Lb.Raft.StateMachine;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Node;

internal sealed partial class RaftNode
{
    /// <summary>
    /// Appends <paramref name="command"/> on this node (it must lead), waits until it is committed and applied here,
    /// then pushes the new commit index to the followers at once so they apply within milliseconds rather than a
    /// heartbeat later.
    /// </summary>
    /// <exception cref="NotLeaderException">This node does not lead (any more).</exception>
    public async Task<ApplyOutcome> ProposeAsync(PutCommand command, CancellationToken cancellationToken)
    {
        var sink = new ApplySink();
        await _cluster.ReplicateAsync(command.Encode(), sink, cancellationToken).ConfigureAwait(false);
        var outcome = await sink.Outcome.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _cluster.ForceReplicationAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NotLeaderException or OperationCanceledException)
        {
            // Committed already; the followers learn the commit index with the next heartbeat.
            LogForceReplicationSkipped(_logger, ex.GetType().Name);
        }
        return outcome;
    }

    /// <summary>Adds a running, empty node as a voter (it is caught up first). This node must lead.</summary>
    public Task<bool> AddMemberAsync(EndPoint address, CancellationToken cancellationToken) =>
        _cluster.AddMemberAsync(address, cancellationToken);

    /// <summary>Removes a member. This node must lead.</summary>
    public Task<bool> RemoveMemberAsync(EndPoint address, CancellationToken cancellationToken) =>
        _cluster.RemoveMemberAsync(address, cancellationToken);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Debug, Message = "Forced replication after a write skipped ({Reason})")]
    private static partial void LogForceReplicationSkipped(ILogger logger, string reason);
}
