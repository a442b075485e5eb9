using System.Net;
using Lb.AspNetCore.Options;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Lb.AspNetCore.Proxy;

/// <summary>
/// Decides which client address the balancers see. Forwarding headers (<c>Forwarded: for=</c>, then
/// <c>X-Forwarded-For</c>) are believed only from peers listed in <see cref="ProxyOptions.TrustedProxies"/>;
/// from anyone else they could be used to pick a backend at will (seed contract §13.15).
/// </summary>
internal sealed class ClientAddressResolver
{
    private readonly IPNetwork[] _trusted;

    public ClientAddressResolver(IOptions<ProxyOptions> options)
    {
        _trusted = options.Value.TrustedProxies
            .Select(t => IPNetwork.TryParse(t, out var network) ? network : new IPNetwork(IPAddress.Parse(t), IPAddress.Parse(t).AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            .ToArray();
    }

    public (IPAddress? Address, int Port) Resolve(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (peer is null || _trusted.Length == 0 || !IsTrusted(peer))
        {
            return (peer, context.Connection.RemotePort);
        }
        var headers = context.Request.Headers;
        return Resolve(peer, context.Connection.RemotePort,
            headers.TryGetValue("Forwarded", out var forwarded) ? forwarded.ToString() : null,
            headers.TryGetValue("X-Forwarded-For", out var xff) ? xff.ToString() : null);
    }

    /// <summary>The same decision from the peer and the raw header values (joined with commas), for the connection-level proxy.</summary>
    public (IPAddress? Address, int Port) Resolve(IPAddress? peer, int peerPort, string? forwarded, string? xForwardedFor)
    {
        if (peer is null || _trusted.Length == 0 || !IsTrusted(peer))
        {
            return (peer, peerPort);
        }
        // Each proxy appends the address it received from, so only the right end of the list was written by proxies we
        // trust; the client is the rightmost entry that is not one of them. Anything left of it is the client's own word.
        if (forwarded is not null && Rightmost(ForwardedFor(forwarded)) is { } fromForwarded)
        {
            return (fromForwarded, 0);
        }
        if (xForwardedFor is not null && Rightmost(xForwardedFor.Split(',')) is { } fromXff)
        {
            return (fromXff, 0);
        }
        return (peer, peerPort);
    }

    /// <summary>
    /// Walks the hops from the right, skipping trusted proxies; returns the first other address, or the leftmost if
    /// every hop is trusted. An entry that is not an address ends the walk at the last trusted hop (null: the peer).
    /// </summary>
    private IPAddress? Rightmost(IReadOnlyList<string> hops)
    {
        IPAddress? lastTrusted = null;
        for (var i = hops.Count - 1; i >= 0; i--)
        {
            if (Clean(hops[i]) is not { } address)
            {
                return lastTrusted;
            }
            if (!IsTrusted(address))
            {
                return address;
            }
            lastTrusted = address;
        }
        return lastTrusted;
    }

    private bool IsTrusted(IPAddress peer)
    {
        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }
        foreach (var network in _trusted)
        {
            if (network.Contains(peer))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The <c>for=</c> value of each forwarded-element, in order (an element without one counts as unknown).</summary>
    private static List<string> ForwardedFor(string value)
    {
        var hops = new List<string>();
        foreach (var element in value.Split(','))
        {
            var hop = "";
            foreach (var pair in element.Split(';'))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0 && pair[..eq].Trim().Equals("for", StringComparison.OrdinalIgnoreCase))
                {
                    hop = pair[(eq + 1)..];
                    break;
                }
            }
            hops.Add(hop);
        }
        return hops;
    }

    /// <summary>Strips spaces, quotes, brackets and a port; obfuscated identifiers (<c>_x</c>) and garbage give null.</summary>
    private static IPAddress? Clean(string raw)
    {
        var value = raw.Trim().Trim('"').Trim();
        if (value.Length == 0 || value[0] == '_')
        {
            return null;
        }
        if (value[0] == '[')
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            value = close > 0 ? value[1..close] : value[1..];
        }
        else if (value.Count(c => c == ':') == 1)
        {
            value = value[..value.IndexOf(':', StringComparison.Ordinal)];
        }
        return IPAddress.TryParse(value, out var address) ? address : null;
    }
}
