using System.Buffers;
using System.Text.Json;
using Lb.Core.Admin;
using Lb.Raft.Node;
using Lb.Raft.StateMachine;
using Lb.Raft.Store;

namespace Lb.Raft.Lifecycle;

internal sealed partial class RaftClusterLifecycle
{
    private async ValueTask<AdminResult> AddMemberAsync(AdminRequest request, CancellationToken cancellationToken)
    {
        if (!RequestChecks.TryParse(request.Body, LifecycleJsonContext.Default.MemberJoinRequest, out var body, out var error))
        {
            return error!;
        }
        if (string.IsNullOrWhiteSpace(body.NodeId) || string.IsNullOrWhiteSpace(body.RaftAddress))
        {
            return AdminResult.Fail(400, "node_id and raft_address are required", "invalid_request");
        }
        if (RequestChecks.NodeId(body.NodeId) is { } badId)
        {
            return badId;
        }
        var (address, badAddress) = await RequestChecks.AddressAsync("raft_address", body.RaftAddress, cancellationToken).ConfigureAwait(false);
        if (badAddress is not null)
        {
            return badAddress;
        }
        if (Raft is not { } raft)
        {
            return NotLeader(null);
        }
        if (!raft.Node.IsLeader)
        {
            return await RelayToLeaderAsync(raft, request, cancellationToken).ConfigureAwait(false);
        }
        var refusedBefore = raft.Node.TlsRejections?.Count ?? 0;
        return await raft.AddMemberAsync(address!, cancellationToken).ConfigureAwait(false) switch
        {
            MembershipChange.Done => Added(body.NodeId, body.RaftAddress),
            MembershipChange.NotLeader => NotLeader(raft.Node.Leader?.RaftAddress),
            // Final, so the joining node stops retrying at once: no retry passes a certificate check.
            _ when raft.Node.TlsRejections is { } refused && refused.Count > refusedBefore => AdminResult.Fail(500,
                $"the leader could not add {body.NodeId} at {body.RaftAddress}: its Raft TLS refused the {refused.Last}", TlsRejectedCode),
            _ => Internal($"the leader could not add {body.NodeId} at {body.RaftAddress}: it did not catch up; check that its Raft port is reachable from the leader{(raft.Node.Settings.Tls is null ? "" : " and that its raftTlsCertificate is issued by this cluster's raftTlsCa (the leader logs a rejected certificate as event 4060)")}"),
        };
    }

    private AdminResult Added(string nodeId, string address)
    {
        LogMemberAdded(logger, nodeId, address);
        return AdminResult.NoContent();
    }

    private async ValueTask<AdminResult> RemoveMemberAsync(AdminRequest request, CancellationToken cancellationToken)
    {
        if (!RequestChecks.TryParse(request.Body, LifecycleJsonContext.Default.MemberRemoveRequest, out var body, out var error))
        {
            return error!;
        }
        if (string.IsNullOrWhiteSpace(body.NodeId))
        {
            return AdminResult.Fail(400, "node_id is required", "invalid_request");
        }
        if (Raft is not { } raft)
        {
            return AdminResult.Fail(409, "this node is not a cluster member", "cluster_not_configured");
        }
        if (!raft.Node.IsLeader)
        {
            return await RelayToLeaderAsync(raft, request, cancellationToken).ConfigureAwait(false);
        }
        var result = await raft.RemoveMemberAsync(body.NodeId, cancellationToken).ConfigureAwait(false);
        if (result == MembershipChange.Done)
        {
            LogMemberRemoved(logger, body.NodeId);
        }
        return result switch
        {
            MembershipChange.Done => AdminResult.NoContent(),
            MembershipChange.UnknownMember => AdminResult.Fail(404, $"no member has node id or Raft address '{body.NodeId}'", "unknown_member"),
            MembershipChange.IsLeader => AdminResult.Fail(409, $"'{body.NodeId}' is the leader; stop it so another member leads, then remove it there", "cannot_remove_leader"),
            MembershipChange.NotLeader => NotLeader(raft.Node.Leader?.RaftAddress),
            _ => Internal($"removing '{body.NodeId}' did not commit"),
        };
    }

    /// <summary>A follower passes a membership request on to the leader's admin API and relays its answer.</summary>
    private async Task<AdminResult> RelayToLeaderAsync(RaftDesiredStateStore raft, AdminRequest request, CancellationToken cancellationToken)
    {
        LeaderInfo? leader;
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            wait.CancelAfter(raft.WriteTimeout);
            try
            {
                leader = await raft.Node.WaitForLeaderAsync(wait.Token).ConfigureAwait(false);
                leader = leader with { AdminUrl = raft.Node.AdminUrlOf(leader.NodeId, leader.AdminUrl) };
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                leader = null;
            }
        }
        if (leader is null || leader.IsLocal || leader.AdminUrl is null)
        {
            return NotLeader(leader?.RaftAddress);
        }
        var (status, json, transportError) = await PostAsync(new Uri(leader.AdminUrl.TrimEnd('/') + request.Path), request.Body.ToArray(), cancellationToken).ConfigureAwait(false);
        return transportError is null
            ? new AdminResult { StatusCode = status, Json = json }
            : NotLeader(leader.RaftAddress);
    }

    private async ValueTask<AdminResult> ProposeAsync(AdminRequest request, CancellationToken cancellationToken)
    {
        ProposeRequest? body = null;
        try
        {
            body = JsonSerializer.Deserialize(request.Body.Span, RaftJsonContext.Default.ProposeRequest);
        }
        catch (JsonException)
        {
        }
        PutCommand? command = null;
        if (body?.Command is { } encoded)
        {
            try
            {
                command = PutCommand.Decode(new ReadOnlySequence<byte>(Convert.FromBase64String(encoded)));
            }
            catch (FormatException)
            {
            }
        }
        if (command is null)
        {
            return AdminResult.Fail(400, "invalid JSON request body");
        }
        var reply = Raft is { } raft
            ? await raft.ProposeForwardedAsync(command, cancellationToken).ConfigureAwait(false)
            : new ForwardedWrite(Lb.Core.Store.StoreWriteStatus.NotLeader, 0, Message: "this node is not a cluster member");
        return AdminResult.Ok(ForwardReply.From(reply), RaftJsonContext.Default.ForwardReply);
    }

    private ValueTask<AdminResult> RemovedAsync(AdminRequest request, CancellationToken cancellationToken)
    {
        if (Raft is not { } raft)
        {
            return ValueTask.FromResult(AdminResult.Fail(409, "this node is not a cluster member", "cluster_not_configured"));
        }
        raft.Node.MarkRemoved();
        return ValueTask.FromResult(AdminResult.NoContent());
    }
}
