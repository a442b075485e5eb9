using System.Buffers;
using System.Text;

namespace Lb.AspNetCore.FastPath;

/// <summary>Headers the proxy acts on; every other header is copied through by its bytes and never named.</summary>
internal enum HeaderKind : byte
{
    Other,
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    KeepAlive,
    ProxyConnection,
    TE,
    Trailer,
    Upgrade,
    Expect,
    XForwardedFor,
    XForwardedProto,
    XForwardedHost,
    Forwarded,
    Cookie,
    NodeHeader,
    Http2Settings,
}

/// <summary>One header line of a parsed head: offsets into <see cref="HttpHead.Buffer"/>.</summary>
internal struct HeaderEntry
{
    public int LineStart;
    public int LineEnd; // exclusive, CRLF included
    public int NameLength;
    public int ValueStart;
    public int ValueLength;
    public HeaderKind Kind;
    public bool Dropped;
}

/// <summary>
/// One HTTP/1.x head (request or response) copied into a per-connection buffer and parsed strictly: CRLF only, no
/// obs-fold, token header names with the colon right after, no control characters in values, one well-formed
/// Content-Length, chunked as the only transfer coding. Reused for every request of a connection.
/// </summary>
internal sealed class HttpHead(int bufferSize, int maxHeaders)
{
    public byte[] Buffer { get; } = new byte[bufferSize];

    public HeaderEntry[] Headers { get; } = new HeaderEntry[maxHeaders];

    public int Length;
    public int HeaderCount;

    // Start line.
    public int MethodLength;
    public int TargetStart;
    public int TargetLength;
    public int PathLength; // target bytes before '?'
    public bool Http10;
    public int StatusCode;

    // Framing and connection management.
    public long ContentLength;
    public bool Chunked;
    public bool ConnectionClose;
    public bool ConnectionKeepAlive;
    public bool ConnectionUpgrade;
    public bool ConnectionListsOthers;
    public int HostIndex;
    public int UpgradeIndex;
    public bool ExpectContinue;

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    public ReadOnlySpan<byte> Method => Buffer.AsSpan(0, MethodLength);

    public ReadOnlySpan<byte> Target => Buffer.AsSpan(TargetStart, TargetLength);

    public ReadOnlySpan<byte> Name(in HeaderEntry h) => Buffer.AsSpan(h.LineStart, h.NameLength);

    public ReadOnlySpan<byte> Value(in HeaderEntry h) => Buffer.AsSpan(h.ValueStart, h.ValueLength);

    public ReadOnlySpan<byte> Line(in HeaderEntry h) => Buffer.AsSpan(h.LineStart, h.LineEnd - h.LineStart);

    public ReadOnlySpan<byte> HostValue => HostIndex < 0 ? default : Value(Headers[HostIndex]);

    private void Reset(int length)
    {
        Length = length;
        HeaderCount = 0;
        MethodLength = TargetStart = TargetLength = PathLength = StatusCode = 0;
        Http10 = false;
        ContentLength = -1;
        Chunked = ConnectionClose = ConnectionKeepAlive = ConnectionUpgrade = ConnectionListsOthers = ExpectContinue = false;
        HostIndex = UpgradeIndex = -1;
    }

