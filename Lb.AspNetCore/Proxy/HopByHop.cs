using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Proxy;

/// <summary>Removes the headers a <c>Connection</c> header names (RFC 9110 §7.6.1), without allocating for the usual <c>keep-alive</c>/<c>close</c>.</summary>
internal static class HopByHop
{
    /// <summary>Removes from an outgoing request the headers <paramref name="connection"/> lists; true if it listed X-Forwarded-For.</summary>
    public static bool RemoveListed(string? connection, HttpRequestHeaders headers, HttpContentHeaders? contentHeaders)
    {
        var droppedXff = false;
        foreach (var range in Tokens(connection))
        {
            var name = connection.AsSpan(range).ToString();
            droppedXff |= name.Equals("X-Forwarded-For", StringComparison.OrdinalIgnoreCase);
            headers.Remove(name);
            contentHeaders?.Remove(name);
        }
        return droppedXff;
    }

    /// <summary>Removes from a response to the client the headers <paramref name="connection"/> lists.</summary>
    public static void RemoveListed(string? connection, IHeaderDictionary headers)
    {
        foreach (var range in Tokens(connection))
        {
            headers.Remove(connection.AsSpan(range).ToString());
        }
    }

    /// <summary>
    /// The listed names worth removing: connection options (<c>keep-alive</c>, <c>close</c>) and the hop-by-hop headers
    /// YARP already handles (<c>upgrade</c> must survive for WebSockets) are skipped.
    /// </summary>
    private static List<Range> Tokens(string? connection)
    {
        List<Range>? tokens = null;
        var span = connection.AsSpan();
        var start = 0;
        while (start <= span.Length)
        {
            var comma = span[start..].IndexOf(',');
            var end = comma < 0 ? span.Length : start + comma;
            var token = span[start..end].Trim();
            if (token.Length > 0 && !IsHandledElsewhere(token))
            {
                var offset = start + span[start..end].IndexOf(token);
                (tokens ??= []).Add(new Range(offset, offset + token.Length));
            }
            start = end + 1;
        }
        return tokens ?? Empty;
    }

    private static readonly List<Range> Empty = [];

    private static bool IsHandledElsewhere(ReadOnlySpan<char> token) =>
        token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase) || token.Equals("close", StringComparison.OrdinalIgnoreCase)
        || token.Equals("upgrade", StringComparison.OrdinalIgnoreCase) || token.Equals("te", StringComparison.OrdinalIgnoreCase)
        || token.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase) || token.Equals("host", StringComparison.OrdinalIgnoreCase);
}
