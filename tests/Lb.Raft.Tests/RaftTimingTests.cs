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
        // The leader sends a heartbeat every lease/2 = 1 s, and a request may take the lease before the peer counts as down.
        Assert.Equal(1000, timing.LowerElectionTimeoutMs * timing.HeartbeatThreshold, precision: 6);
        Assert.Equal(TimeSpan.FromSeconds(2), timing.RequestTimeout);
    }
}
