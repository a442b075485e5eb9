using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lb.TestSupport;

/// <summary>One response as read off the wire by <see cref="RawHttpClient"/>.</summary>
public sealed record RawResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body)
{
    public string? Header(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();
}

/// <summary>
/// A client on a plain socket: sends exactly the bytes it is given and reads responses one by one (Content-Length,
/// chunked or until close), so a test controls every byte a proxy's parser sees.
/// </summary>
public sealed class RawHttpClient : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly List<byte> _unread = [];
    private bool _eof;

    private RawHttpClient(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawHttpClient> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        return new RawHttpClient(client);
    }

    public Task SendAsync(string text, CancellationToken cancellationToken) => SendAsync(Encoding.Latin1.GetBytes(text), cancellationToken);

    public async Task SendAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken);
        }
        catch (IOException)
        {
            // The server may close before it has read everything (e.g. after a 431); what it answered is still readable.
        }
    }

    /// <summary>Reads the next response (an interim 1xx counts as one); null when the connection closed before a status line.</summary>
    public async Task<RawResponse?> ReadResponseAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var head = await ReadHeadAsync(cts.Token);
        if (head is null)
        {
            return null;
        }
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Select(p => new KeyValuePair<string, string>(p[0].Trim(), p.Length > 1 ? p[1].Trim() : "")).ToList();
        var response = new RawResponse(status, headers, "");
        if (status is >= 100 and < 200 || status is 204 or 304)
        {
            return response;
        }
        if (response.Header("Content-Length") is { } length)
        {
            return response with { Body = Encoding.Latin1.GetString(await ReadExactlyAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture), cts.Token)) };
        }
        if (string.Equals(response.Header("Transfer-Encoding"), "chunked", StringComparison.OrdinalIgnoreCase))
        {
            var body = new List<byte>();
            while (true)
            {
                var size = Convert.ToInt32((await ReadLineAsync(cts.Token)).Split(';')[0], 16);
                if (size == 0)
                {
                    while ((await ReadLineAsync(cts.Token)).Length > 0)
                    {
                    }
                    return response with { Body = Encoding.Latin1.GetString([.. body]) };
                }
                body.AddRange(await ReadExactlyAsync(size, cts.Token));
                await ReadLineAsync(cts.Token);
            }
        }
        while (await FillAsync(cts.Token))
        {
        }
        var rest = Encoding.Latin1.GetString([.. _unread]);
        _unread.Clear();
        return response with { Body = rest };
    }

    /// <summary>True when the server closes (or resets) the connection within <paramref name="timeout"/> without sending anything more.</summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_unread.Count > 0)
        {
            return false;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            return !await FillAsync(cts.Token) && _unread.Count == 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task<string?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var text = Encoding.Latin1.GetString([.. _unread]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _unread.RemoveRange(0, end + 4);
                return text[..end];
            }
            if (!await FillAsync(cancellationToken))
            {
                return null;
            }
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var index = _unread.IndexOf((byte)'\n');
            if (index >= 0)
            {
                var line = Encoding.Latin1.GetString([.. _unread.GetRange(0, index)]).TrimEnd('\r');
                _unread.RemoveRange(0, index + 1);
                return line;
            }
            if (!await FillAsync(cancellationToken))
            {
                throw new IOException("connection closed inside a chunked body");
            }
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        while (_unread.Count < count)
        {
            if (!await FillAsync(cancellationToken))
            {
                throw new IOException($"connection closed after {_unread.Count} of {count} body bytes");
            }
        }
        var bytes = _unread.GetRange(0, count).ToArray();
        _unread.RemoveRange(0, count);
        return bytes;
    }

    /// <summary>Reads more bytes; false at end of stream (a reset counts as the end).</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_eof)
        {
            return false;
        }
        var buffer = new byte[16384];
        int read;
        try
        {
            read = await _stream.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException)
        {
            read = 0;
        }
        if (read == 0)
        {
            _eof = true;
            return false;
        }
        _unread.AddRange(buffer.AsSpan(0, read));
        return true;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }
}
