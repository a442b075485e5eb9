using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lb.TestSupport;

/// <summary>
/// A backend on a plain socket (127.0.0.1, port chosen by the OS) that records every byte it receives, per
/// connection, and parses them with <see cref="StrictHttp"/>: each complete request is answered
/// <c>200</c> with the body <c>"{target} {body length}"</c>. Bytes a strict server could read in two ways are
/// recorded as <see cref="Ambiguities"/> and answered 400 with the connection closed, so a test sees smuggling
/// attempts that got through instead of a confused backend.
/// </summary>
public sealed class RecordingBackend : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<List<byte>> _connections = [];
    private readonly List<StrictRequest> _requests = [];
    private readonly List<string> _ambiguities = [];

    private RecordingBackend()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Address = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _loop = AcceptAsync();
    }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string Address { get; }

    public static RecordingBackend Start() => new();

    /// <summary>Every complete request received, in arrival order.</summary>
    public IReadOnlyList<StrictRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>What a strict parser could not read as exactly one framing (empty when all is well).</summary>
    public IReadOnlyList<string> Ambiguities
    {
        get
        {
            lock (_requests)
            {
                return [.. _ambiguities];
            }
        }
    }

    /// <summary>The raw bytes of every connection, for failure messages.</summary>
    public string Transcript
    {
        get
        {
            lock (_requests)
            {
                return string.Join("\n----\n", _connections.Select(c => Encoding.Latin1.GetString([.. c]).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n\n", StringComparison.Ordinal)));
            }
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        var recorded = new List<byte>();
        lock (_requests)
        {
            _connections.Add(recorded);
        }
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var buffer = new byte[65536];
                var pending = new List<byte>();
                var continued = false;
                while (true)
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }
                    lock (_requests)
                    {
                        recorded.AddRange(buffer.AsSpan(0, read));
                    }
                    pending.AddRange(buffer.AsSpan(0, read));
                    // Like a compliant origin server: a request that waits for 100 Continue gets it once its head is in.
                    if (!continued && ExpectsContinue(pending))
                    {
                        continued = true;
                        await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), _stop.Token);
                    }
                    while (true)
                    {
                        StrictRequest? request;
                        int consumed;
                        try
                        {
                            (request, consumed) = StrictHttp.TryParseRequest([.. pending]);
                        }
                        catch (FormatException ex)
                        {
                            lock (_requests)
                            {
                                _ambiguities.Add(ex.Message);
                            }
                            await stream.WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), _stop.Token);
                            return;
                        }
                        if (request is null)
                        {
                            break;
                        }
                        pending.RemoveRange(0, consumed);
                        continued = false;
                        lock (_requests)
                        {
                            _requests.Add(request);
                        }
                        var body = Encoding.ASCII.GetBytes($"{request.Target} {request.Body.Length}");
                        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nX-Backend: recorder\r\n\r\n");
                        await stream.WriteAsync(head.Concat(body).ToArray(), _stop.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
            {
            }
        }
    }

    private static bool ExpectsContinue(List<byte> pending)
    {
        var text = Encoding.Latin1.GetString([.. pending]);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return end >= 0 && text[..end].Contains("\r\nexpect: 100-continue", StringComparison.OrdinalIgnoreCase);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}

