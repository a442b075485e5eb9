namespace Lb.Core.Admin;

/// <summary>
/// Admin API access (<c>app.json</c> keys <c>adminToken</c>, <c>adminReadRequiresToken</c>, <c>adminInsecure</c>), bound from the section given
/// to <c>AddLoadBalancer</c> and validated on start. In Core because the admin API checks the token and cluster
/// members present it to each other (Lb.Raft's forwarded writes and joins).
/// </summary>
public sealed class AdminOptions
{
    /// <summary>Bearer token required for admin writes when set (at least 16 characters).</summary>
    public string AdminToken { get; set; } = "";

    /// <summary>Also require <see cref="AdminToken"/> for admin reads.</summary>
    public bool AdminReadRequiresToken { get; set; }

    /// <summary>
    /// Without <see cref="AdminToken"/> the admin API binds loopback only, and an explicit non-loopback
    /// <c>dashboardListenAddr</c> is refused. True lifts both: anyone who reaches the port can change the routes.
    /// </summary>
    public bool AdminInsecure { get; set; }
}
