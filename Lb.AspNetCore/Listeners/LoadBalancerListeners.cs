using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Lb.AspNetCore.Listeners;

/// <summary>
/// The addresses this host really listens on, by role, for <c>/api/status</c>: read from the server once it has bound
/// (so port 0 shows the port the kernel chose, and an embedding host's own listeners show instead of the boot file's).
/// A listener marked with <c>UseLoadBalancerAdmin()</c> is the admin listener; every other one serves the proxy.
/// </summary>
internal sealed class LoadBalancerListeners(IServiceProvider services)
{
    private readonly Lock _gate = new();
    private readonly List<ListenOptions> _admin = [];

    public void AddAdmin(ListenOptions listen)
    {
        lock (_gate)
        {
            if (!_admin.Contains(listen))
            {
                _admin.Add(listen);
            }
        }
    }

    /// <summary>Bound addresses as URLs (<c>http://127.0.0.1:8080</c>); both empty before the server has bound.</summary>
    public (IReadOnlyList<string> Proxy, IReadOnlyList<string> Admin) Current()
    {
        var addresses = (services.GetService(typeof(IServer)) as IServer)?.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null || addresses.Count == 0)
        {
            return ([], []);
        }
        List<EndPoint> adminEndPoints;
        lock (_gate)
        {
            adminEndPoints = [.. _admin.Select(l => l.EndPoint)];
        }
        var proxy = new List<string>();
        var admin = new List<string>();
        foreach (var address in addresses)
        {
            (IsAdmin(address, adminEndPoints) ? admin : proxy).Add(address);
        }
        return (proxy, admin);
    }

    /// <summary>
    /// "host:port" for the boot-file fields: the configured text when a listener of that role is bound on its port
    /// (what the reference prints), else the first bound address of that role, else the configured text.
    /// </summary>
    public static string Describe(string configured, IReadOnlyList<string> bound)
    {
        if (bound.Count == 0)
        {
            return configured;
        }
        var configuredPort = Lb.Core.Options.ListenAddress.TryParse(configured, out var address, out _) ? address!.Port : -1;
        foreach (var url in bound)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Port == configuredPort)
            {
                return configured;
            }
        }
        return Uri.TryCreate(bound[0], UriKind.Absolute, out var first) ? first.Authority : configured;
    }

    private static bool IsAdmin(string url, List<EndPoint> adminEndPoints)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }
        foreach (var endPoint in adminEndPoints)
        {
            if (endPoint is IPEndPoint ip && ip.Port == uri.Port)
            {
                return true;
            }
        }
        return false;
    }
}
