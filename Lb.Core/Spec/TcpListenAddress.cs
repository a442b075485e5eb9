using System.Net;

namespace Lb.Core.Spec;

/// <summary>Parses a TCP listener's <c>listen</c> value; shared by validation and the listener that binds it.</summary>
internal static class TcpListenAddress
{
    /// <summary>The host of <c>*:port</c> (and <c>:port</c>): every interface.</summary>
    public const string AnyHost = "*";

    /// <summary>
    /// Splits <paramref name="value"/> into a host (an IP literal in canonical form, <c>localhost</c> or
    /// <see cref="AnyHost"/>) and a port 0..65535; on failure <paramref name="problem"/> says what is wrong.
    /// </summary>
    public static bool TryParse(string? value, out string host, out int port, out string problem)
    {
        host = "";
        port = 0;
        if (string.IsNullOrWhiteSpace(value))
        {
            problem = "must not be empty";
            return false;
        }
        if (!HostPort.TrySplit(value, out var h, out var p) || p.Length == 0)
        {
            problem = $"'{value}' is not in host:port form";
            return false;
        }
        if (p != "0" && !HostPort.TryParsePort(p, out port))
        {
            problem = "port must be a number between 0 and 65535 (0 binds a free port)";
            return false;
        }
        if (h.Length == 0 || h == AnyHost)
        {
            host = AnyHost;
        }
        else if (string.Equals(h, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            host = "localhost";
        }
        else if (IPAddress.TryParse(h, out var ip) && (value.StartsWith('[') == (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)))
        {
            host = ip.ToString();
        }
        else
        {
            problem = $"host '{h}' must be an IP address, localhost or * (a listener binds local addresses, not DNS names)";
            return false;
        }
        problem = "";
        return true;
    }
}
