namespace Lb.Core.Admin;

/// <summary>
/// Cluster lifecycle on a node without a clustered store: bootstrap and join answer 501 with what to add. Lb.Raft's
/// contributor for <see cref="AdminFeatures.ClusterLifecycle"/> replaces these.
/// </summary>
internal sealed class StandaloneClusterLifecycleEndpoints : IAdminEndpointContributor
{
    public string Feature => AdminFeatures.ClusterLifecycle;

    public bool IsDefault => true;

    public IEnumerable<AdminEndpoint> GetEndpoints()
    {
        AdminHandler notAvailable = static (_, _) => ValueTask.FromResult(AdminResult.Fail(501,
            "this node runs standalone on the file store; clustering needs the Lb.Raft store (.AddRaftStore())", "raft_not_available"));
        return
        [
            new AdminEndpoint("POST", "/api/cluster/bootstrap", AdminAccess.Write, notAvailable),
            new AdminEndpoint("POST", "/api/node/join-cluster", AdminAccess.Write, notAvailable),
            new AdminEndpoint("POST", "/api/cluster/join", AdminAccess.Write, notAvailable),
        ];
    }
}
