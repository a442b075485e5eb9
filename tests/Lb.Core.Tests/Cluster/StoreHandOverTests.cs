using Lb.Core.Cluster;
using Lb.Core.Node;
using Lb.Core.Options;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Lb.Core.Tests.Cluster;

public sealed class StoreHandOverTests : IDisposable
{
    private static readonly NodeIdentity Node1 = new("node-1", "0.0.0.0:7001", "10.0.0.11:7001");
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DesiredState StateWithPool(string poolId) => new()
    {
        Config = new ProxyConfig { UpstreamPools = new Dictionary<string, UpstreamPoolSpec> { [poolId] = new() { Upstreams = ["10.0.0.1:80"] } } },
    };

    private ServiceProvider Standalone() =>
        new ServiceCollection().AddLoadBalancer(configure: o => o.RaftDataDir = _dir.Path).Services.BuildServiceProvider();

    [Fact]
    public async Task Hand_over_keeps_version_and_content_and_later_writes_number_after_them()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = Standalone();
        var store = services.GetRequiredService<ActiveDesiredStateStore>();
        await store.PutAsync(StateWithPool("a"), cancellationToken: ct);
        await store.PutAsync(StateWithPool("b"), cancellationToken: ct);
        var before = store.Current;
        FakeClusteredStore? fake = null;

        var adopted = await store.HandOverAsync(Node1, (seed, _) => ValueTask.FromResult<IDesiredStateStore>(fake = new FakeClusteredStore(seed)), ct);

        Assert.Equal(2, adopted.Version);
        Assert.Same(fake, store.Inner);
        Assert.Equal(NodeMode.Clustered, store.Mode);
        Assert.Equal(before.Version, store.Current.Version);
        Assert.True(store.Current.State.Config.UpstreamPools.ContainsKey("b"));

