namespace Lb.Core.Admin;

/// <summary>Who may call an admin endpoint when the node has an <c>adminToken</c>.</summary>
public enum AdminAccess
{
    /// <summary>Open unless <c>adminReadRequiresToken</c> is set.</summary>
    Read,

    /// <summary>Needs the token whenever one is configured.</summary>
    Write,
}

/// <summary>Handles one admin request.</summary>
public delegate ValueTask<AdminResult> AdminHandler(AdminRequest request, CancellationToken cancellationToken);

/// <summary>One admin API operation on an exact path (seed contract §6.1: no trailing slashes, no patterns).</summary>
/// <param name="Method">HTTP method, e.g. <c>POST</c>.</param>
/// <param name="Path">Exact path, e.g. <c>/api/cluster/bootstrap</c>.</param>
/// <param name="Access">Whether the admin token is needed.</param>
/// <param name="Handler">The handler.</param>
public sealed record AdminEndpoint(string Method, string Path, AdminAccess Access, AdminHandler Handler);

/// <summary>
/// Adds a feature's endpoints to the admin API without knowing its transport (Lb.Raft adds bootstrap, join and
/// membership this way). Register with <c>builder.AddAdminEndpoints&lt;T&gt;()</c>.
/// </summary>
public interface IAdminEndpointContributor
{
    /// <summary>The feature the endpoints belong to (<see cref="AdminFeatures"/>); one contributor serves a feature.</summary>
    string Feature { get; }

    /// <summary>
    /// True for a standalone default: any other contributor of the same <see cref="Feature"/> replaces it, whatever
    /// the registration order.
    /// </summary>
    bool IsDefault { get; }

    /// <summary>The endpoints; read once when the admin API starts.</summary>
    IEnumerable<AdminEndpoint> GetEndpoints();
}

/// <summary>Feature names of admin endpoint groups.</summary>
public static class AdminFeatures
{
    /// <summary><c>POST /api/cluster/bootstrap</c>, <c>/api/node/join-cluster</c>, <c>/api/cluster/join</c> and membership changes.</summary>
    public const string ClusterLifecycle = "cluster-lifecycle";
}
