using System.Globalization;

namespace Lb.Core.Spec;

/// <summary>Splits <c>host:port</c> and <c>[ipv6]:port</c> the way Go's <c>net.SplitHostPort</c> does.</summary>
internal static class HostPort
{
    /// <summary>
    /// Splits <paramref name="value"/> into host and port. Fails for a missing colon, a bare IPv6 address
    /// (<c>::1:80</c>) or unbalanced brackets. Host or port may come back empty.
    /// </summary>
    public static bool TrySplit(string value, out string host, out string port)
    {
        host = port = "";
        var lastColon = value.LastIndexOf(':');
        if (lastColon < 0)
        {
            return false;
        }
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 != lastColon)
            {
                return false;
            }
            host = value[1..close];
            if (host.Contains('[', StringComparison.Ordinal) || host.Contains(']', StringComparison.Ordinal))
            {
                return false;
            }
        }
        else
        {
            host = value[..lastColon];
            if (host.Contains(':', StringComparison.Ordinal) || host.Contains('[', StringComparison.Ordinal) || host.Contains(']', StringComparison.Ordinal))
            {
                return false;
            }
        }
        port = value[(lastColon + 1)..];
        return !port.Contains('[', StringComparison.Ordinal) && !port.Contains(']', StringComparison.Ordinal);
    }

    /// <summary>Parses a TCP port number 1..65535 written in plain decimal.</summary>
    public static bool TryParsePort(string port, out int value)
    {
        value = 0;
        return port.Length is > 0 and <= 5
            && port.All(char.IsAsciiDigit)
            && int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out value)
            && value is >= 1 and <= 65535;
    }
}
