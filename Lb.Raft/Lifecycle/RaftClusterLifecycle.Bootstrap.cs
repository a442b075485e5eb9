using System.Net;
using Lb.Core.Admin;
using Lb.Core.Node;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Raft.Node;
using Lb.Raft.StateMachine;
using Lb.Raft.Store;
using Lb.Raft.Timing;

namespace Lb.Raft.Lifecycle;

internal sealed partial class RaftClusterLifecycle
{
    private static readonly TimeSpan LeadershipWait = TimeSpan.FromSeconds(5);

    private async ValueTask<AdminResult> BootstrapAsync(AdminRequest request, CancellationToken cancellationToken)
    {
        if (!RequestChecks.TryParse(request.Body, LifecycleJsonContext.Default.BootstrapRequest, out var body, out var error))
        {
            return error!;
        }
        if (string.IsNullOrWhiteSpace(body.NodeId) || string.IsNullOrWhiteSpace(body.RaftAdvertiseAddr))
        {
            return AdminResult.Fail(400, "node_id and raft_advertise_addr are required", "invalid_request");
        }
        if (body.Vip is not null && string.IsNullOrWhiteSpace(body.VipInterface))
        {
            return AdminResult.Fail(400, "vip_interface is required when vip is provided", "invalid_request");
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
        if (!RaftTiming.TryCreate(body.RaftTiming, out var timing, out var timingError))
        {
            return AdminResult.Fail(400, timingError!, "invalid_raft_timing", [new AdminFieldError("raft_timing", timingError!, "invalid_raft_timing")]);
        }
        if (RequestChecks.Vip(body.Vip, body.VipInterface) is { } badVip)
        {
            return badVip;
        }
        var bind = BindAddress(body.RaftBindAddr, advertise!);
        if (bind is null)
        {
            return AdminResult.Fail(400, "raft_bind_addr must be a host:port TCP address", "invalid_raft_address");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var active = Active;
            if (active.Mode != NodeMode.Standalone)
            {
                return AlreadyConfigured();
            }
            var adminUrl = AdminUrls.FromHostHeader(request.Headers.GetValueOrDefault("Host"), advertise!);
            var identity = new NodeIdentity(body.NodeId, RaftAddress.Format(bind), RaftAddress.Format(advertise!));
            VersionedDesiredState adopted;
            try
            {
                adopted = await active.HandOverAsync(identity, (seed, ct) => OpenSeededAsync(seed, body.NodeId, bind, advertise!, adminUrl, timing, ct), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Net.Sockets.SocketException or TimeoutException)
            {
                LogLifecycleFailed(logger, ex);
                return Internal($"bootstrap failed: {ex.Message}");
            }
            if (body.RaftTiming is not null || body.Vip is not null)
            {
                // Cluster-wide policy lives in the replicated state, so joiners and restarts see it.
                var current = active.Current;
                var policy = current.State with
                {
                    RaftTiming = body.RaftTiming is null ? current.State.RaftTiming : timing.ToPolicy(),
                    Vip = body.Vip ?? current.State.Vip,
                };
                var write = await active.PutAsync(policy, current.Version, cancellationToken).ConfigureAwait(false);
                if (!write.Succeeded)
                {
                    return Internal($"the cluster exists, but storing its raft_timing/vip policy failed: {write.Message}");
                }
            }
            LogBootstrapped(logger, body.NodeId, adopted.Version);
            return AdminResult.NoContent();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts a one-node cluster and writes the standalone state into it with the same version.</summary>
    private async ValueTask<IDesiredStateStore> OpenSeededAsync(VersionedDesiredState seed, string nodeId, EndPoint bind, EndPoint advertise,
        string? adminUrl, RaftTiming timing, CancellationToken cancellationToken)
    {
        RaftNodeSettings.DeleteRaftState(factory.Node.DataDir);
        var store = await factory.StartAsync(factory.Node.DataDir, nodeId, bind, advertise, adminUrl, coldStart: true, timing, standby: false, cancellationToken)
            .ConfigureAwait(false);
        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(LeadershipWait);
            await store.Node.WaitForLeadershipAsync(wait.Token).ConfigureAwait(false);
            // The standalone state, plus the sticky-cookie secret every member will share: this node's own, so the
            // cookies it issued while standalone stay valid (an empty standalone node still writes version 1 for it).
            var state = seed.State.StickySecret is null
                ? seed.State with { StickySecret = StickySecretFile.LoadOrCreate(factory.Node.DataDir) }
                : seed.State;
            var outcome = await store.Node.ProposeAsync(PutCommand.Create(state, null, "cluster bootstrap (the standalone configuration)", factory.Time.GetUtcNow(), seed.Version), wait.Token)
                .ConfigureAwait(false);
            if (outcome.Status != ApplyStatus.Applied)
            {
                throw new InvalidOperationException($"the one-node cluster refused the current configuration ({outcome.Message})");
            }
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            RaftNodeSettings.DeleteRaftState(factory.Node.DataDir);
            throw;
        }
    }

    private static EndPoint? BindAddress(string? requested, EndPoint advertise)
    {
        if (!string.IsNullOrWhiteSpace(requested))
        {
            return RaftAddress.TryParse(requested, out var bind) ? bind : null;
        }
        var port = advertise switch
        {
            IPEndPoint ip => ip.Port,
            DnsEndPoint dns => dns.Port,
            _ => 7000,
        };
        // The contract's default: all interfaces on the advertised port. Pass raft_bind_addr to keep Raft on a private interface.
        return new IPEndPoint(IPAddress.Any, port);
    }
}
