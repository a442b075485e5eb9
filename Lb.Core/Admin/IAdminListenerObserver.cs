namespace Lb.Core.Admin;

/// <summary>
/// Told where this node's admin listener really listens once the host has started (a port 0 resolved to the port the
/// kernel chose), so a clustered store can publish the address its peers forward writes to.
/// </summary>
public interface IAdminListenerObserver
{
    /// <summary>Called once after start with the bound admin URLs (e.g. <c>http://127.0.0.1:41873</c>).</summary>
    void OnAdminListening(IReadOnlyList<string> urls);
}
