using DotNext.Net.Cluster.Consensus.Raft;
using Lb.Core.Cluster;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Core.Validation;
using Lb.Raft.Node;
using Lb.Raft.StateMachine;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Store;

/// <summary>
/// The desired-state store of a cluster member. Reads are local. A write on the leader is proposed directly; on a
/// follower it is forwarded to the leader; either way the call returns only after the entry is applied on this node
/// (read-your-writes). Without a quorum a write gives up after <see cref="WriteTimeout"/> with
/// <see cref="StoreWriteStatus.Unavailable"/> and code <c>no_quorum</c> instead of hanging.
/// </summary>
internal sealed partial class RaftDesiredStateStore : IDesiredStateStore, IDesiredStateChangeStore, IDesiredStateHistory, IClusterStatusView, ILeadershipView, IAsyncDisposable
{
    public const string NoQuorumCode = "no_quorum";
    public const string RemovedCode = "node_removed";

    private readonly RaftNode _node;
    private readonly IPeerClient _forwarder;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _raftDataDir;

    public RaftDesiredStateStore(RaftNode node, IPeerClient forwarder, ILogger logger, TimeProvider time, TimeSpan writeTimeout, string raftDataDir)
    {
        _node = node;
        _forwarder = forwarder;
        _logger = logger;
        _time = time;
        _raftDataDir = raftDataDir;
        WriteTimeout = writeTimeout;
        _node.Removed += OnRemoved;
        _leaseLoop = LeaseLoopAsync(_stopping.Token);
    }

    /// <summary>How long a write may wait for a leader and a quorum before it fails.</summary>
    public TimeSpan WriteTimeout { get; }

    internal RaftNode Node => _node;

    public VersionedDesiredState Current => _node.Current;

    public ValueTask<VersionedDesiredState> WaitForChangeAsync(long knownVersion, CancellationToken cancellationToken = default) =>
        _node.Signal.WaitForChangeAsync(knownVersion, cancellationToken);

