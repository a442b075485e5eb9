using System.Net;
using System.Net.Sockets;

namespace Lb.Core.Spec;

/// <summary>Host-name syntax shared by validation and routing.</summary>
internal static class HostNames
{
    /// <summary>
    /// The form a route host is matched in: lower-case, IPv6 without brackets. Wildcards keep their
    /// <c>*.</c> prefix.
    /// </summary>
    public static string Normalize(string host)
    {
        var h = host.Trim();
        if (h.Length > 1 && h[0] == '[' && h[^1] == ']')
        {
            h = h[1..^1];
        }
        return h.ToLowerInvariant();
    }

    /// <summary>True for <c>*.example.com</c>-style hosts.</summary>
    public static bool IsWildcard(string host) => host.StartsWith("*.", StringComparison.Ordinal);

    /// <summary>Checks a configured route host: a DNS name, an IP literal or <c>*.</c> followed by a DNS name.</summary>
    /// <returns>null when valid, otherwise what is wrong.</returns>
    internal static string? CheckRouteHost(string host)
    {
        if (IsWildcard(host))
        {
            var rest = host[2..];
            if (rest.Contains('*', StringComparison.Ordinal))
            {
                return "only one leading '*.' label is allowed";
            }
            return IsDnsName(rest) ? null : "the part after '*.' must be a DNS name";
        }
        if (host.Contains('*', StringComparison.Ordinal))
        {
            return "a wildcard must be a whole leading label, as in *.example.com";
        }
        var bare = host.Length > 1 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        if (IPAddress.TryParse(bare, out var ip) && (ip.AddressFamily == AddressFamily.InterNetworkV6 || bare.Count(c => c == '.') == 3))
        {
            return null;
        }
        return IsDnsName(host) ? null : "not a valid host name (letters, digits, '-', '_' and dots; labels up to 63 characters)";
    }

    /// <summary>True for a syntactically valid target host: a DNS name or an IP literal (IPv6 without brackets).</summary>
    internal static bool IsValidTargetHost(string host) =>
        (IPAddress.TryParse(host, out var ip) && (ip.AddressFamily == AddressFamily.InterNetworkV6 || host.Count(c => c == '.') == 3))
        || IsDnsName(host);

    internal static bool IsDnsName(string name)
    {
        if (name.Length is 0 or > 253 || name.EndsWith('.') || name.StartsWith('.'))
        {
            return false;
        }
        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }
            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                {
                    return false;
                }
            }
        }
        return true;
    }
}
