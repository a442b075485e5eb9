using Lb.Core.Store;
using Lb.Raft.Node;
using Lb.Raft.Store;
using Lb.TestSupport;

namespace Lb.Raft.Tests;

/// <summary>Mutual TLS on the Raft port: members from the cluster CA form a cluster; anyone else cannot join it.</summary>
public sealed class RaftTlsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    /// <summary>How long a refused join may try before the test calls it refused.</summary>
    private static readonly TimeSpan JoinAttempt = TimeSpan.FromSeconds(20);

    private static RaftTlsFiles Raft(TestPemFiles files) => new(files.Certificate, files.Key, files.Ca);

    private static async Task<TestCluster> FormAsync(TestPki pki, params string[] ids)
    {
        var cluster = new TestCluster();
        await cluster.FormAsync(ids, id => Raft(pki.Issue(id)));
        return cluster;
    }

    private static Task EventuallyAsync(Func<bool> condition, string what) => TestCluster.EventuallyAsync(condition, what, Patience);

    /// <summary>Asks the leader to add <paramref name="outsider"/>; true when the member was added.</summary>
    private static async Task<bool> TryAddAsync(TestNode leader, TestNode outsider)
    {
        using var cts = new CancellationTokenSource(JoinAttempt);
        try
        {
            return await leader.Store.AddMemberAsync(outsider.Address, cts.Token) == MembershipChange.Done;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task AssertClusterUnaffectedAsync(TestCluster cluster, TestNode leader, TestNode outsider, params string[] members)
    {
        Assert.DoesNotContain(leader.Node.Cluster.Members, m => Equals(m.EndPoint, outsider.Address));
        // A loaded host may hold an election meanwhile (the write then finds no leader for a moment): the cluster must
        // take the write once it has one, which a member stuck on the outsider would not.
        var deadline = DateTime.UtcNow + Patience;
        var result = await cluster[members[^1]].Store.PutAsync(Configs.WithPool(3002), expectedVersion: leader.Store.Current.Version, TestContext.Current.CancellationToken);
        while (result.Status == StoreWriteStatus.Unavailable && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            result = await cluster[members[^1]].Store.PutAsync(Configs.WithPool(3002), expectedVersion: cluster[members[^1]].Store.Current.Version, TestContext.Current.CancellationToken);
        }
        Assert.Equal(StoreWriteStatus.Applied, result.Status);
        foreach (var id in members)
        {
            await EventuallyAsync(() => cluster[id].Store.Current.Version == result.Current.Version, $"{id} applied version {result.Current.Version}");
        }
        Assert.Equal(0, outsider.Store.Current.Version);
    }

    [Fact]
    public async Task Three_members_with_certificates_from_the_cluster_CA_replicate_a_follower_write_to_all_three()
    {
        using var pki = new TestPki("lb-test-cluster-ca");
        await using var cluster = await FormAsync(pki, "node-1", "node-2", "node-3");
        var follower = cluster["node-3"];
        Assert.False(follower.Node.IsLeader);

        var result = await follower.Store.PutAsync(Configs.WithPool(3001), expectedVersion: 0, TestContext.Current.CancellationToken);

        Assert.Equal(StoreWriteStatus.Applied, result.Status);
        foreach (var node in cluster.Nodes)
        {
            await EventuallyAsync(() => node.Node.Cluster.Members.Count == 3, $"{node.Id} sees three members");
            await EventuallyAsync(() => node.Store.Current.Version == 1, $"{node.Id} applied version 1");
            Assert.Equal(3001, Configs.PortOf(node.Store.Current.State));
        }
    }

    [Fact]
    public async Task A_node_with_a_certificate_from_another_CA_cannot_join_and_the_cluster_keeps_working()
    {
        using var pki = new TestPki("lb-test-cluster-ca");
        using var foreign = new TestPki("lb-test-foreign-ca");
        await using var cluster = await FormAsync(pki, "node-1", "node-2");
        var leader = await cluster.WaitForLeaderAsync();
        // The outsider trusts its own CA only, so neither side accepts the other.
        var outsider = await cluster.StartAsync("intruder", coldStart: false, tls: Raft(foreign.Issue("intruder")));

        Assert.False(await TryAddAsync(leader, outsider));

        await AssertClusterUnaffectedAsync(cluster, leader, outsider, "node-1", "node-2");
    }

    [Fact]
    public async Task A_node_trusting_the_cluster_CA_with_a_certificate_from_another_CA_cannot_join()
    {
        using var pki = new TestPki("lb-test-cluster-ca");
        using var foreign = new TestPki("lb-test-foreign-ca");
        await using var cluster = await FormAsync(pki, "node-1", "node-2");
        var leader = await cluster.WaitForLeaderAsync();
        // It would accept the members, but the members must refuse it.
        var outsider = await cluster.StartAsync("intruder", coldStart: false, tls: Raft(foreign.Issue("intruder") with { Ca = pki.CaFile }));

        Assert.False(await TryAddAsync(leader, outsider));

        await AssertClusterUnaffectedAsync(cluster, leader, outsider, "node-1", "node-2");
    }

    [Fact]
    public async Task A_plain_TCP_node_cannot_join_a_TLS_cluster()
    {
        using var pki = new TestPki("lb-test-cluster-ca");
        await using var cluster = await FormAsync(pki, "node-1", "node-2");
        var leader = await cluster.WaitForLeaderAsync();
        var plain = await cluster.StartAsync("plain", coldStart: false);

        Assert.False(await TryAddAsync(leader, plain));

        await AssertClusterUnaffectedAsync(cluster, leader, plain, "node-1", "node-2");
    }
}
