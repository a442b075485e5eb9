using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.TestSupport;

namespace Lb.Core.Tests;

public sealed class FileDesiredStateHistoryTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string HistoryDir => Path.Combine(_dir.Path, "history");

    private static DesiredState StateWithPool(string poolId) => new()
    {
        Config = new ProxyConfig { UpstreamPools = new Dictionary<string, UpstreamPoolSpec> { [poolId] = new() { Upstreams = ["10.0.0.1:80"] } } },
    };

    private static async Task WriteAsync(FileDesiredStateStore store, int count, string origin = "test")
    {
        for (var i = 0; i < count; i++)
        {
            var result = await store.PutAsync(StateWithPool($"p{store.Current.Version + 1}"), null, origin, TestContext.Current.CancellationToken);
            Assert.Equal(StoreWriteStatus.Applied, result.Status);
        }
    }

    [Fact]
    public async Task History_keeps_the_last_N_versions_newest_first_with_origin_and_survives_a_restart()
    {
        using (var store = new FileDesiredStateStore(_dir.Path, historyLimit: 3))
        {
            await WriteAsync(store, 5, "dashboard from 10.0.0.5");
            Assert.Equal([5L, 4L, 3L], store.GetHistory().Select(e => e.Version));
            Assert.All(store.GetHistory(), e => Assert.Equal("dashboard from 10.0.0.5", e.Origin));
            Assert.True((await store.FindVersionAsync(3, TestContext.Current.CancellationToken))!.State.Config.UpstreamPools.ContainsKey("p3"));
            Assert.Null(await store.FindVersionAsync(2, TestContext.Current.CancellationToken));
            Assert.Equal(3, Directory.GetFiles(HistoryDir).Length);
        }

        using var reopened = new FileDesiredStateStore(_dir.Path, historyLimit: 3);
        var history = reopened.GetHistory();
        Assert.Equal([5L, 4L, 3L], history.Select(e => e.Version));
        Assert.Equal("dashboard from 10.0.0.5", history[1].Origin);
        Assert.Equal(1, history[1].PoolCount);
        Assert.True((await reopened.FindVersionAsync(4, TestContext.Current.CancellationToken))!.State.Config.UpstreamPools.ContainsKey("p4"));
    }

    [Fact]
    public async Task The_default_limit_is_50_and_the_directory_never_holds_more()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        Assert.Equal(50, store.HistoryLimit);
        await WriteAsync(store, 53);
        Assert.Equal(50, store.GetHistory().Count);
        Assert.Equal(4, store.GetHistory()[^1].Version);
        Assert.Equal(50, Directory.GetFiles(HistoryDir).Length);
    }

    [Fact]
    public async Task A_lower_limit_at_restart_drops_the_oldest_versions_from_disk()
    {
        using (var store = new FileDesiredStateStore(_dir.Path, historyLimit: 5))
        {
            await WriteAsync(store, 5);
        }
        using var reopened = new FileDesiredStateStore(_dir.Path, historyLimit: 2);
        Assert.Equal([5L, 4L], reopened.GetHistory().Select(e => e.Version));
        Assert.Equal(2, Directory.GetFiles(HistoryDir).Length);
    }

    [Fact]
    public async Task An_entry_of_a_write_that_crashed_before_the_state_file_was_replaced_is_dropped()
    {
        byte[] stateAtVersion2;
        using (var store = new FileDesiredStateStore(_dir.Path))
        {
            await WriteAsync(store, 2);
            stateAtVersion2 = await File.ReadAllBytesAsync(Path.Combine(_dir.Path, FileDesiredStateStore.FileName), TestContext.Current.CancellationToken);
            await WriteAsync(store, 1);
        }
        // The crash: version 3's history entry reached the disk, its state file did not.
        await File.WriteAllBytesAsync(Path.Combine(_dir.Path, FileDesiredStateStore.FileName), stateAtVersion2, TestContext.Current.CancellationToken);

        using var reopened = new FileDesiredStateStore(_dir.Path);
        Assert.Equal(2, reopened.Current.Version);
        Assert.Equal([2L, 1L], reopened.GetHistory().Select(e => e.Version));
        Assert.Equal(2, Directory.GetFiles(HistoryDir).Length);

        // The next write takes version 3 again, with its own content.
        await reopened.PutAsync(StateWithPool("again"), null, "after crash", TestContext.Current.CancellationToken);
        Assert.True((await reopened.FindVersionAsync(3, TestContext.Current.CancellationToken))!.State.Config.UpstreamPools.ContainsKey("again"));
    }

    [Fact]
    public async Task A_store_written_before_history_existed_starts_its_history_with_the_current_state()
    {
        using (var store = new FileDesiredStateStore(_dir.Path))
        {
            await WriteAsync(store, 2);
        }
        Directory.Delete(HistoryDir, recursive: true);

        using var reopened = new FileDesiredStateStore(_dir.Path);
        var only = Assert.Single(reopened.GetHistory());
        Assert.Equal(2, only.Version);
        Assert.Equal("state file at startup", only.Origin);
        Assert.True((await reopened.FindVersionAsync(2, TestContext.Current.CancellationToken))!.State.Config.UpstreamPools.ContainsKey("p2"));
        Assert.Single(Directory.GetFiles(HistoryDir));
    }

    [Fact]
    public async Task An_unreadable_history_file_is_dropped_and_the_store_still_opens()
    {
        using (var store = new FileDesiredStateStore(_dir.Path))
        {
            await WriteAsync(store, 3);
        }
        var second = Directory.GetFiles(HistoryDir).Order(StringComparer.Ordinal).ElementAt(1);
        await File.WriteAllTextAsync(second, "{\"version\":2, not json", TestContext.Current.CancellationToken);

        using var reopened = new FileDesiredStateStore(_dir.Path);
        Assert.Equal(3, reopened.Current.Version);
        Assert.Equal([3L, 1L], reopened.GetHistory().Select(e => e.Version));
        Assert.False(File.Exists(second));
    }

    [Fact]
    public async Task Rejected_writes_add_no_history_entry()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        await WriteAsync(store, 1);
        var ct = TestContext.Current.CancellationToken;
        var invalid = new DesiredState { Config = new ProxyConfig { Routes = [new RouteSpec { Id = "r", UpstreamPool = "missing" }] } };
        Assert.Equal(StoreWriteStatus.Invalid, (await store.PutAsync(invalid, null, "bad", ct)).Status);
        Assert.Equal(StoreWriteStatus.VersionConflict, (await store.PutAsync(StateWithPool("x"), 0, "stale", ct)).Status);
        Assert.Equal([1L], store.GetHistory().Select(e => e.Version));
        Assert.Single(Directory.GetFiles(HistoryDir));
    }

    [Fact]
    public async Task A_write_without_an_origin_is_recorded_as_api()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        await store.PutAsync(StateWithPool("a"), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("api", store.GetHistory()[0].Origin);
    }
}
