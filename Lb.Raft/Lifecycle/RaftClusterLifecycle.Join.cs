using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Lb.Core.Admin;
using Lb.Core.Node;
using Lb.Core.Spec;
using Lb.Raft.Node;
using Lb.Raft.Store;
using Lb.Raft.Timing;

namespace Lb.Raft.Lifecycle;

internal sealed partial class RaftClusterLifecycle
{
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CatchUpWait = TimeSpan.FromSeconds(15);

    private async ValueTask<AdminResult> JoinClusterAsync(AdminRequest request, CancellationToken cancellationToken)
    {
        if (!RequestChecks.TryParse(request.Body, LifecycleJsonContext.Default.JoinClusterRequest, out var body, out var error))
        {
            return error!;
        }
        var peers = body.Peers?.Where(p => !string.IsNullOrWhiteSpace(p)).ToList() ?? [];
        if (string.IsNullOrWhiteSpace(body.NodeId) || string.IsNullOrWhiteSpace(body.RaftAdvertiseAddr) || peers.Count == 0)
        {
            return AdminResult.Fail(400, "node_id, raft_advertise_addr, and peers are required", "invalid_request");
        }
        if (RequestChecks.NodeId(body.NodeId) is { } badId)
        {
            return badId;
        }
        var (advertise, badAddress) = await RequestChecks.AddressAsync("raft_advertise_addr", body.RaftAdvertiseAddr, cancellationToken).ConfigureAwait(false);
        if (badAddress is not null)
        {
            return badAddress;
        }
        var bind = BindAddress(body.RaftBindAddr, advertise!);
        if (bind is null)
        {
            return AdminResult.Fail(400, "raft_bind_addr must be a host:port TCP address", "invalid_raft_address");
        }
        if (RequestChecks.Vip(null, body.VipInterface) is { } badInterface)
        {
            return badInterface;
        }
        if (peers.FirstOrDefault(p => !Uri.TryCreate(p, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https")) is { } badPeer)
        {
            return AdminResult.Fail(400, "peers must be absolute http(s) admin URLs", "invalid_request",
                [new AdminFieldError("peers", $"'{badPeer}' is not an absolute http(s) URL", "invalid_request", "e.g. http://10.0.0.11:9090")]);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var active = Active;
            if (active.Mode != NodeMode.Standalone)
            {
                return AlreadyConfigured();
            }
            var local = active.Current;
            if (!body.Force && (local.State.Config.Routes.Count > 0 || local.State.Config.UpstreamPools.Count > 0))
            {
                return AdminResult.Fail(409,
                    $"this node holds a configuration (version {local.Version}); joining replaces it with the cluster's. Join with --force (\"force\": true) to discard it",
                    "local_config_not_empty");
            }
            var (timing, peerError) = await ReadClusterTimingAsync(peers, cancellationToken).ConfigureAwait(false);
            if (peerError is not null)
            {
                return peerError;
            }

            var dataDir = factory.Node.DataDir;
            RaftNodeSettings.DeleteRaftState(dataDir);
            var adminUrl = AdminUrls.FromHostHeader(request.Headers.GetValueOrDefault("Host"), advertise!);
            var store = await factory.StartAsync(dataDir, body.NodeId, bind, advertise!, adminUrl, coldStart: false, timing, standby: false, cancellationToken)
                .ConfigureAwait(false);
            var handedOver = false;
            try
            {
                var refusedBefore = store.Node.TlsRejections?.Count ?? 0;
                AdminResult? RefusedByTls() => store.Node.TlsRejections is { } refused && refused.Count > refusedBefore
                    ? AdminResult.Fail(500, $"join failed: this node's Raft TLS refused the {refused.Last}", TlsRejectedCode)
                    : null;
                var (peer, joinError) = await AskToBeAddedAsync(peers, body.NodeId, RaftAddress.Format(advertise!), RefusedByTls, cancellationToken).ConfigureAwait(false);
                if (joinError is not null)
                {
                    return joinError;
                }
                await CatchUpAsync(store, cancellationToken).ConfigureAwait(false);
                var identity = new NodeIdentity(body.NodeId, RaftAddress.Format(bind), RaftAddress.Format(advertise!));
                var adopted = await active.AdoptAsync(identity, (_, _) => ValueTask.FromResult<Lb.Core.Store.IDesiredStateStore>(store), cancellationToken)
                    .ConfigureAwait(false);
                handedOver = true;
                LogJoined(logger, body.NodeId, peer!, adopted.Version);
                return AdminResult.NoContent();
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogLifecycleFailed(logger, ex);
                return Internal($"join failed: {ex.Message}");
            }
            finally
            {
                if (!handedOver)
                {
                    await store.DisposeAsync().ConfigureAwait(false);
                    RaftNodeSettings.DeleteRaftState(dataDir);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The first peer that answers <c>GET /api/cluster</c> gives the cluster's timing (absent: defaults).</summary>
    private async Task<(RaftTiming? Timing, AdminResult? Error)> ReadClusterTimingAsync(IReadOnlyList<string> peers, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var peer in peers)
        {
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(PeerTimeout);
                using var response = await factory.Http.GetAsync(PeerUrl(peer, "/api/cluster"), cts.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    failures.Add($"{peer}: {(int)response.StatusCode}");
                    continue;
                }
                using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false), default, cts.Token).ConfigureAwait(false);
                if (!doc.RootElement.TryGetProperty("raft_timing", out var t) || t.ValueKind != JsonValueKind.Object)
                {
                    return (null, null);
                }
                var policy = new RaftTimingPolicy
                {
                    HeartbeatTimeout = Text(t, "heartbeat_timeout"),
                    ElectionTimeout = Text(t, "election_timeout"),
                    LeaderLeaseTimeout = Text(t, "leader_lease_timeout"),
                    CommitTimeout = Text(t, "commit_timeout"),
                };
                return RaftTiming.TryCreate(policy, out var timing, out _) ? (timing, null) : (null, null);
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{peer}: {ex.Message}");
            }
        }
        return (null, Internal($"no peer answered GET /api/cluster ({string.Join("; ", failures)}); nothing was started"));

        static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }

    /// <summary>
    /// Asks each peer in turn to add this node; the first success wins. A leader change while a member is being added
    /// (the new member is slow at first, the leader may step down) answers <c>not_raft_leader</c> or 5xx: those are
    /// retried for <see cref="PeerTimeout"/>; another refusal is returned at once, else the first HTTP failure. A
    /// certificate refused by either side's Raft TLS (<paramref name="refusedByTls"/>, or the leader's
    /// <c>raft_tls_rejected</c>) ends it at once: no retry can pass it.
    /// </summary>
    private async Task<(string? Peer, AdminResult? Error)> AskToBeAddedAsync(IReadOnlyList<string> peers, string nodeId, string raftAddress, Func<AdminResult?> refusedByTls,
        CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new MemberJoinRequest { NodeId = nodeId, RaftAddress = raftAddress }, LifecycleJsonContext.Default.MemberJoinRequest);
        AdminResult? firstHttpFailure = null;
        var deadline = DateTime.UtcNow + PeerTimeout;
        while (true)
        {
            foreach (var peer in peers)
            {
                var (status, json, transportError) = await PostAsync(PeerUrl(peer, "/api/cluster/join"), payload, cancellationToken).ConfigureAwait(false);
                if (transportError is null && status is >= 200 and < 300)
                {
                    return (peer, null);
                }
                if (transportError is not null)
                {
                    continue;
                }
                var failure = json.Length > 0 ? new AdminResult { StatusCode = status, Json = json } : AdminResult.Fail(status, $"raft join request failed with status {status}");
                firstHttpFailure ??= failure;
                var text = System.Text.Encoding.UTF8.GetString(json.Span);
                var retryable = (status >= 500 && !text.Contains($"\"{TlsRejectedCode}\"", StringComparison.Ordinal))
                    || (status == 409 && text.Contains("\"not_raft_leader\"", StringComparison.Ordinal));
                if (!retryable)
                {
                    return (null, failure);
                }
            }
            if (refusedByTls() is { } refused)
            {
                return (null, refused);
            }
            if (DateTime.UtcNow > deadline)
            {
                return (null, firstHttpFailure ?? Internal("no peer could be reached to add this node; check the --peer admin URLs"));
            }
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until this new member applied everything the leader had committed.</summary>
    private static async Task CatchUpAsync(RaftDesiredStateStore store, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(CatchUpWait);
        while (true)
        {
            try
            {
                await store.Node.Cluster.ApplyReadBarrierAsync(DotNext.Net.Cluster.Consensus.Raft.ReadBarrierType.Strong, cts.Token).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is DotNext.Net.Cluster.Consensus.Raft.QuorumUnreachableException or HttpRequestException or IOException or DotNext.Net.Cluster.MemberUnavailableException)
            {
                await Task.Delay(50, cts.Token).ConfigureAwait(false);
            }
        }
    }

    private async Task<(int Status, ReadOnlyMemory<byte> Json, Exception? TransportError)> PostAsync(Uri url, byte[] payload, CancellationToken cancellationToken)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(PeerTimeout);
            using var content = new ByteArrayContent(payload);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
            if (factory.AdminToken is { Length: > 0 } token)
            {
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            using var response = await factory.Http.SendAsync(message, cts.Token).ConfigureAwait(false);
            return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (0, default, ex);
        }
    }

    /// <summary>A peer's admin base URL plus <paramref name="path"/> (a URL already ending in the path is used as is).</summary>
    private static Uri PeerUrl(string peer, string path)
    {
        var trimmed = peer.TrimEnd('/');
        foreach (var known in new[] { "/api/cluster/join", "/api/cluster" })
        {
            if (trimmed.EndsWith(known, StringComparison.Ordinal))
            {
                trimmed = trimmed[..^known.Length];
                break;
            }
        }
        return new Uri(trimmed + path);
    }
}
