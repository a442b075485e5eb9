using Lb.Core.Admin;
using Lb.Core.Node;
using Lb.Core.Store;
using System.Diagnostics.Metrics;
using Lb.Raft.Diagnostics;
using Lb.Raft.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Lifecycle;

/// <summary>
/// The cluster lifecycle on top of the Raft store: bootstrap and join (serialised per node), membership changes on
/// the leader, and the two internal endpoints members use among themselves (forwarded writes, removal notices).
/// Also reopens the store when a member restarts.
/// </summary>
internal sealed partial class RaftClusterLifecycle : IAdminEndpointContributor, IClusteredStoreProvider, IAdminListenerObserver
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly RaftStoreFactory factory;
    private readonly IServiceProvider services;
    private readonly ILogger<RaftClusterLifecycle> logger;

    public RaftClusterLifecycle(RaftStoreFactory factory, IServiceProvider services, ILogger<RaftClusterLifecycle> logger)
    {
        this.factory = factory;
        this.services = services;
        this.logger = logger;
        if (services.GetService<IMeterFactory>() is { } meters)
        {
            _ = new RaftMetrics(meters, () => (services.GetService<ActiveDesiredStateStore>()?.Inner as RaftDesiredStateStore)?.Node);
        }
    }

    public string Feature => AdminFeatures.ClusterLifecycle;

    public bool IsDefault => false;

    public IEnumerable<AdminEndpoint> GetEndpoints() =>
    [
        new AdminEndpoint("POST", "/api/cluster/bootstrap", AdminAccess.Write, BootstrapAsync),
        new AdminEndpoint("POST", "/api/node/join-cluster", AdminAccess.Write, JoinClusterAsync),
        new AdminEndpoint("POST", "/api/cluster/join", AdminAccess.Write, AddMemberAsync),
        new AdminEndpoint("POST", "/api/cluster/remove", AdminAccess.Write, RemoveMemberAsync),
        new AdminEndpoint("POST", HttpPeerClient.ProposePath, AdminAccess.Write, ProposeAsync),
        new AdminEndpoint("POST", HttpPeerClient.RemovedPath, AdminAccess.Write, RemovedAsync),
    ];

    public IDesiredStateStore OpenExisting(NodeDataDirectory directory) => factory.OpenExisting(directory);

    /// <summary>
    /// A member that restarted publishes where its admin API listens now (its Raft metadata still names the address of
    /// its first start when the listener is on port 0 or moved), so writes forwarded to it keep working.
    /// </summary>
    public void OnAdminListening(IReadOnlyList<string> urls)
    {
        if (services.GetService<ActiveDesiredStateStore>()?.Inner is not RaftDesiredStateStore raft || urls.Count == 0
            || !Uri.TryCreate(urls[0], UriKind.Absolute, out var bound))
        {
            return;
        }
        if (AdminUrls.FromListenAddress(bound.Authority, raft.Node.Settings.Advertise) is { } url)
        {
            _ = raft.PublishAdminUrlAsync(url, CancellationToken.None);
        }
    }

    private ActiveDesiredStateStore Active => services.GetRequiredService<ActiveDesiredStateStore>();

    /// <summary>The running Raft store, or null while the node is standalone.</summary>
    private RaftDesiredStateStore? Raft => Active.Inner as RaftDesiredStateStore;

    private static AdminResult AlreadyConfigured() =>
        AdminResult.Fail(409, "node already has raft state or a running raft node", "cluster_already_configured");

    private static AdminResult NotLeader(string? leaderAddress) =>
        AdminResult.Fail(409, "configuration writes must be sent to the raft leader", "not_raft_leader", leaderAddress: leaderAddress);

    private static AdminResult Internal(string message) => AdminResult.Fail(500, message, "internal_error");

    /// <summary>A join that Raft TLS refused (a certificate not from the cluster CA): final, never retried.</summary>
    private const string TlsRejectedCode = "raft_tls_rejected";

    [LoggerMessage(EventId = 4040, Level = LogLevel.Information, Message = "Bootstrapped a one-node cluster as {NodeId} at version {Version}")]
    private static partial void LogBootstrapped(ILogger logger, string nodeId, long version);

    [LoggerMessage(EventId = 4041, Level = LogLevel.Information, Message = "Joined the cluster as {NodeId} through {Peer}; desired state version {Version}")]
    private static partial void LogJoined(ILogger logger, string nodeId, string peer, long version);

    [LoggerMessage(EventId = 4042, Level = LogLevel.Warning, Message = "Bootstrap or join failed; the node stays standalone")]
    private static partial void LogLifecycleFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4043, Level = LogLevel.Information, Message = "Added {NodeId} ({Address}) as a voter")]
    private static partial void LogMemberAdded(ILogger logger, string nodeId, string address);

    [LoggerMessage(EventId = 4044, Level = LogLevel.Information, Message = "Removed member {Member}")]
    private static partial void LogMemberRemoved(ILogger logger, string member);
}
