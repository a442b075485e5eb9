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
        await PushCommitAsync(cancellationToken).ConfigureAwait(false);
        return outcome;
    }

    /// <summary>
    /// Adds a running, empty node as a voter (it is caught up first), then pushes the commit to every member, so the
    /// new configuration is in force on all of them when this returns. This node must lead.
    /// </summary>
    public async Task<bool> AddMemberAsync(EndPoint address, CancellationToken cancellationToken)
    {
        var added = await _cluster.AddMemberAsync(address, cancellationToken).ConfigureAwait(false);
        if (added)
        {
            // DotNext puts a configuration in force on a member when it learns the commit: until the next heartbeat
            // the new member would not campaign and the others would not ask it for votes, so a leader dying in that
            // moment left two live members of three unable to elect anyone until it came back.
            await PushCommitAsync(cancellationToken).ConfigureAwait(false);
        }
        return added;
    }

    /// <summary>Removes a member, then pushes the commit to the rest (as <see cref="AddMemberAsync"/>). This node must lead.</summary>
    public async Task<bool> RemoveMemberAsync(EndPoint address, CancellationToken cancellationToken)
    {
        var removed = await _cluster.RemoveMemberAsync(address, cancellationToken).ConfigureAwait(false);
        if (removed)
        {
            await PushCommitAsync(cancellationToken).ConfigureAwait(false);
        }
        return removed;
    }

    /// <summary>Sends the commit index to the followers now rather than a heartbeat later.</summary>
    private async Task PushCommitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _cluster.ForceReplicationAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NotLeaderException or OperationCanceledException)
        {
            // Committed already; the followers learn the commit index with the next heartbeat.
            LogForceReplicationSkipped(_logger, ex.GetType().Name);
        }
    }

    [LoggerMessage(EventId = 4015, Level = LogLevel.Debug, Message = "Forced replication after a write or membership change skipped ({Reason})")]
    private static partial void LogForceReplicationSkipped(ILogger logger, string reason);
}