        var write = await store.PutAsync(StateWithPool("c"), expectedVersion: 2, ct);
        Assert.Equal(StoreWriteStatus.Applied, write.Status);
        Assert.Equal(3, write.Current.Version);
        Assert.Equal(3, store.Current.Version);
        // The file store is no longer written to.
        Assert.Equal(2, ReadFileVersion());
    }

    [Fact]
    public async Task Watchers_follow_the_switch_and_see_replicated_writes_of_the_new_store()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = Standalone();
        var store = services.GetRequiredService<ActiveDesiredStateStore>();
        await store.PutAsync(StateWithPool("a"), cancellationToken: ct);
        FakeClusteredStore? fake = null;
        // The clustered store may number from a higher base (e.g. an index offset); versions only move forward.
        await store.HandOverAsync(Node1, (seed, _) => ValueTask.FromResult<IDesiredStateStore>(fake = new FakeClusteredStore(seed, versionOffset: 10)), ct);
        Assert.Equal(11, store.Current.Version);

        var waiting = store.WaitForChangeAsync(11, ct).AsTask();
        fake!.ApplyReplicated(StateWithPool("from-leader"));
        var seen = await waiting;

        Assert.Equal(12, seen.Version);
        Assert.True(seen.State.Config.UpstreamPools.ContainsKey("from-leader"));
    }

    [Fact]
    public async Task A_new_store_that_loses_or_renumbers_the_state_is_refused_and_the_node_stays_standalone()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = Standalone();
        var store = services.GetRequiredService<ActiveDesiredStateStore>();
        await store.PutAsync(StateWithPool("a"), cancellationToken: ct);
        await store.PutAsync(StateWithPool("b"), cancellationToken: ct);
        var file = store.Inner;
        var backwards = new FakeClusteredStore(new VersionedDesiredState(1, StateWithPool("b"), DateTimeOffset.UnixEpoch));
        var otherContent = new FakeClusteredStore(new VersionedDesiredState(2, StateWithPool("x"), DateTimeOffset.UnixEpoch));

        var ex1 = await Assert.ThrowsAsync<InvalidOperationException>(() => store.HandOverAsync(Node1, (_, _) => ValueTask.FromResult<IDesiredStateStore>(backwards), ct).AsTask());
        var ex2 = await Assert.ThrowsAsync<InvalidOperationException>(() => store.HandOverAsync(Node1, (_, _) => ValueTask.FromResult<IDesiredStateStore>(otherContent), ct).AsTask());

        Assert.Contains("stays standalone", ex1.Message, StringComparison.Ordinal);
        Assert.Contains("stays standalone", ex2.Message, StringComparison.Ordinal);
        Assert.True(backwards.Disposed);
        Assert.Same(file, store.Inner);
        Assert.Equal(NodeMode.Standalone, store.Mode);
        Assert.False(File.Exists(Path.Combine(_dir.Path, NodeDataDirectory.NodeFileName)));
        Assert.Equal(StoreWriteStatus.Applied, (await store.PutAsync(StateWithPool("c"), 2, ct)).Status);
    }

    [Fact]
    public async Task Cluster_views_and_leadership_follow_the_active_store()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = Standalone();
        var store = services.GetRequiredService<ActiveDesiredStateStore>();
        var leadership = services.GetRequiredService<ILeadershipView>();
        var cluster = services.GetRequiredService<IClusterStatusView>();

        var standaloneLease = await leadership.WaitForLeaseAsync(ct);
        Assert.True(standaloneLease.IsValid);
        Assert.Equal(NodeMode.Standalone, (await cluster.GetClusterStatusAsync(ct)).Mode);
        Assert.Equal("unconfigured", (await cluster.GetNodeStatusAsync(ct)).State);

        FakeClusteredStore? fake = null;
        await store.HandOverAsync(Node1, (seed, _) => ValueTask.FromResult<IDesiredStateStore>(fake = new FakeClusteredStore(seed)), ct);

        Assert.False(standaloneLease.IsValid);
        Assert.Null(leadership.CurrentLease);
        Assert.Equal("clustered", (await cluster.GetNodeStatusAsync(ct)).State);
        Assert.Equal("follower", (await cluster.GetClusterStatusAsync(ct)).State);

        var waiting = leadership.WaitForLeaseAsync(ct).AsTask();
        Assert.False(waiting.IsCompleted);
        fake!.Leadership.Grant(5, DateTimeOffset.UnixEpoch);
        Assert.Equal(5, (await waiting).Term);
        Assert.True((await cluster.GetClusterStatusAsync(ct)).IsLeader);
    }

    [Fact]
    public async Task A_clustered_node_restarts_on_the_clustered_store_or_refuses_to_start_without_one()
    {
        using (var directory = new NodeDataDirectory(_dir.Path))
        {
            directory.RecordClustered(Node1);
        }

        await using (var without = Standalone())
        {
            var ex = Assert.Throws<InvalidOperationException>(() => without.GetRequiredService<IDesiredStateStore>());
            Assert.Contains(".AddRaftStore()", ex.Message, StringComparison.Ordinal);
        }

        var services = new ServiceCollection();
        services.AddSingleton<IClusteredStoreProvider, FakeProvider>();
        services.AddLoadBalancer(configure: o => o.RaftDataDir = _dir.Path);
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<ActiveDesiredStateStore>();
        Assert.IsType<FakeClusteredStore>(store.Inner);
        Assert.Equal(NodeMode.Clustered, store.Mode);
        Assert.Equal("node-1", store.Directory.Identity!.NodeId);
        // A clustered node does not lead until its store says so.
        Assert.Null(provider.GetRequiredService<ILeadershipView>().CurrentLease);
    }

    private long ReadFileVersion()
    {
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_dir.Path, FileDesiredStateStore.FileName)));
        return json.RootElement.GetProperty("version").GetInt64();
    }

    private sealed class FakeProvider : IClusteredStoreProvider
    {
        public IDesiredStateStore OpenExisting(NodeDataDirectory directory) =>
            new FakeClusteredStore(new VersionedDesiredState(7, DesiredState.Empty, DateTimeOffset.UnixEpoch));
    }
}
