using Lb.Raft.Store;
using Lb.Core.Store;

namespace Lb.Raft.Tests;

/// <summary>Three real Raft nodes on loopback in one process.</summary>
public sealed class ThreeNodeClusterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static async Task<TestCluster> FormAsync()
    {
        var cluster = new TestCluster();
        await cluster.FormAsync(["node-1", "node-2", "node-3"]);
        return cluster;
    }

    private static Task EventuallyAsync(Func<bool> condition, string what) => TestCluster.EventuallyAsync(condition, what, Patience);

    [Fact]
    public async Task Bootstrap_and_two_joins_give_one_leader_and_three_voters()
    {
        await using var cluster = await FormAsync();

        var leader = await cluster.WaitForLeaderAsync();
        Assert.Equal("node-1", leader.Id);
        foreach (var node in cluster.Nodes)
        {
            await EventuallyAsync(() => node.Node.Cluster.Members.Count == 3, $"{node.Id} sees three members");
            await EventuallyAsync(() => node.Node.Leader?.NodeId == "node-1", $"{node.Id} knows node-1 leads");
        }
        Assert.Single(cluster.Nodes, n => n.Node.IsLeader);
    }

    [Fact]
    public async Task Follower_write_is_forwarded_and_visible_on_all_three_after_return()
    {
        await using var cluster = await FormAsync();
        var follower = cluster["node-3"];
        Assert.False(follower.Node.IsLeader);

        var result = await follower.Store.PutAsync(Configs.WithPool(3001), expectedVersion: 0, TestContext.Current.CancellationToken);

        Assert.Equal(StoreWriteStatus.Applied, result.Status);
        Assert.Equal(1, result.Current.Version);
        // Read-your-writes: the follower that answered already has it.
        Assert.Equal(1, follower.Store.Current.Version);
        Assert.Equal(3001, Configs.PortOf(follower.Store.Current.State));
        foreach (var node in cluster.Nodes)
        {
            await EventuallyAsync(() => node.Store.Current.Version == 1, $"{node.Id} applied version 1");
            Assert.Equal(3001, Configs.PortOf(node.Store.Current.State));
        }
    }

    [Fact]
    public async Task Stale_compare_and_set_is_rejected_on_every_node()
    {
        await using var cluster = await FormAsync();
        Assert.True((await cluster["node-2"].Store.PutAsync(Configs.WithPool(3001), expectedVersion: 0, TestContext.Current.CancellationToken)).Succeeded);

        foreach (var node in cluster.Nodes)
        {
            var stale = await node.Store.PutAsync(Configs.WithPool(4000), expectedVersion: 0, TestContext.Current.CancellationToken);
            Assert.Equal(StoreWriteStatus.VersionConflict, stale.Status);
        }

        foreach (var node in cluster.Nodes)
        {
            await EventuallyAsync(() => node.Store.Current.Version == 1, $"{node.Id} applied version 1");
            Assert.Equal(3001, Configs.PortOf(node.Store.Current.State));
        }
    }

    [Fact]
    public async Task A_leader_stopped_right_after_the_last_join_is_replaced_by_the_other_two()
    {
        await using var cluster = new TestCluster();
        var leader = await cluster.FormAsync(["node-1", "node-2", "node-3"]);

        await cluster.StopAsync(leader.Id); // before any write or heartbeat after the join

        var next = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(leader.Id, next.Id);
    }

    [Fact]
    public async Task Restarting_all_three_resumes_the_same_cluster_without_a_bootstrap()
    {
        await using var cluster = await FormAsync();
        for (var port = 3001; port <= 3005; port++)
        {
            Assert.True((await cluster["node-2"].Store.PutAsync(Configs.WithPool(port), cancellationToken: TestContext.Current.CancellationToken)).Succeeded);
        }
        foreach (var node in cluster.Nodes)
        {
            await EventuallyAsync(() => node.Store.Current.Version == 5, $"{node.Id} applied version 5");
        }

        var addresses = cluster.Nodes.ToDictionary(n => n.Id, n => n.Address);
        foreach (var id in addresses.Keys)
        {
            await cluster.StopAsync(id);
        }
        foreach (var id in new[] { "node-3", "node-1", "node-2" })
        {
            // Restarted nodes start warm (ColdStart false): only the persisted member list makes them a cluster again.
            await cluster.StartAsync(id, coldStart: false, addresses[id]);
        }

        await cluster.WaitForLeaderAsync();
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal(5, node.Store.Current.Version);
            Assert.Equal(3005, Configs.PortOf(node.Store.Current.State));
            await EventuallyAsync(() => node.Node.Cluster.Members.Count == 3, $"{node.Id} sees three members");
        }
        var after = await cluster["node-3"].Store.PutAsync(Configs.WithPool(3006), expectedVersion: 5, TestContext.Current.CancellationToken);
        Assert.Equal(StoreWriteStatus.Applied, after.Status);
        Assert.Equal(6, after.Current.Version);
    }
}

public sealed class MembershipTests
{
    [Fact]
    public async Task A_removed_member_learns_it_was_removed_and_the_rest_keep_accepting_writes()
    {
        await using var cluster = new TestCluster();
        var leader = await cluster.FormAsync(["node-1", "node-2", "node-3"]);
        var removed = cluster["node-3"];
        var sawRemoval = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        removed.Node.Removed += _ => sawRemoval.TrySetResult();

        Assert.Equal(MembershipChange.Done, await leader.Store.RemoveMemberAsync("node-3", TestContext.Current.CancellationToken));

        await sawRemoval.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(removed.Node.IsRemoved);
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            while (leader.Node.Cluster.Members.Count != 2)
            {
                await Task.Delay(10, wait.Token);
            }
        }
        var write = await cluster["node-2"].Store.PutAsync(Configs.WithPool(3001), expectedVersion: 0, TestContext.Current.CancellationToken);
        Assert.True(write.Succeeded);
    }
}

public sealed class ReachabilityTests
{
    [Fact]
    public async Task The_leader_reports_a_stopped_member_unreachable_and_a_follower_reports_only_what_it_observes()
    {
        await using var cluster = new TestCluster();
        var leader = await cluster.FormAsync(["node-1", "node-2", "node-3"]);
        Assert.True((await leader.Store.PutAsync(Configs.WithPool(5001), 0, TestContext.Current.CancellationToken)).Succeeded);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        async Task<Dictionary<string, bool?>> ReachabilityAsync(TestNode node) =>
            (await node.Store.GetClusterStatusAsync(cts.Token)).Members!.ToDictionary(m => m.Id, m => m.Reachable);
        while ((await ReachabilityAsync(leader)).Values.Any(r => r != true))
        {
            await Task.Delay(20, cts.Token);
        }
        var follower = await ReachabilityAsync(cluster["node-2"]);
        Assert.True(follower["node-1"]);
        Assert.True(follower["node-2"]);
        Assert.Null(follower["node-3"]);

        await cluster.StopAsync("node-3");
        // Writes make the leader contact node-3 again and notice it is gone.
        for (var v = 1; (await ReachabilityAsync(leader))["node-3"] != false; v++)
        {
            await leader.Store.PutAsync(Configs.WithPool(5001 + v), cancellationToken: cts.Token);
        }
        var after = await ReachabilityAsync(leader);
        Assert.True(after["node-1"]);
        Assert.True(after["node-2"]);
        var nodeStatus = await cluster["node-2"].Store.GetNodeStatusAsync(cts.Token);
        Assert.Equal(3, nodeStatus.Members!.Count);
    }
}
