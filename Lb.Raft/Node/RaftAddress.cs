using System.Net;
using Lb.Core.Spec;

namespace Lb.Raft.Node;

/// <summary>Raft addresses in the contract's <c>host:port</c> form.</summary>
public static class RaftAddress
{
    /// <summary>
    /// Parses <c>host:port</c> (IP literal or host name; an empty host means all interfaces for a bind address).
    /// </summary>
    public static bool TryParse(string? text, out EndPoint endPoint)
    {
        endPoint = null!;
        if (string.IsNullOrWhiteSpace(text) || !HostPort.TrySplit(text.Trim(), out var host, out var portText)
            || !HostPort.TryParsePort(portText, out var port))
        {
            return false;
        }
        if (host.Length == 0)
        {
            endPoint = new IPEndPoint(IPAddress.Any, port);
            return true;
        }
        var bare = host.Trim('[', ']');
        if (IPAddress.TryParse(bare, out var ip))
        {
            endPoint = new IPEndPoint(ip, port);
            return true;
        }
        if (Uri.CheckHostName(bare) != UriHostNameType.Dns)
        {
            return false;
        }
        endPoint = new DnsEndPoint(bare, port);
        return true;
    }

    /// <summary>The <c>host:port</c> text of <paramref name="endPoint"/>.</summary>
    public static string Format(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => ip.ToString(),
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "",
    };

    /// <summary>
    /// The address to listen on: an IP end point (a host name is resolved once; the bind address must be local).
    /// </summary>
    public static async ValueTask<IPEndPoint> ResolveBindAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        switch (endPoint)
        {
            case IPEndPoint ip:
                return ip;
            case DnsEndPoint dns:
                var addresses = await Dns.GetHostAddressesAsync(dns.Host, cancellationToken).ConfigureAwait(false);
                var first = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
                    ?? throw new InvalidOperationException($"The Raft bind address '{Format(dns)}' does not resolve.");
                return new IPEndPoint(first, dns.Port);
            default:
                throw new ArgumentException($"Unsupported Raft address '{endPoint}'.", nameof(endPoint));
        }
    }
}
