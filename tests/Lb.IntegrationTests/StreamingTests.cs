using System.Diagnostics;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>Runs alone: it measures the process working set, which parallel tests would disturb.</summary>
[CollectionDefinition(nameof(MemoryMeasuringCollection), DisableParallelization = true)]
public sealed class MemoryMeasuringCollection;

public abstract class StreamingTests(ProxyPath path) : ProxyPathTests(path)
{
    [Fact]
    public async Task A_100_MB_upload_and_download_stream_through_without_buffering()
    {
        await using var backend = await TestBackend.StartAsync("big");
        await using var lb = await StartLbAsync();
        await lb.PutConfigAsync(Configs.SingleRoute("big.test", "round_robin", backend));
        const long size = 100L * 1024 * 1024;
        var baseline = Process.GetCurrentProcess().WorkingSet64;
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, Process.GetCurrentProcess().WorkingSet64);
                await Task.Delay(20, CancellationToken.None);
            }
        }, TestContext.Current.CancellationToken);

        var upload = new HttpRequestMessage(HttpMethod.Post, "/count") { Content = new StreamContent(new ZeroStream(size)) };
        upload.Headers.Host = "big.test";
        using (var response = await lb.Proxy.SendAsync(upload, TestContext.Current.CancellationToken))
        {
            Assert.Equal(size.ToString(System.Globalization.CultureInfo.InvariantCulture), await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
        var download = new HttpRequestMessage(HttpMethod.Get, $"/bytes/{size}");
        download.Headers.Host = "big.test";
        using (var response = await lb.Proxy.SendAsync(download, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken))
        {
            await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
            var buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0)
            {
                total += read;
            }
            Assert.Equal(size, total);
        }
        await sampling.CancelAsync();
        await sampler;
        // Buffering either body would add at least 100 MB; streaming stays within a few buffers.
        Assert.True(peak - baseline < 60L * 1024 * 1024, $"working set grew by {(peak - baseline) / (1024 * 1024)} MB");
    }

    /// <summary>A read-only stream of zeros of a given length, so the upload is never held in memory.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

[Collection(nameof(MemoryMeasuringCollection))]
public sealed class StreamingTestsOnYarpPath() : StreamingTests(ProxyPath.Yarp);

[Collection(nameof(MemoryMeasuringCollection))]
public sealed class StreamingTestsOnFastPath() : StreamingTests(ProxyPath.Fast);

[Collection(nameof(MemoryMeasuringCollection))]
public sealed class StreamingTestsOnLoopPath() : StreamingTests(ProxyPath.Loop);
