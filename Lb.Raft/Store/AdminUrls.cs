using System.Net;
using Lb.Core.Spec;

namespace Lb.Raft.Store;

/// <summary>
/// Works out the admin URL other members use to reach this node (published in its Raft metadata, used for forwarded
/// writes). Loopback hosts are replaced by the Raft advertise host unless that is loopback too.
/// </summary>
internal static class AdminUrls
{
    /// <summary>From the dashboard listen address when it names a port (0 means "chosen at start": unknown here).</summary>
    public static string? FromListenAddress(string listen, EndPoint advertise)
    {
        if (!HostPort.TrySplit(listen, out var host, out var port) || port == "0" || !HostPort.TryParsePort(port, out _))
        {
            return null;
        }
        return Build(host, port, advertise);
    }

    /// <summary>From the <c>Host</c> header of the request that bootstraps or joins this node.</summary>
    public static string? FromHostHeader(string? hostHeader, EndPoint advertise)
    {
        if (string.IsNullOrEmpty(hostHeader) || !HostPort.TrySplit(hostHeader, out var host, out var port))
        {
            return null;
        }
        return Build(host, port, advertise);
    }

    private static string Build(string host, string port, EndPoint advertise)
    {
        var advertiseHost = advertise switch
        {
            IPEndPoint ip => ip.Address.ToString(),
            DnsEndPoint dns => dns.Host,
            _ => host,
        };
        var useAdvertise = host.Length == 0 || host is "0.0.0.0" or "::" or "*" || (IsLoopback(host) && !IsLoopback(advertiseHost));
        var chosen = useAdvertise ? advertiseHost : host;
        if (chosen.Contains(':', StringComparison.Ordinal))
        {
            chosen = $"[{chosen.Trim('[', ']')}]";
        }
        return $"http://{chosen}:{port}";
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
