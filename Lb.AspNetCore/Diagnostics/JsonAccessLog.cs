using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Diagnostics;

/// <summary>
/// The access log as JSON, one object per line, to standard output or a file (<c>accessLogFormat: "json"</c>). Lines are
/// queued and written by a thread of its own, so a slow disk or a full stdout pipe never holds a request, an I/O thread
/// or a thread-pool worker; when the queue is full, lines are dropped (and counted in the next queued line's
/// <c>dropped</c>), not the proxy slowed.
/// </summary>
internal sealed class JsonAccessLog : IAsyncDisposable
{
    // FullMode Wait, used only through TryWrite: that never waits and, unlike the Drop modes, says when a line did not fit.
    private readonly Channel<byte[]> _lines = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(16_384)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });
    private readonly Stream _output;
    private readonly Thread _writer;
    private readonly TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _dropped;

    public JsonAccessLog(string path)
        : this(path.Length == 0
            ? Console.OpenStandardOutput()
            : new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 4096, FileOptions.None))
    {
    }

    /// <summary>Writes to <paramref name="output"/>, which it owns from now on.</summary>
    internal JsonAccessLog(Stream output)
    {
        _output = output;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "Lb access log writer" };
        _writer.Start();
    }

    public void Write(HttpContext context, string client, string? route, string? target, double durationMs, Proxy.UpstreamTimingFeature? upstream)
    {
        var request = context.Request;
        Write(client, request.Method, request.Host.Value ?? "", request.Path.Value ?? "", request.QueryString.Value ?? "", context.Response.StatusCode,
            request.ContentLength, context.Response.ContentLength, route, target, durationMs, upstream?.ResponseMs, upstream?.TotalMs, request.Headers.UserAgent.ToString(), upstreamConnectMs: null);
    }

    /// <summary>One line from plain values (the fast path has no <see cref="HttpContext"/>).</summary>
    public void Write(string client, string method, string host, string path, string query, int status, long? bytesIn, long? bytesOut,
        string? route, string? target, double durationMs, double? upstreamResponseMs, double? upstreamMs, string userAgent, double? upstreamConnectMs)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        long dropped;
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow);
            json.WriteString("client", client);
            json.WriteString("method", method);
            json.WriteString("host", host);
            json.WriteString("path", path);
            json.WriteString("query", query);
            json.WriteNumber("status", status);
            WriteNullable(json, "bytes_in", bytesIn);
            WriteNullable(json, "bytes_out", bytesOut);
            json.WriteString("route", route);
            json.WriteString("target", target);
            json.WriteNumber("duration_ms", Math.Round(durationMs, 3));
            WriteMilliseconds(json, "upstream_response_ms", upstreamResponseMs);
            WriteMilliseconds(json, "upstream_ms", upstreamMs);
            // Fast path only: the forwarder's connection pool does not say which request opened a connection.
            WriteMilliseconds(json, "upstream_connect_ms", upstreamConnectMs);
            json.WriteString("user_agent", userAgent);
            dropped = Interlocked.Exchange(ref _dropped, 0);
            if (dropped > 0)
            {
                json.WriteNumber("dropped", dropped);
            }
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        if (!_lines.Writer.TryWrite(buffer.WrittenSpan.ToArray()))
        {
            // This line is lost too, and so is the count it carried: both go to the next line that fits.
            Interlocked.Add(ref _dropped, dropped + 1);
        }
    }

    private static void WriteMilliseconds(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, Math.Round(v, 3));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private void WriteLoop()
    {
        try
        {
            // Blocking is what this thread is for: waiting for lines, and writes that wait for the disk or the pipe.
            while (_lines.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (_lines.Reader.TryRead(out var line))
                {
                    _output.Write(line);
                }
                _output.Flush();
            }
            _written.TrySetResult();
        }
        catch (Exception ex)
        {
            _written.TrySetException(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _written.Task.ConfigureAwait(false);
        await _output.DisposeAsync().ConfigureAwait(false);
    }
}
