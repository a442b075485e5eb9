namespace Lb.AspNetCore.Options;

/// <summary>
/// Admin API access (<c>app.json</c> keys <c>adminToken</c>, <c>adminReadRequiresToken</c>), bound from the section given
/// to <c>AddLoadBalancer</c> and validated on start by <c>AddAspNetCore()</c>.
/// </summary>
public sealed class AdminOptions
{
    /// <summary>Bearer token required for admin writes when set (at least 16 characters).</summary>
    public string AdminToken { get; set; } = "";

    /// <summary>Also require <see cref="AdminToken"/> for admin reads.</summary>
    public bool AdminReadRequiresToken { get; set; }
}
