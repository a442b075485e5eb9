using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Core.Validation;
using Lb.TestSupport;

namespace Lb.Core.Tests;

public sealed class ClusterPolicyValidationTests
{
    private static ValidationError Single(ValidationResult result) => Assert.Single(result.Errors);

    [Theory]
    [InlineData("10.0.0.100", "vip address must be CIDR")]
    [InlineData("not-an-address/24", "vip address must be CIDR")]
    [InlineData("fd00::100/64", "vip address must be IPv4")]
    public void A_vip_address_must_be_an_ipv4_cidr(string address, string message)
    {
        var error = Single(ClusterPolicyValidator.ValidateVip(new VipPolicy { Address = address }));
        Assert.Equal(("vip.address", ValidationCodes.InvalidVip, message), (error.Field, error.Code, error.Message));
    }

    [Fact]
    public void Vip_count_and_durations_are_checked_with_the_contract_messages()
    {
        var result = ClusterPolicyValidator.ValidateVip(new VipPolicy { Address = "10.0.0.100/24", GarpCount = -1, GarpInterval = "fast", AcquireDelay = "-1s" });
        Assert.Equal(
            ["vip garp count must be at least 1", "vip garp interval must be a duration", "vip acquire delay must be a duration"],
            result.Errors.Select(e => e.Message));
        Assert.All(result.Errors, e => Assert.Equal(ValidationCodes.InvalidVip, e.Code));
        Assert.True(ClusterPolicyValidator.ValidateVip(new VipPolicy { Address = "10.0.0.100/24", GarpCount = 0, GarpInterval = "100ms", AcquireDelay = "0s" }).IsValid);
    }

    [Fact]
    public void Raft_timing_is_checked_in_the_contract_order()
    {
        var notPositive = ClusterPolicyValidator.ValidateRaftTiming(new RaftTimingPolicy { HeartbeatTimeout = "0s", CommitTimeout = "x" });
        Assert.Equal(["raft heartbeat timeout must be a positive duration", "raft commit timeout must be a positive duration"], notPositive.Errors.Select(e => e.Message));

        var election = Single(ClusterPolicyValidator.ValidateRaftTiming(new RaftTimingPolicy { HeartbeatTimeout = "2s", ElectionTimeout = "1s" }));
        Assert.Equal(("raft_timing.election_timeout", "raft election timeout must be greater than or equal to heartbeat timeout"), (election.Field, election.Message));

        var lease = Single(ClusterPolicyValidator.ValidateRaftTiming(new RaftTimingPolicy { HeartbeatTimeout = "1s", LeaderLeaseTimeout = "2s" }));
        Assert.Equal("raft leader lease timeout must be less than or equal to heartbeat timeout", lease.Message);
        Assert.Equal(ValidationCodes.InvalidRaftTiming, lease.Code);

        Assert.True(ClusterPolicyValidator.ValidateRaftTiming(new RaftTimingPolicy { HeartbeatTimeout = "2500ms", ElectionTimeout = "4s", LeaderLeaseTimeout = "2s", CommitTimeout = "250ms" }).IsValid);
    }

    [Fact]
    public void Raft_timing_merged_with_the_defaults_is_refused_up_front_when_raft_could_not_run_with_it()
    {
        // Only a 3 s heartbeat: the default 1 s election would be shorter (the reference fails at start with a 500).
        var error = Single(ClusterPolicyValidator.ValidateRaftTiming(new RaftTimingPolicy { HeartbeatTimeout = "3s" }));
        Assert.Equal("raft_timing.election_timeout", error.Field);
        Assert.Equal("raft election timeout 1s (default) must be greater than or equal to heartbeat timeout 3s", error.Message);
        Assert.Contains("set election_timeout too", error.Hint, StringComparison.Ordinal);

        var tooShort = Single(ClusterPolicyValidator.ValidateRaftTiming(new RaftTimingPolicy { CommitTimeout = "100us" }));
        Assert.Equal("raft commit timeout must be at least 1ms", tooShort.Message);

        var ownDefaults = new RaftTimingDefaults { ElectionTimeout = TimeSpan.FromSeconds(5), LeaderLeaseTimeout = TimeSpan.FromSeconds(1) };
        Assert.True(ClusterPolicyValidator.ValidateRaftTiming(new RaftTimingPolicy { HeartbeatTimeout = "3s" }, ownDefaults).IsValid);
    }

    [Fact]
    public async Task The_file_store_refuses_cluster_policies_the_contract_refuses()
    {
        using var dir = new TempDirectory();
        using var store = new FileDesiredStateStore(dir.Path);
        var state = DesiredState.Empty with
        {
            Vip = new VipPolicy { Address = "10.0.0.100" },
            RaftTiming = new RaftTimingPolicy { HeartbeatTimeout = "2s", ElectionTimeout = "1s" },
        };

        var result = await store.PutAsync(state, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(StoreWriteStatus.Invalid, result.Status);
        Assert.Equal([ValidationCodes.InvalidVip, ValidationCodes.InvalidRaftTiming], result.Validation!.Errors.Select(e => e.Code));
        Assert.Equal(0, store.Current.Version);
    }

    [Fact]
    public void The_content_hash_is_carried_with_the_state_and_follows_a_changed_copy()
    {
        var a = new VersionedDesiredState(1, DesiredState.Empty, DateTimeOffset.UnixEpoch);
        var config = new ProxyConfig { UpstreamPools = new Dictionary<string, UpstreamPoolSpec> { ["p"] = new() { Upstreams = ["10.0.0.1:80"] } } };
        Assert.Equal(Json.DesiredStateJson.ContentHash(ProxyConfig.Empty), a.ContentHash);
        Assert.Same(a.ContentHash, a.ContentHash);

        var b = a with { State = DesiredState.Empty with { Config = config } };
        Assert.Equal(Json.DesiredStateJson.ContentHash(config), b.ContentHash);
        Assert.NotEqual(a.ContentHash, b.ContentHash);
    }
}