    /// <summary>Parses a request head of <paramref name="length"/> bytes (CRLFCRLF included). Returns 0 or the status to answer.</summary>
    public int ParseRequest(int length, int maxRequestLine, int maxHeadersTotal, ReadOnlySpan<byte> nodeHeader)
    {
        Reset(length);
        var span = Buffer.AsSpan(0, length);
        var lineEnd = span.IndexOf((byte)'\n');
        if (lineEnd < 1 || span[lineEnd - 1] != '\r')
        {
            return 400;
        }
        if (lineEnd + 1 > maxRequestLine)
        {
            return 414;
        }
        var line = span[..(lineEnd - 1)];
        var sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0 || !IsToken(line[..sp1]))
        {
            return 400;
        }
        MethodLength = sp1;
        var rest = line[(sp1 + 1)..];
        var sp2 = rest.IndexOf((byte)' ');
        if (sp2 <= 0)
        {
            return 400;
        }
        var target = rest[..sp2];
        foreach (var b in target)
        {
            if (b <= 0x20 || b >= 0x7F)
            {
                return 400;
            }
        }
        TargetStart = sp1 + 1;
        TargetLength = sp2;
        var q = target.IndexOf((byte)'?');
        PathLength = q < 0 ? target.Length : q;
        var version = rest[(sp2 + 1)..];
        if (version.Length != 8 || !version.StartsWith("HTTP/1."u8))
        {
            return version.Length == 8 && version.StartsWith("HTTP/"u8) ? 505 : 400;
        }
        if (version[7] == '0')
        {
            Http10 = true;
        }
        else if (version[7] != '1')
        {
            return 505;
        }
        if (length - (lineEnd + 1) > maxHeadersTotal + 2)
        {
            return 431;
        }
        var status = ParseHeaders(lineEnd + 1, nodeHeader, isRequest: true);
        if (status != 0)
        {
            return status;
        }
        if (HostIndex < 0 && !Http10)
        {
            return 400; // HTTP/1.1 requires Host (RFC 9112 §3.2)
        }
        if (Chunked && Http10)
        {
            return 400; // an HTTP/1.0 client cannot send chunked; a proxy before it might disagree about the framing
        }
        return 0;
    }

    /// <summary>Parses a response head. Returns false when it is malformed (the upstream gets a 502).</summary>
    public bool ParseResponse(int length, ReadOnlySpan<byte> nodeHeader)
    {
        Reset(length);
        var span = Buffer.AsSpan(0, length);
        var lineEnd = span.IndexOf((byte)'\n');
        if (lineEnd < 13 || span[lineEnd - 1] != '\r' || !span.StartsWith("HTTP/1."u8) || span[8] != ' ')
        {
            return false;
        }
        Http10 = span[7] == '0';
        if (!Http10 && span[7] != '1')
        {
            return false;
        }
        int code = 0;
        for (var i = 9; i < 12; i++)
        {
            if (!char.IsAsciiDigit((char)span[i]))
            {
                return false;
            }
            code = (code * 10) + (span[i] - '0');
        }
        if (code < 100 || (lineEnd > 13 && span[12] != ' '))
        {
            return false;
        }
        StatusCode = code;
        return ParseHeaders(lineEnd + 1, nodeHeader, isRequest: false) == 0;
    }

    private int ParseHeaders(int pos, ReadOnlySpan<byte> nodeHeader, bool isRequest)
    {
        var span = Buffer.AsSpan(0, Length);
        var clSeen = false;
        var teSeen = false;
        while (true)
        {
            var rel = span[pos..].IndexOf((byte)'\n');
            if (rel < 1 || span[pos + rel - 1] != '\r')
            {
                return 400;
            }
            var end = pos + rel + 1;
            if (rel == 1)
            {
                break; // the empty line
            }
            var line = span[pos..(end - 2)];
            if (line[0] is (byte)' ' or (byte)'\t')
            {
                return 400; // obs-fold
            }
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                return 400;
            }
            var v = colon + 1;
            while (v < line.Length && line[v] is (byte)' ' or (byte)'\t')
            {
                v++;
            }
            var e = line.Length;
            while (e > v && line[e - 1] is (byte)' ' or (byte)'\t')
            {
                e--;
            }
            var value = line[v..e];
            if (value.ContainsAny(ValueControls))
            {
                return 400; // bare CR, NUL and other controls
            }
            if (HeaderCount == maxHeaders)
            {
                return 431;
            }
            var kind = Classify(line[..colon], nodeHeader);
            ref var h = ref Headers[HeaderCount];
            h = new HeaderEntry { LineStart = pos, LineEnd = end, NameLength = colon, ValueStart = pos + v, ValueLength = e - v, Kind = kind };
            switch (kind)
            {
                case HeaderKind.Host:
                    if (isRequest && HostIndex >= 0)
                    {
                        return 400;
                    }
                    if (isRequest && !IsHost(value))
                    {
                        return 400;
                    }
                    HostIndex = HeaderCount;
                    break;
                case HeaderKind.ContentLength:
                    if (clSeen || !TryParseLength(value, out ContentLength))
                    {
                        return 400;
                    }
                    clSeen = true;
                    break;
                case HeaderKind.TransferEncoding:
                    // Only one coding is accepted, chunked, in one header: anything else could be framed differently by the next hop.
                    if (teSeen || !Ascii.EqualsIgnoreCase(value, "chunked"u8))
                    {
                        return 400;
                    }
                    teSeen = true;
                    Chunked = true;
                    break;
                case HeaderKind.Connection:
                    ReadConnection(value);
                    break;
                case HeaderKind.Upgrade:
                    UpgradeIndex = HeaderCount;
                    break;
                case HeaderKind.Expect:
                    if (Ascii.EqualsIgnoreCase(value, "100-continue"u8))
                    {
                        ExpectContinue = true;
                    }
                    break;
            }
            HeaderCount++;
            pos = end;
        }
        if (clSeen && teSeen)
        {
            return 400; // RFC 9112 §6.3: a sender that could be read either way is a smuggling attempt
        }
        return 0;
    }

    private void ReadConnection(ReadOnlySpan<byte> value)
    {
        foreach (var range in value.Split((byte)','))
        {
            var token = value[range].Trim(" \t"u8);
            if (token.IsEmpty)
            {
                continue;
            }
            if (Ascii.EqualsIgnoreCase(token, "close"u8))
            {
                ConnectionClose = true;
            }
            else if (Ascii.EqualsIgnoreCase(token, "keep-alive"u8))
            {
                ConnectionKeepAlive = true;
            }
            else if (Ascii.EqualsIgnoreCase(token, "upgrade"u8))
            {
                ConnectionUpgrade = true;
            }
            else
            {
                ConnectionListsOthers = true;
            }
        }
    }

    /// <summary>True when a Connection header of this head names <paramref name="name"/> (RFC 9110 §7.6.1).</summary>
    public bool ListedInConnection(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < HeaderCount; i++)
        {
            if (Headers[i].Kind != HeaderKind.Connection)
            {
                continue;
            }
            var value = Value(Headers[i]);
            foreach (var range in value.Split((byte)','))
            {
                if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), name))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>Marks headers for this hop only as dropped: the fixed hop-by-hop set and every name Connection lists.</summary>
    public void MarkHopByHop()
    {
        for (var i = 0; i < HeaderCount; i++)
        {
            ref var h = ref Headers[i];
            h.Dropped = h.Kind is HeaderKind.Connection or HeaderKind.KeepAlive or HeaderKind.ProxyConnection or HeaderKind.TE or HeaderKind.Expect
                or HeaderKind.Trailer or HeaderKind.TransferEncoding or HeaderKind.Upgrade or HeaderKind.Http2Settings
                || (ConnectionListsOthers && ListedInConnection(Name(h)));
        }
    }

    private static HeaderKind Classify(ReadOnlySpan<byte> name, ReadOnlySpan<byte> nodeHeader)
    {
        switch (name.Length)
        {
            case 2 when Ascii.EqualsIgnoreCase(name, "TE"u8):
                return HeaderKind.TE;
            case 4 when Ascii.EqualsIgnoreCase(name, "Host"u8):
                return HeaderKind.Host;
            case 6 when Ascii.EqualsIgnoreCase(name, "Cookie"u8):
                return HeaderKind.Cookie;
            case 6 when Ascii.EqualsIgnoreCase(name, "Expect"u8):
                return HeaderKind.Expect;
            case 7 when Ascii.EqualsIgnoreCase(name, "Trailer"u8):
                return HeaderKind.Trailer;
            case 7 when Ascii.EqualsIgnoreCase(name, "Upgrade"u8):
                return HeaderKind.Upgrade;
            case 9 when Ascii.EqualsIgnoreCase(name, "Forwarded"u8):
                return HeaderKind.Forwarded;
            case 10 when Ascii.EqualsIgnoreCase(name, "Connection"u8):
                return HeaderKind.Connection;
            case 10 when Ascii.EqualsIgnoreCase(name, "Keep-Alive"u8):
                return HeaderKind.KeepAlive;
            case 14 when Ascii.EqualsIgnoreCase(name, "Content-Length"u8):
                return HeaderKind.ContentLength;
            case 14 when Ascii.EqualsIgnoreCase(name, "HTTP2-Settings"u8):
                return HeaderKind.Http2Settings;
            case 15 when Ascii.EqualsIgnoreCase(name, "X-Forwarded-For"u8):
                return HeaderKind.XForwardedFor;
            case 16 when Ascii.EqualsIgnoreCase(name, "Proxy-Connection"u8):
                return HeaderKind.ProxyConnection;
            case 16 when Ascii.EqualsIgnoreCase(name, "X-Forwarded-Host"u8):
                return HeaderKind.XForwardedHost;
            case 17 when Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8):
                return HeaderKind.TransferEncoding;
            case 17 when Ascii.EqualsIgnoreCase(name, "X-Forwarded-Proto"u8):
                return HeaderKind.XForwardedProto;
        }
        return name.Length == nodeHeader.Length && Ascii.EqualsIgnoreCase(name, nodeHeader) ? HeaderKind.NodeHeader : HeaderKind.Other;
    }

    /// <summary>1*DIGIT, no sign, no list, no overflow.</summary>
    internal static bool TryParseLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.Length > 18)
        {
            return false;
        }
        foreach (var b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            length = (length * 10) + (b - '0');
        }
        return true;
    }

    // RFC 9110 §5.6.2 tchar; the bytes a header value may not hold (controls but HTAB, and DEL); a Host's bytes. Vectorized
    // set lookups: these scans run over every header of every request and response.
    private static readonly SearchValues<byte> TChars = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);
    private static readonly SearchValues<byte> ValueControls = SearchValues.Create([.. Enumerable.Range(0, 0x20).Where(b => b != '\t').Select(b => (byte)b), 0x7F]);
    private static readonly SearchValues<byte> HostChars = SearchValues.Create("-.:[]_~%0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>tchar (RFC 9110 §5.6.2).</summary>
    internal static bool IsToken(ReadOnlySpan<byte> s) => !s.IsEmpty && !s.ContainsAnyExcept(TChars);

    /// <summary>A reg-name or IP literal with an optional port: no spaces, slashes, user info or other delimiters.</summary>
    private static bool IsHost(ReadOnlySpan<byte> s) => !s.ContainsAnyExcept(HostChars);
}
