using Lb.Raft.Store;

namespace Lb.Raft.Tests;

/// <summary>The leader lease Lb.Vip follows.</summary>
public sealed class LeaseTests
{
    [Fact]
    public async Task Only_the_leader_holds_a_lease_and_loses_it_when_its_majority_is_gone()
    {
        await using var cluster = new TestCluster();
        var leader = await cluster.FormAsync(["node-1", "node-2", "node-3"]);
        var lease = await leader.Store.WaitForLeaseAsync(TestContext.Current.CancellationToken).AsTask()
            .WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(lease.IsValid);
        Assert.Null(cluster["node-2"].Store.CurrentLease);
        Assert.Null(cluster["node-3"].Store.CurrentLease);

        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lease.Token.Register(() => lost.TrySetResult());
        await cluster.StopAsync("node-2");
        await cluster.StopAsync("node-3");

        await lost.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.False(lease.IsValid);
        Assert.Null(leader.Store.CurrentLease);
    }
}
