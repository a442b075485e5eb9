using System.Text;
using System.Text.Json;
using Lb.AspNetCore.Diagnostics;

namespace Lb.AspNetCore.Tests;

/// <summary>The JSON access log never makes a request wait for its output, and says how many lines it had to drop.</summary>
public sealed class JsonAccessLogTests
{
    /// <summary>An output whose writes block until the gate opens, like a full pipe or a stalled disk.</summary>
    private sealed class GatedStream(ManualResetEventSlim gate) : Stream
    {
        private readonly MemoryStream _written = new();
        private int _lines;

        public int Lines => Volatile.Read(ref _lines);

        public string Text
        {
            get
            {
                lock (_written)
                {
                    return Encoding.UTF8.GetString(_written.ToArray());
                }
            }
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => gate.Wait();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _written.Dispose(); // ToArray still works afterwards
            }
            base.Dispose(disposing);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            gate.Wait();
            lock (_written)
            {
                _written.Write(buffer, offset, count);
            }
            Interlocked.Add(ref _lines, buffer.AsSpan(offset, count).Count((byte)'\n'));
        }
    }

    private static void WriteLine(JsonAccessLog log, string path) =>
        log.Write("127.0.0.1", "GET", "log.test", path, "", 200, null, 2, "r1", "127.0.0.1:8080", 0.5, 0.4, 0.3, "test", null);

    [Fact]
    public async Task While_the_output_is_blocked_requests_go_on_and_the_lines_that_did_not_fit_are_counted_in_the_next_one()
    {
        using var gate = new ManualResetEventSlim();
        var output = new GatedStream(gate);
        var log = new JsonAccessLog(output);
        const int total = 20_000;
        // Were Write to wait for the output, this loop would never end (the gate is closed).
        for (var i = 0; i < total; i++)
        {
            WriteLine(log, $"/{i}");
        }
        gate.Set();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (output.Lines < total - 5_000 && DateTime.UtcNow < deadline) // the queue (16,384) drains
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        WriteLine(log, "/after");
        await log.DisposeAsync();

        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var dropped = lines.Sum(l => l.TryGetProperty("dropped", out var d) ? d.GetInt64() : 0);
        Assert.True(dropped > 0, "nothing was dropped although the output was blocked for 20,000 lines");
        Assert.Equal(total + 1, lines.Length + dropped); // every line is either written or counted
        Assert.Equal("/after", lines[^1].GetProperty("path").GetString());
        Assert.Equal(dropped, lines[^1].GetProperty("dropped").GetInt64());
        // The lines that were written are in the order they were logged.
        var paths = lines[..^1].Select(l => int.Parse(l.GetProperty("path").GetString()![1..], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(paths.Order(), paths);
    }
}
