using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Diagnostics;

/// <summary>
/// The access log as JSON, one object per line, to standard output or a file (<c>accessLogFormat: "json"</c>). Lines are
/// queued and written by one background task so a slow disk never holds a request; when the queue is full, lines are
/// dropped (and counted in the next written line's <c>dropped</c>), not the proxy slowed.
/// </summary>
internal sealed class JsonAccessLog : IAsyncDisposable
{
    private readonly Channel<byte[]> _lines = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(16_384)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });
    private readonly Stream _output;
    private readonly Task _writer;
    private long _dropped;

    public JsonAccessLog(string path)
    {
        _output = path.Length == 0
            ? Console.OpenStandardOutput()
            : new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 4096, FileOptions.Asynchronous);
        _writer = Task.Run(WriteLoopAsync);
    }

    public void Write(HttpContext context, string client, string? route, string? target, double durationMs, Proxy.UpstreamTimingFeature? upstream)
    {
        var request = context.Request;
        Write(client, request.Method, request.Host.Value ?? "", request.Path.Value ?? "", request.QueryString.Value ?? "", context.Response.StatusCode,
            request.ContentLength, context.Response.ContentLength, route, target, durationMs, upstream?.ResponseMs, upstream?.TotalMs, request.Headers.UserAgent.ToString());
    }

    /// <summary>One line from plain values (the fast path has no <see cref="HttpContext"/>).</summary>
    public void Write(string client, string method, string host, string path, string query, int status, long? bytesIn, long? bytesOut,
        string? route, string? target, double durationMs, double? upstreamResponseMs, double? upstreamMs, string userAgent)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
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
            json.WriteString("user_agent", userAgent);
            var dropped = Interlocked.Exchange(ref _dropped, 0);
            if (dropped > 0)
            {
                json.WriteNumber("dropped", dropped);
            }
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        if (!_lines.Writer.TryWrite(buffer.WrittenSpan.ToArray()))
        {
            Interlocked.Increment(ref _dropped);
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

    private async Task WriteLoopAsync()
    {
        while (await _lines.Reader.WaitToReadAsync())
        {
            while (_lines.Reader.TryRead(out var line))
            {
                await _output.WriteAsync(line);
            }
            await _output.FlushAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _writer;
        await _output.DisposeAsync();
    }
}
