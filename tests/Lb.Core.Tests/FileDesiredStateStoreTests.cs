using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.TestSupport;

namespace Lb.Core.Tests;

public sealed class FileDesiredStateStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DesiredState StateWithPool(string poolId) => new()
    {
        Config = new ProxyConfig { UpstreamPools = new Dictionary<string, UpstreamPoolSpec> { [poolId] = new() { Upstreams = ["10.0.0.1:80"] } } },
    };

    [Fact]
    public void A_new_store_is_empty_at_version_zero()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        Assert.Equal(0, store.Current.Version);
        Assert.Empty(store.Current.State.Config.Routes);
        Assert.False(File.Exists(Path.Combine(_dir.Path, FileDesiredStateStore.FileName)));
    }

    [Fact]
    public async Task An_applied_write_is_current_at_once_and_survives_a_restart()
    {
        using (var store = new FileDesiredStateStore(_dir.Path))
        {
            var result = await store.PutAsync(StateWithPool("web"), cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal(StoreWriteStatus.Applied, result.Status);
            Assert.Equal(1, store.Current.Version);
            Assert.True(store.Current.State.Config.UpstreamPools.ContainsKey("web"));
        }
        using var reopened = new FileDesiredStateStore(_dir.Path);
        Assert.Equal(1, reopened.Current.Version);
        Assert.True(reopened.Current.State.Config.UpstreamPools.ContainsKey("web"));
    }

    [Fact]
    public async Task A_stale_expected_version_is_a_conflict_and_writes_nothing()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        var ct = TestContext.Current.CancellationToken;
        await store.PutAsync(StateWithPool("a"), expectedVersion: 0, ct);
        var stale = await store.PutAsync(StateWithPool("b"), expectedVersion: 0, ct);
        Assert.Equal(StoreWriteStatus.VersionConflict, stale.Status);
        Assert.Equal(1, stale.Current.Version);
        Assert.True(store.Current.State.Config.UpstreamPools.ContainsKey("a"));
    }

    [Fact]
    public async Task An_invalid_state_is_rejected_with_its_errors_and_never_stored()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        var invalid = new DesiredState { Config = new ProxyConfig { Routes = [new RouteSpec { Id = "r", UpstreamPool = "missing" }] } };
        var result = await store.PutAsync(invalid, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(StoreWriteStatus.Invalid, result.Status);
        Assert.Equal("routes[0].upstream_pool", Assert.Single(result.Validation!.Errors).Field);
        Assert.Equal(0, store.Current.Version);
        Assert.False(File.Exists(Path.Combine(_dir.Path, FileDesiredStateStore.FileName)));
    }

    [Fact]
    public async Task Concurrent_compare_and_set_writers_get_exactly_one_winner_per_version()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        var ct = TestContext.Current.CancellationToken;
        const int writers = 8, rounds = 10;
        var wins = new int[rounds + 1];
        await Parallel.ForAsync(0, writers, ct, async (w, token) =>
        {
            for (var round = 0; round < rounds; round++)
            {
                // Every writer tries to move each version forward exactly once.
                var expected = store.Current.Version;
                var result = await store.PutAsync(StateWithPool($"w{w}-v{expected}"), expected, token);
                if (result.Status == StoreWriteStatus.Applied)
                {
                    Assert.Equal(expected + 1, result.Current.Version);
                    Interlocked.Increment(ref wins[Math.Min(expected, rounds)]);
                }
                else
                {
                    Assert.Equal(StoreWriteStatus.VersionConflict, result.Status);
                }
            }
        });
        Assert.All(wins.Take((int)Math.Min(store.Current.Version, rounds)), count => Assert.Equal(1, count));
        Assert.True(store.Current.Version >= rounds);
    }

    [Fact]
    public async Task Waiters_are_woken_by_a_write_without_polling()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        var ct = TestContext.Current.CancellationToken;
        var waiting = store.WaitForChangeAsync(0, ct).AsTask();
        Assert.False(waiting.IsCompleted);
        await store.PutAsync(StateWithPool("a"), cancellationToken: ct);
        var changed = await waiting.WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Equal(1, changed.Version);
        Assert.Equal(1, (await store.WaitForChangeAsync(0, ct)).Version); // already newer: returns at once
    }

    [Fact]
    public async Task A_torn_temp_file_from_an_interrupted_write_is_ignored_and_cleaned_up()
    {
        using (var store = new FileDesiredStateStore(_dir.Path))
        {
            await store.PutAsync(StateWithPool("acknowledged"), cancellationToken: TestContext.Current.CancellationToken);
        }
        // A crash after the temp file was partly written and before the rename leaves exactly this behind.
        var full = await File.ReadAllBytesAsync(Path.Combine(_dir.Path, FileDesiredStateStore.FileName), TestContext.Current.CancellationToken);
        var torn = Path.Combine(_dir.Path, $"{FileDesiredStateStore.FileName}.{Guid.NewGuid():N}.tmp");
        await File.WriteAllBytesAsync(torn, full.AsMemory(0, full.Length / 2), TestContext.Current.CancellationToken);

        using var reopened = new FileDesiredStateStore(_dir.Path);
        Assert.Equal(1, reopened.Current.Version);
        Assert.True(reopened.Current.State.Config.UpstreamPools.ContainsKey("acknowledged"));
        Assert.False(File.Exists(torn));
    }

    [Fact]
    public async Task A_corrupt_state_file_stops_start_up_with_a_clear_message()
    {
        using (var store = new FileDesiredStateStore(_dir.Path))
        {
            await store.PutAsync(StateWithPool("a"), cancellationToken: TestContext.Current.CancellationToken);
        }
        var path = Path.Combine(_dir.Path, FileDesiredStateStore.FileName);
        var text = await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(path, text.Replace("10.0.0.1:80", "10.0.0.9:80", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        var ex = Assert.Throws<InvalidOperationException>(() => new FileDesiredStateStore(_dir.Path));
        Assert.Contains("content hash does not match", ex.Message, StringComparison.Ordinal);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_store_on_the_same_directory_is_refused()
    {
        using var first = new FileDesiredStateStore(_dir.Path);
        var ex = Assert.Throws<InvalidOperationException>(() => new FileDesiredStateStore(_dir.Path));
        Assert.Contains("in use by another Lb process", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_file_on_disk_is_never_torn_while_writes_run()
    {
        using var store = new FileDesiredStateStore(_dir.Path);
        var path = Path.Combine(_dir.Path, FileDesiredStateStore.FileName);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await store.PutAsync(StateWithPool($"p{i}"), cancellationToken: cts.Token);
            }
        }, cts.Token);
        while (!writer.IsCompleted)
        {
            if (File.Exists(path))
            {
                var text = await File.ReadAllTextAsync(path, cts.Token);
                Assert.EndsWith("}", text.TrimEnd(), StringComparison.Ordinal);
                Assert.Contains("content_hash", text, StringComparison.Ordinal);
            }
        }
        await writer;
        Assert.Equal(50, store.Current.Version);
    }
}
