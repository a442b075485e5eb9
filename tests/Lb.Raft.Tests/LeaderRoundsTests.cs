using System.Diagnostics.Metrics;
using Lb.Raft.Node;

namespace Lb.Raft.Tests;

/// <summary>
/// The leader lease is renewed from DotNext's record of each acknowledged heartbeat round (its server-side
/// <c>broadcast-time</c> histogram, tagged with the leader's address); these measurements are made here by hand.
/// </summary>
public sealed class LeaderRoundsTests
{
    [Fact]
    public void An_acknowledged_round_reaches_only_the_node_with_that_address_until_it_unsubscribes()
    {
        using var meter = new Meter("DotNext.Net.Cluster.Consensus.Raft.Server");
        var broadcast = meter.CreateHistogram<double>("broadcast-time", "ms");
        var seenByA = new List<TimeSpan>();
        var seenByB = new List<TimeSpan>();
        var a = LeaderRounds.Subscribe("192.0.2.1:7000", seenByA.Add);
        using var b = LeaderRounds.Subscribe("192.0.2.2:7000", seenByB.Add);

        broadcast.Record(12.5, new KeyValuePair<string, object?>("dotnext.raft.server.address", "192.0.2.1:7000"));
        broadcast.Record(3, new KeyValuePair<string, object?>("dotnext.raft.server.address", "192.0.2.9:7000"));
        a.Dispose();
        broadcast.Record(7, new KeyValuePair<string, object?>("dotnext.raft.server.address", "192.0.2.1:7000"));

        Assert.Equal([TimeSpan.FromMilliseconds(12.5)], seenByA);
        Assert.Empty(seenByB);
    }

    [Fact]
    public void A_node_restarted_on_the_same_address_keeps_its_subscription_when_the_old_one_is_disposed_late()
    {
        using var meter = new Meter("DotNext.Net.Cluster.Consensus.Raft.Server");
        var broadcast = meter.CreateHistogram<double>("broadcast-time", "ms");
        var seenByNew = new List<TimeSpan>();
        var old = LeaderRounds.Subscribe("192.0.2.3:7000", _ => { });
        using var restarted = LeaderRounds.Subscribe("192.0.2.3:7000", seenByNew.Add);

        old.Dispose();
        broadcast.Record(1, new KeyValuePair<string, object?>("dotnext.raft.server.address", "192.0.2.3:7000"));

        Assert.Equal([TimeSpan.FromMilliseconds(1)], seenByNew);
    }
}
