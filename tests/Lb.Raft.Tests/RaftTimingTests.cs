using Lb.Core.Spec;
using Lb.Raft.Timing;

namespace Lb.Raft.Tests;

public sealed class RaftTimingTests
{
    [Fact]
    public void Unset_values_take_the_lan_defaults()
    {
        Assert.True(RaftTiming.TryCreate(new RaftTimingPolicy { ElectionTimeout = "1s" }, out var timing, out _));
        Assert.Equal(RaftTiming.Default.HeartbeatTimeout, timing.HeartbeatTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), timing.ElectionTimeout);
        Assert.True(timing.LeaderLeaseTimeout < timing.HeartbeatTimeout);
    }

    [Theory]
    [InlineData("0s", null, null, null, "raft heartbeat timeout must be a positive duration")]
    [InlineData(null, "soon", null, null, "raft election timeout must be a positive duration")]
    [InlineData(null, null, "-1s", null, "raft leader lease timeout must be a positive duration")]
    [InlineData(null, null, null, "x", "raft commit timeout must be a positive duration")]
    [InlineData("3s", null, null, null, "raft election timeout must be greater than or equal to heartbeat timeout")]
    [InlineData("100ms", "200ms", "150ms", null, "raft leader lease timeout must be less than or equal to heartbeat timeout")]
    [InlineData("1ms", "2ms", "1ms", null, "raft heartbeat, election and leader lease timeouts must be at least 5ms")]
    public void Invalid_timing_is_reported_with_the_contract_message(string? heartbeat, string? election, string? lease, string? commit, string message)
    {
        var policy = new RaftTimingPolicy { HeartbeatTimeout = heartbeat, ElectionTimeout = election, LeaderLeaseTimeout = lease, CommitTimeout = commit };

        Assert.False(RaftTiming.TryCreate(policy, out _, out var error));
        Assert.Equal(message, error);
    }

    [Fact]
    public void The_reference_field_values_map_to_a_heartbeat_within_the_lease()
    {
        Assert.True(RaftTiming.TryCreate(new RaftTimingPolicy { HeartbeatTimeout = "2500ms", ElectionTimeout = "4s", LeaderLeaseTimeout = "2s", CommitTimeout = "250ms" }, out var timing, out _));
        Assert.Equal(2500, timing.LowerElectionTimeoutMs);
        Assert.Equal(4000, timing.UpperElectionTimeoutMs);
        // The leader sends a heartbeat every lease/4 = 500 ms; a request may take the lease, a connect half of it.
        Assert.Equal(500, timing.LowerElectionTimeoutMs * timing.HeartbeatThreshold, precision: 6);
        Assert.Equal(TimeSpan.FromSeconds(2), timing.RequestTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), timing.ConnectTimeout);
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("2500ms", "4s", "2s")]
    [InlineData("150ms", "300ms", "150ms")]
    [InlineData("1s", "1s", "5ms")]
    public void A_new_leaders_first_round_ends_before_its_election_lease_and_the_lease_before_any_election(string? heartbeat, string? election, string? lease)
    {
        Assert.True(RaftTiming.TryCreate(new RaftTimingPolicy { HeartbeatTimeout = heartbeat, ElectionTimeout = election, LeaderLeaseTimeout = lease }, out var timing, out _));
        var period = TimeSpan.FromMilliseconds(timing.LowerElectionTimeoutMs * timing.HeartbeatThreshold);

        // The first round of a term waits for every member (a dead one until its connect fails: its connection is
        // gone after the failed vote); the next one, a period later at most, must find the election's lease still
        // valid to renew it, with time to spare for the round itself.
        Assert.True(timing.ConnectTimeout + period <= timing.LeaderLeaseTimeout * 3 / 4 + TimeSpan.FromMilliseconds(0.001));
        Assert.True(timing.ConnectTimeout <= timing.RequestTimeout);
        // The lease ends before a follower that heard the leader may vote for anyone else.
        Assert.True(timing.LeaderLeaseTimeout <= timing.HeartbeatTimeout);
    }
}
