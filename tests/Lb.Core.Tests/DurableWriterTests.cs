using System.Text.Json;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.TestSupport;

namespace Lb.Core.Tests;

/// <summary>
/// The store's durable writes run on one dedicated thread (issue #16: nothing blocking on I/O threads, so inline
/// scheduling can be the default) and keep their guarantees: on disk before acknowledged, applied in order.
/// </summary>
public sealed class DurableWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DesiredState StateWithPool(string poolId) => new()
    {
        Config = new ProxyConfig { UpstreamPools = new Dictionary<string, UpstreamPoolSpec> { [poolId] = new() { Upstreams = ["10.0.0.1:80"] } } },
    };

    private long VersionOnDisk()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_dir.Path, FileDesiredStateStore.FileName)));
        return document.RootElement.GetProperty("version").GetInt64();
    }

    [Fact]
    public async Task Work_runs_in_queue_order_on_one_dedicated_thread_that_is_not_a_pool_thread_and_callers_resume_elsewhere()
    {
        using var writer = new DurableWriter("test writer");
        var order = new List<int>();
        var threads = new HashSet<Thread>();
        var jobs = Enumerable.Range(0, 50).Select(i => writer.RunAsync(() =>
        {
            order.Add(i); // only the writer thread touches the list
            threads.Add(Thread.CurrentThread);
        })).ToArray();
        await Task.WhenAll(jobs);
        Assert.Equal(Enumerable.Range(0, 50), order);
        var thread = Assert.Single(threads);
        Assert.Same(writer.Thread, thread);
        Assert.False(thread.IsThreadPoolThread);
        Assert.Equal("test writer", thread.Name);

        await writer.RunAsync(() => { });
        Assert.NotSame(writer.Thread, Thread.CurrentThread); // the continuation did not run on (and hold) the writer
    }

    [Fact]
    public async Task A_failing_job_faults_its_own_task_and_the_writer_keeps_going()
    {
        using var writer = new DurableWriter("test writer");
        var failed = writer.RunAsync(() => throw new IOException("disk gone"));
        var next = writer.RunAsync(() => { });
        Assert.Equal("disk gone", (await Assert.ThrowsAsync<IOException>(() => failed)).Message);
        await next;
    }

    [Fact]
    public async Task Dispose_finishes_queued_work_then_refuses_more()
    {
        var writer = new DurableWriter("test writer");
        var release = new ManualResetEventSlim();
        var ran = 0;
        var first = writer.RunAsync(() => release.Wait(Ct));
        var second = writer.RunAsync(() => Interlocked.Increment(ref ran));
        var disposing = Task.Run(writer.Dispose, Ct);
        release.Set();
        await disposing;
        await Task.WhenAll(first, second);
        Assert.Equal(1, ran);
        Assert.Throws<ObjectDisposedException>(() => { _ = writer.RunAsync(() => { }); }); // refused at once, not as a faulted task
        release.Dispose();
    }

    [Fact]
    public async Task Every_applied_put_is_on_disk_when_it_returns()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        for (var i = 1; i <= 10; i++)
        {
            var result = await store.PutAsync(StateWithPool($"p{i}"), cancellationToken: Ct);
            Assert.Equal(StoreWriteStatus.Applied, result.Status);
            Assert.Equal(i, result.Current.Version);
            Assert.Equal(i, VersionOnDisk());
        }
    }

    [Fact]
    public async Task Concurrent_puts_are_applied_one_at_a_time_in_version_order()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () => await store.PutAsync(StateWithPool($"p{i}"), cancellationToken: Ct), Ct)));
        Assert.All(results, r => Assert.Equal(StoreWriteStatus.Applied, r.Status));
        Assert.Equal(Enumerable.Range(1, 16).Select(v => (long)v), results.Select(r => r.Current.Version).Order());
        Assert.Equal(16, store.Current.Version);
        Assert.Equal(16, VersionOnDisk());
        Assert.Equal(Enumerable.Range(1, 16).Select(v => (long)v), store.GetHistory().Select(h => h.Version).Order());
    }

    [Fact]
    public async Task A_write_that_fails_on_disk_is_unavailable_and_the_next_one_succeeds()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        var target = Path.Combine(_dir.Path, FileDesiredStateStore.FileName);
        Directory.CreateDirectory(target); // the rename over it fails
        var failed = await store.PutAsync(StateWithPool("a"), cancellationToken: Ct);
        Assert.Equal(StoreWriteStatus.Unavailable, failed.Status);
        Assert.Equal(0, store.Current.Version);

        Directory.Delete(target);
        var applied = await store.PutAsync(StateWithPool("b"), cancellationToken: Ct);
        Assert.Equal(StoreWriteStatus.Applied, applied.Status);
        Assert.Equal(1, VersionOnDisk());
    }
}
