using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Raft.StateMachine;
using Lb.Core.Store;
using Lb.Raft.Store;

namespace Lb.Raft.Tests;

/// <summary>The configuration history is part of the replicated state: the same on every member, through restarts and snapshots.</summary>
public sealed class ReplicatedHistoryTests
{
    private static async Task<TestCluster> FormAsync(int historyLimit)
    {
        var cluster = new TestCluster { HistoryLimit = historyLimit };
        await cluster.FormAsync(["node-1", "node-2", "node-3"]);
        return cluster;
    }

    private static async Task WaitForVersionAsync(TestNode node, long version)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var current = node.Store.Current;
        while (current.Version < version)
        {
            current = await node.Store.WaitForChangeAsync(current.Version, cts.Token);
        }
    }

    private static string Describe(IReadOnlyList<DesiredStateHistorySummary> history) =>
        string.Join("\n", history.Select(e => $"{e.Version} {e.AppliedAt:O} {e.Origin} {e.ContentHash} {e.RouteCount}/{e.PoolCount}"));

    [Fact]
    public async Task History_is_identical_on_every_node_and_survives_restart_and_snapshot_compaction()
    {
        await using var cluster = await FormAsync(historyLimit: 20);
        // 60 writes through all three nodes: past the test cluster's snapshot threshold (50), so the restarted node
        // restores the history from a snapshot and replays the rest from its log.
        for (var i = 1; i <= 60; i++)
        {
            var writer = cluster[$"node-{1 + (i % 3)}"];
            var result = await writer.Store.PutAsync(Configs.WithPool(20_000 + i), i - 1, $"writer {writer.Id} #{i}", TestContext.Current.CancellationToken);
            Assert.Equal(StoreWriteStatus.Applied, result.Status);
        }
        foreach (var node in cluster.Nodes)
        {
            await WaitForVersionAsync(node, 60);
        }
        Assert.NotEmpty(Directory.GetFiles(cluster["node-2"].Node.Settings.SnapshotDirectory));

        var expected = Describe(cluster["node-1"].Store.GetHistory());
        var history = cluster["node-1"].Store.GetHistory();
        Assert.Equal(20, history.Count);
        Assert.Equal(Enumerable.Range(41, 20).Reverse().Select(v => (long)v), history.Select(e => e.Version));
        Assert.Equal("writer node-1 #60", history[0].Origin);
        Assert.Equal("writer node-3 #41", history[^1].Origin);
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal(expected, Describe(node.Store.GetHistory()));
        }
        var old = await cluster["node-3"].Store.FindVersionAsync(45, TestContext.Current.CancellationToken);
        Assert.NotNull(old);
        Assert.Equal(20_045, Configs.PortOf(old.State));
        Assert.Null(await cluster["node-3"].Store.FindVersionAsync(40, TestContext.Current.CancellationToken));

        var restarted = await cluster.RestartAsync("node-2");
        await WaitForVersionAsync(restarted, 60);

        Assert.Equal(expected, Describe(restarted.Store.GetHistory()));
        var afterRestart = await restarted.Store.FindVersionAsync(45, TestContext.Current.CancellationToken);
        Assert.Equal(20_045, Configs.PortOf(afterRestart!.State));
    }

    [Fact]
    public async Task Rollback_on_a_follower_is_a_new_version_with_the_old_configuration_on_every_node()
    {
        await using var cluster = await FormAsync(historyLimit: 50);
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => !n.Node.IsLeader);
        Assert.True((await leader.Store.PutAsync(Configs.WithPool(30_001), 0, "first", TestContext.Current.CancellationToken)).Succeeded);
        Assert.True((await leader.Store.PutAsync(Configs.WithPool(30_002), 1, "second", TestContext.Current.CancellationToken)).Succeeded);
        await WaitForVersionAsync(follower, 2);

        // What POST /api/config/rollback does: read the kept version, write it back as a compare-and-set.
        var kept = await follower.Store.FindVersionAsync(1, TestContext.Current.CancellationToken);
        var result = await follower.Store.PutAsync(kept!.State, 2, "rollback to version 1", TestContext.Current.CancellationToken);

        Assert.Equal(StoreWriteStatus.Applied, result.Status);
        Assert.Equal(3, result.Current.Version);
        foreach (var node in cluster.Nodes)
        {
            await WaitForVersionAsync(node, 3);
            Assert.Equal(30_001, Configs.PortOf(node.Store.Current.State));
            var newest = node.Store.GetHistory()[0];
            Assert.Equal(3, newest.Version);
            Assert.Equal("rollback to version 1", newest.Origin);
            Assert.Equal(node.Store.GetHistory()[2].ContentHash, newest.ContentHash);
        }
    }
}

