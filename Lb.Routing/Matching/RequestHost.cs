namespace Lb.Routing.Matching;

/// <summary>Reduces a request <c>Host</c> value to the part routes match on, without allocating.</summary>
internal static class RequestHost
{
    /// <summary>
    /// Drops a port when the value splits as <c>host:port</c> with both parts non-empty (the rules of Go's
    /// <c>net.SplitHostPort</c>, as the contract asks), then IPv6 brackets, then one trailing dot. Case is
    /// left alone: the host dictionaries compare case-insensitively.
    /// </summary>
    public static ReadOnlySpan<char> Normalize(ReadOnlySpan<char> value)
    {
        var host = StripPort(value);
        if (host.Length > 1 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }
        if (host.Length > 1 && host[^1] == '.')
        {
            host = host[..^1];
        }
        return host;
    }

    private static ReadOnlySpan<char> StripPort(ReadOnlySpan<char> value)
    {
        var lastColon = value.LastIndexOf(':');
        if (lastColon < 0)
        {
            return value;
        }
        ReadOnlySpan<char> host;
        if (value[0] == '[')
        {
            var close = value.IndexOf(']');
            if (close < 0 || close + 1 != lastColon)
            {
                return value;
            }
            host = value[1..close];
            if (host.IndexOfAny('[', ']') >= 0)
            {
                return value;
            }
        }
        else
        {
            host = value[..lastColon];
            // A second colon means a bare IPv6 address such as ::1, which has no port to strip.
            if (host.IndexOfAny(':', '[', ']') >= 0)
            {
                return value;
            }
        }
        var port = value[(lastColon + 1)..];
        if (host.IsEmpty || port.IsEmpty || port.IndexOfAny('[', ']') >= 0)
        {
            return value;
        }
        return host;
    }
}
