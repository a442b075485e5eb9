using Lb.Raft.Store;
using System.Diagnostics;
using Lb.Core.Store;

namespace Lb.Raft.Tests;

/// <summary>Snapshots, log compaction, failover and quorum loss on real nodes.</summary>
public sealed class DurabilityTests
{
    private static async Task<TestCluster> FormAsync(int size)
    {
        var cluster = new TestCluster();
        await cluster.FormAsync([.. Enumerable.Range(1, size).Select(i => $"node-{i}")]);
        return cluster;
    }

    private static long DirectorySize(string path) =>
        new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    [Fact]
    public async Task A_thousand_writes_are_compacted_into_snapshots_and_survive_a_restart()
    {
        await using var cluster = await FormAsync(1);
        var node = cluster["node-1"];
        for (var i = 1; i <= 1000; i++)
        {
            var result = await node.Store.PutAsync(Configs.WithPool(10_000 + i), expectedVersion: i - 1, TestContext.Current.CancellationToken);
            Assert.Equal(StoreWriteStatus.Applied, result.Status);
        }
        var dataDir = node.Node.Settings.DataDirectory;
        var snapshots = Directory.GetFiles(node.Node.Settings.SnapshotDirectory);

        var restarted = await cluster.RestartAsync("node-1");

        Assert.Equal(1000, restarted.Store.Current.Version);
        Assert.Equal(11_000, Configs.PortOf(restarted.Store.Current.State));
        // Old snapshots are deleted once a newer one exists, and the log before the snapshot is dropped.
        Assert.InRange(snapshots.Length, 1, 2);
        Assert.InRange(DirectorySize(dataDir), 1, 8 * 1024 * 1024);
        await cluster.WaitForLeaderAsync();
        var next = await restarted.Store.PutAsync(Configs.WithPool(12_000), expectedVersion: 1000, TestContext.Current.CancellationToken);
        Assert.Equal(1001, next.Current.Version);
    }

    [Fact]
    public async Task A_stopped_leader_is_replaced_and_writes_succeed_again_on_the_survivors()
    {
        await using var cluster = await FormAsync(3);
        var old = await cluster.WaitForLeaderAsync();
        Assert.True((await cluster["node-2"].Store.PutAsync(Configs.WithPool(3001), expectedVersion: 0, TestContext.Current.CancellationToken)).Succeeded);

        await cluster.StopAsync(old.Id);
        var survivor = cluster.Nodes.First();
        var result = await survivor.Store.PutAsync(Configs.WithPool(3002), expectedVersion: 1, TestContext.Current.CancellationToken);
        if (result.Status == StoreWriteStatus.Unavailable)
        {
            // The election may still run when the first write arrives; a client retries.
            result = await survivor.Store.PutAsync(Configs.WithPool(3002), expectedVersion: 1, TestContext.Current.CancellationToken);
        }

        Assert.Equal(StoreWriteStatus.Applied, result.Status);
        Assert.Equal(2, result.Current.Version);
        var leader = await cluster.WaitForLeaderAsync();
        Assert.NotEqual(old.Id, leader.Id);
    }

    [Fact]
    public async Task Without_a_quorum_a_write_fails_as_no_quorum_within_two_seconds_and_the_state_stays()
    {
        await using var cluster = await FormAsync(3);
        Assert.True((await cluster["node-3"].Store.PutAsync(Configs.WithPool(3001), expectedVersion: 0, TestContext.Current.CancellationToken)).Succeeded);
        var lonely = cluster["node-3"];
        await cluster.StopAsync("node-1");
        await cluster.StopAsync("node-2");

        var clock = Stopwatch.StartNew();
        var result = await lonely.Store.PutAsync(Configs.WithPool(3002), expectedVersion: 1, TestContext.Current.CancellationToken);
        clock.Stop();

        Assert.Equal(StoreWriteStatus.Unavailable, result.Status);
        Assert.Contains("no quorum", result.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}"); // does not hang; the 1.8 s write timeout is what ends it
        Assert.Equal(1, lonely.Store.Current.Version);
        Assert.Equal(3001, Configs.PortOf(lonely.Store.Current.State));
    }
}