/// <summary>One request as <see cref="StrictHttp"/> read it.</summary>
public sealed record StrictRequest(string Method, string Target, string Version, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public IEnumerable<string> Values(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

    public string BodyText => Encoding.Latin1.GetString(Body);
}

/// <summary>
/// An HTTP/1.1 request parser as strict as RFC 9112 allows a recipient to be: CRLF only, no obs-fold, one
/// well-formed Content-Length or exactly <c>Transfer-Encoding: chunked</c> (never both), one Host. Whatever it
/// refuses is a message two servers could frame differently.
/// </summary>
public static class StrictHttp
{
    /// <summary>Parses one request from the start of <paramref name="data"/>; <c>(null, 0)</c> while it is incomplete.</summary>
    /// <exception cref="FormatException">The bytes are not one unambiguous request.</exception>
    public static (StrictRequest? Request, int Consumed) TryParseRequest(ReadOnlySpan<byte> data)
    {
        var position = 0;
        if (!TryReadLine(data, ref position, out var requestLine))
        {
            return (null, 0);
        }
        var parts = requestLine.Split(' ');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0) || parts[2] is not ("HTTP/1.1" or "HTTP/1.0") || !IsToken(parts[0]))
        {
            throw new FormatException($"malformed request line '{requestLine}'");
        }
        var headers = new List<KeyValuePair<string, string>>();
        while (true)
        {
            if (!TryReadLine(data, ref position, out var line))
            {
                return (null, 0);
            }
            if (line.Length == 0)
            {
                break;
            }
            if (line[0] is ' ' or '\t')
            {
                throw new FormatException($"obs-fold line '{line}'");
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                throw new FormatException($"malformed header line '{line}'");
            }
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (value.Any(c => (c < 0x20 && c != '\t') || c == 0x7f))
            {
                throw new FormatException($"control character in header '{line}'");
            }
            headers.Add(new(line[..colon], value));
        }
        var request = new StrictRequest(parts[0], parts[1], parts[2], headers, []);
        var hosts = request.Values("Host").ToArray();
        if (hosts.Length > 1 || (parts[2] == "HTTP/1.1" && hosts.Length == 0))
        {
            throw new FormatException($"{hosts.Length} Host headers in an {parts[2]} request");
        }
        var lengths = request.Values("Content-Length").ToArray();
        var codings = request.Values("Transfer-Encoding").ToArray();
        if (lengths.Length > 0 && codings.Length > 0)
        {
            throw new FormatException("both Content-Length and Transfer-Encoding");
        }
        if (lengths.Length > 1)
        {
            throw new FormatException($"{lengths.Length} Content-Length headers");
        }
        if (codings.Length > 1 || (codings.Length == 1 && !string.Equals(codings[0], "chunked", StringComparison.OrdinalIgnoreCase)))
        {
            throw new FormatException($"Transfer-Encoding '{string.Join(", ", codings)}' is not exactly chunked");
        }
        if (lengths.Length == 1)
        {
            if (lengths[0].Length is 0 or > 15 || !lengths[0].All(char.IsAsciiDigit))
            {
                throw new FormatException($"malformed Content-Length '{lengths[0]}'");
            }
            var length = int.Parse(lengths[0], System.Globalization.CultureInfo.InvariantCulture);
            if (data.Length - position < length)
            {
                return (null, 0);
            }
            return (request with { Body = data.Slice(position, length).ToArray() }, position + length);
        }
        if (codings.Length == 1)
        {
            var body = new List<byte>();
            while (true)
            {
                if (!TryReadLine(data, ref position, out var sizeLine))
                {
                    return (null, 0);
                }
                var semicolon = sizeLine.IndexOf(';', StringComparison.Ordinal);
                var digits = semicolon < 0 ? sizeLine : sizeLine[..semicolon];
                if (digits.Length is 0 or > 8 || !digits.All(char.IsAsciiHexDigit))
                {
                    throw new FormatException($"invalid chunk size line '{sizeLine}'");
                }
                var size = int.Parse(digits, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    while (true) // trailer section
                    {
                        if (!TryReadLine(data, ref position, out var trailer))
                        {
                            return (null, 0);
                        }
                        if (trailer.Length == 0)
                        {
                            return (request with { Body = [.. body] }, position);
                        }
                        if (trailer[0] is ' ' or '\t' || trailer.IndexOf(':', StringComparison.Ordinal) <= 0)
                        {
                            throw new FormatException($"malformed trailer '{trailer}'");
                        }
                    }
                }
                if (data.Length - position < size + 2)
                {
                    return (null, 0);
                }
                body.AddRange(data.Slice(position, size));
                position += size;
                if (data[position] != '\r' || data[position + 1] != '\n')
                {
                    throw new FormatException("chunk data not followed by CRLF");
                }
                position += 2;
            }
        }
        return (request, position);
    }

    /// <summary>Reads a CRLF-terminated line; a CR or LF anywhere else in it is ambiguous.</summary>
    private static bool TryReadLine(ReadOnlySpan<byte> data, ref int position, out string line)
    {
        var rest = data[position..];
        var lf = rest.IndexOf((byte)'\n');
        if (lf < 0)
        {
            var cr = rest.IndexOf((byte)'\r');
            if (cr >= 0 && cr < rest.Length - 1)
            {
                throw new FormatException("bare CR");
            }
            line = "";
            return false;
        }
        if (lf == 0 || rest[lf - 1] != '\r')
        {
            throw new FormatException("bare LF line ending");
        }
        var content = rest[..(lf - 1)];
        if (content.IndexOf((byte)'\r') >= 0)
        {
            throw new FormatException("bare CR");
        }
        line = Encoding.Latin1.GetString(content);
        position += lf + 1;
        return true;
    }

    private static bool IsToken(string text) =>
        text.Length > 0 && text.All(c => c is > ' ' and < (char)0x7f && !"\"(),/:;<=>?@[\\]{}".Contains(c, StringComparison.Ordinal));
}