public sealed class SnapshotFormatTests
{
    private static RouteSpec Route(string id, string path) => new()
    {
        Id = id, Enabled = true, UpstreamPool = "web",
        Match = new RouteMatchSpec { Hosts = ["example.test"], Path = new PathMatchSpec { Type = PathMatchTypes.Prefix, Value = path } },
    };

    [Fact]
    public void History_stored_as_changes_restores_every_version_with_its_policies_and_hash()
    {
        var v1 = Configs.WithPool(4321) with { Vip = new VipPolicy { Address = "10.0.0.100/24", GarpCount = 3 } };
        var v2 = v1 with { Config = new ConfigChange { UpsertRoutes = [Route("extra", "/extra/")] }.ApplyTo(v1.Config) };
        var v3 = v2 with
        {
            Config = new ConfigChange
            {
                RemoveRoutes = ["web"],
                UpsertPools = new Dictionary<string, UpstreamPoolSpec> { ["other"] = new() { Upstreams = [new UpstreamSpec("127.0.0.1:9")] } },
            }.ApplyTo(v2.Config),
            RaftTiming = new RaftTimingPolicy { HeartbeatTimeout = "250ms" },
        };
        var v4 = Configs.WithPool(9999); // a whole new document: no change relates it to v3
        DesiredState[] newestFirst = [v4, v3, v2, v1];
        var history = newestFirst.Select((s, i) => new ReplicatedHistoryEntry(4 - i, DateTimeOffset.UnixEpoch.AddSeconds(i), $"writer {i}", s)).ToList();

        var bytes = SnapshotFormat.Encode(new VersionedDesiredState(4, v4, DateTimeOffset.UnixEpoch), history,
            new Dictionary<string, string> { ["node-2"] = "http://10.0.0.2:41873" });
        var (state, restored, adminUrls) = SnapshotFormat.Decode(bytes, "test");

        Assert.Equal(4, state.Version);
        Assert.Equal("http://10.0.0.2:41873", Assert.Single(adminUrls).Value);
        Assert.Equal(newestFirst.Select(s => DesiredStateJson.ContentHash(s)), restored.Select(e => DesiredStateJson.ContentHash(e.State)));
        Assert.Equal(history.Select(e => (e.Version, e.Origin, e.WrittenAt)), restored.Select(e => (e.Version, e.Origin, e.WrittenAt)));
        Assert.Equal("10.0.0.100/24", restored[2].State.Vip!.Address);
        Assert.Equal("250ms", restored[1].State.RaftTiming!.HeartbeatTimeout);
        Assert.Equal(["extra"], restored[1].State.Config.Routes.Select(r => r.Id));
        // Restored versions share what they did not change, as the applied ones did.
        Assert.Same(restored[3].State.Config.Routes[0], restored[2].State.Config.Routes[0]);
        Assert.Equal(DesiredStateJson.ContentHash(v2.Config), restored[2].ContentHash);
    }

    [Fact]
    public void A_corrupted_snapshot_is_refused()
    {
        var state = Configs.WithPool(1);
        var bytes = SnapshotFormat.Encode(new VersionedDesiredState(1, state, DateTimeOffset.UnixEpoch), [new ReplicatedHistoryEntry(1, DateTimeOffset.UnixEpoch, "t", state)]);
        bytes[^3] ^= 0x5a;
        Assert.Throws<InvalidDataException>(() => SnapshotFormat.Decode(bytes, "test"));
    }
}