    public ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion = null, CancellationToken cancellationToken = default) =>
        PutAsync(state, expectedVersion, "api", cancellationToken);

    public int HistoryLimit => _node.History.Limit;

    public IReadOnlyList<DesiredStateHistorySummary> GetHistory() => [.. _node.History.Entries.Select(e => e.ToSummary())];

    public ValueTask<DesiredStateHistoryEntry?> FindVersionAsync(long version, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_node.History.Find(version) is { } entry
            ? new DesiredStateHistoryEntry(entry.Version, entry.WrittenAt, entry.Origin, entry.State)
            : null);

    public async ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        var normalized = Lb.Core.Json.DesiredStateJson.Normalize(state);
        var current = Current;
        PutCommand command;
        ValidationResult validation;
        // An edit of the current version that differs from it by a few routes or pools goes into the log as a change:
        // the other nodes then parse, validate and rebuild only what changed. The compare-and-set on the version makes
        // it the same write as the whole document.
        if (expectedVersion == current.Version && current.Version > 0 && SamePolicies(normalized, current.State)
            && ConfigChange.Between(current.State.Config, normalized.Config) is { } change)
        {
            var next = current.State with { Config = change.ApplyTo(current.State.Config) };
            validation = _node.Settings.Validator.ValidateChange(current.State, next, change);
            command = PutCommand.CreateChange(change, expectedVersion, origin ?? "", _time.GetUtcNow());
        }
        else
        {
            // Validate before proposing so a bad document costs no log entry; the state machine stays the authority.
            validation = _node.Settings.Validator.Validate(normalized);
            command = PutCommand.Create(normalized, expectedVersion, origin ?? "", _time.GetUtcNow());
        }
        if (!validation.IsValid)
        {
            return new StoreWriteResult { Status = StoreWriteStatus.Invalid, Current = Current, Validation = validation, Message = "validation failed" };
        }
        return await SubmitAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Logs <paramref name="change"/> as a change entry: every node applies it to the state current at commit time (with
    /// <paramref name="expectedVersion"/>: only to that version) and validates only what it changes.
    /// </summary>
    public async ValueTask<StoreWriteResult> ApplyChangeAsync(ConfigChange change, long? expectedVersion, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        var current = Current;
        if (expectedVersion is null || expectedVersion == current.Version)
        {
            // Checked against this node's state before proposing, so a bad change usually costs no log entry. Only a
            // compare-and-set on this very version makes that verdict final; otherwise the state machine decides (this
            // node may lag behind a write the change depends on).
            var validation = _node.Settings.Validator.ValidateChange(current.State, current.State with { Config = change.ApplyTo(current.State.Config) }, change);
            if (!validation.IsValid && expectedVersion == current.Version)
            {
                return new StoreWriteResult { Status = StoreWriteStatus.Invalid, Current = current, Validation = validation, Message = "validation failed" };
            }
        }
        return await SubmitAsync(PutCommand.CreateChange(change, expectedVersion, origin ?? "", _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes <paramref name="adminUrl"/> the URL other members forward writes to (and records it for this node's next
    /// start): proposed through the log unless it is published already, retried until a leader takes it or the store
    /// stops. A member restarted with its admin listener on port 0 or on a new address calls this once it listens.
    /// </summary>
    public async Task PublishAdminUrlAsync(string adminUrl, CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        try
        {
            await File.WriteAllTextAsync(_node.Settings.AdminUrlFile, adminUrl, both.Token).ConfigureAwait(false);
            for (var attempt = 1; !_node.IsRemoved; attempt++)
            {
                if (_node.PublishedAdminUrls.TryGetValue(_node.Settings.NodeId, out var published) && published == adminUrl)
                {
                    return;
                }
                var result = await SubmitAsync(PutCommand.CreateAdminUrl(_node.Settings.NodeId, adminUrl, _time.GetUtcNow()), both.Token).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * Math.Min(attempt, 10)), _time, both.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException)
        {
            LogAdminUrlNotPublished(_logger, adminUrl, ex.GetType().Name);
        }
    }

    [LoggerMessage(EventId = 4023, Level = LogLevel.Warning, Message = "This node's admin URL {AdminUrl} was not published to the cluster ({Reason}); writes forwarded to it may fail until it restarts")]
    private static partial void LogAdminUrlNotPublished(ILogger logger, string adminUrl, string reason);

    private static bool SamePolicies(DesiredState a, DesiredState b) =>
        a.Vip == b.Vip && a.RaftTiming == b.RaftTiming && string.Equals(a.StickySecret, b.StickySecret, StringComparison.Ordinal);

    private async ValueTask<StoreWriteResult> SubmitAsync(PutCommand command, CancellationToken cancellationToken)
    {
        if (_node.IsRemoved)
        {
            return new StoreWriteResult { Status = StoreWriteStatus.Unavailable, Current = Current, Code = RemovedCode,
                Message = "this node was removed from its cluster and accepts no writes; join it again (wipe its data directory first) or write to a member" };
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(WriteTimeout);
        try
        {
            var result = await WriteAsync(command, deadline.Token).ConfigureAwait(false);
            if (result.Status == StoreWriteStatus.Applied)
            {
                await WaitForVersionAsync(result.Version, deadline.Token).ConfigureAwait(false);
            }
            return ToResult(result);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            LogNoQuorum(_logger, WriteTimeout.TotalMilliseconds);
            return NoQuorum();
        }
    }

    /// <summary>
    /// Proposes a forwarded write on this node. Answers <see cref="StoreWriteStatus.NotLeader"/> without appending
    /// anything when this node does not lead, so the follower may try the next leader.
    /// </summary>
    public async Task<ForwardedWrite> ProposeForwardedAsync(PutCommand command, CancellationToken cancellationToken)
    {
        if (!_node.IsLeader)
        {
            return new ForwardedWrite(StoreWriteStatus.NotLeader, Current.Version, Message: "this node is not the leader");
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(WriteTimeout);
        try
        {
            return ForwardedWrite.From(await _node.ProposeAsync(command, deadline.Token).ConfigureAwait(false));
        }
        catch (NotLeaderException)
        {
            return new ForwardedWrite(StoreWriteStatus.Unavailable, Current.Version, Message: "leadership was lost during the write; it may or may not have been applied");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new ForwardedWrite(StoreWriteStatus.Unavailable, Current.Version, Message: NoQuorumMessage);
        }
    }

    private async Task<ForwardedWrite> WriteAsync(PutCommand command, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_node.IsLeader)
            {
                try
                {
                    return ForwardedWrite.From(await _node.ProposeAsync(command, cancellationToken).ConfigureAwait(false));
                }
                catch (NotLeaderException)
                {
                    // The entry may have been appended before leadership was lost: retrying could apply it twice.
                    return new ForwardedWrite(StoreWriteStatus.Unavailable, Current.Version, Message: "leadership was lost during the write; it may or may not have been applied");
                }
            }
            var leader = await _node.WaitForLeaderAsync(cancellationToken).ConfigureAwait(false);
            leader = leader with { AdminUrl = _node.AdminUrlOf(leader.NodeId, leader.AdminUrl) };
            if (leader.IsLocal)
            {
                // Elected, but the first entry of the term is not committed yet: IsLeader turns true in a moment.
                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (leader.AdminUrl is null)
            {
                return new ForwardedWrite(StoreWriteStatus.Unavailable, Current.Version,
                    Message: $"the leader {leader.NodeId ?? leader.RaftAddress} published no admin address to forward the write to");
            }
            ForwardedWrite answer;
            try
            {
                answer = await _forwarder.ForwardAsync(leader, command, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                LogForwardFailed(_logger, ex, leader.AdminUrl);
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (answer.Status == StoreWriteStatus.NotLeader)
            {
                // Nothing was appended there; wait for the new leader to be known and try again.
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                continue;
            }
            return answer;
        }
    }

    private async Task WaitForVersionAsync(long version, CancellationToken cancellationToken)
    {
        var current = Current;
        while (current.Version < version)
        {
            current = await _node.Signal.WaitForChangeAsync(current.Version, cancellationToken).ConfigureAwait(false);
        }
    }

    private StoreWriteResult ToResult(ForwardedWrite answer) => new()
    {
        Status = answer.Status,
        Current = Current,
        Validation = answer.Validation,
        Message = answer.Message,
        Code = answer.Status == StoreWriteStatus.Unavailable ? NoQuorumCode : null,
    };

    private const string NoQuorumMessage = "no quorum: the cluster has no reachable leader with a majority; the write was not applied (the proxy keeps serving the last applied configuration)";

    private StoreWriteResult NoQuorum() => new() { Status = StoreWriteStatus.Unavailable, Current = Current, Code = NoQuorumCode, Message = NoQuorumMessage };

    /// <summary>
    /// Adds a running, empty node as a voter (this node must lead). DotNext occasionally reports a failed catch-up
    /// for a node that just started listening; a few attempts absorb that.
    /// </summary>
    public async Task<MembershipChange> AddMemberAsync(System.Net.EndPoint address, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (!_node.IsLeader)
            {
                return MembershipChange.NotLeader;
            }
            try
            {
                if (await _node.AddMemberAsync(address, cancellationToken).ConfigureAwait(false))
                {
                    return MembershipChange.Done;
                }
            }
            catch (NotLeaderException)
            {
                return MembershipChange.NotLeader;
            }
            if (_node.Cluster.Members.Any(m => System.Net.EndPoint.Equals(m.EndPoint, address)) || attempt == 5)
            {
                return _node.Cluster.Members.Any(m => Equals(m.EndPoint, address)) ? MembershipChange.Done : MembershipChange.Failed;
            }
            await Task.Delay(100 * attempt, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Removes the member whose node id or Raft address is <paramref name="member"/> (this node must lead), then tells
    /// it so it stops campaigning.
    /// </summary>
    public async Task<MembershipChange> RemoveMemberAsync(string member, CancellationToken cancellationToken)
    {
        if (!_node.IsLeader)
        {
            return MembershipChange.NotLeader;
        }
        // DotNext updates the member list shortly after a configuration commits: a member added a moment ago may not be
        // listed yet, so look a few times before calling it unknown.
        var raftMember = await _node.FindMemberAsync(member, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; raftMember is null && attempt < 5; attempt++)
        {
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            raftMember = await _node.FindMemberAsync(member, cancellationToken).ConfigureAwait(false);
        }
        if (raftMember is null)
        {
            return MembershipChange.UnknownMember;
        }
        if (!raftMember.IsRemote)
        {
            return MembershipChange.IsLeader;
        }
        var metadata = raftMember.TryGetMetadata();
        var adminUrl = _node.AdminUrlOf(metadata?.GetValueOrDefault(Membership.MemberMetadata.NodeIdKey), metadata?.GetValueOrDefault(Membership.MemberMetadata.AdminUrlKey));
        try
        {
            if (!await _node.RemoveMemberAsync(raftMember.EndPoint, cancellationToken).ConfigureAwait(false))
            {
                return MembershipChange.Failed;
            }
        }
        catch (NotLeaderException)
        {
            return MembershipChange.NotLeader;
        }
        if (adminUrl is not null)
        {
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(TimeSpan.FromSeconds(2));
                await _forwarder.NotifyRemovedAsync(adminUrl, cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
            {
                LogRemovedNoticeFailed(_logger, ex, member);
            }
        }
        return MembershipChange.Done;
    }


    [LoggerMessage(EventId = 4022, Level = LogLevel.Warning, Message = "Could not tell removed member {Member} that it was removed; it keeps campaigning until it is stopped")]
    private static partial void LogRemovedNoticeFailed(ILogger logger, Exception exception, string member);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Warning, Message = "A write found no leader with a quorum within {TimeoutMs} ms")]
    private static partial void LogNoQuorum(ILogger logger, double timeoutMs);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Debug, Message = "Forwarding a write to the leader at {AdminUrl} failed; retrying")]
    private static partial void LogForwardFailed(ILogger logger, Exception exception, string adminUrl);
}
