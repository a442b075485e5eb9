using Lb.Core.Spec;

namespace Lb.Raft.Timing;

/// <summary>
/// Raft timing with the contract's four knobs (§7.4), merged with Lb's defaults and validated as a whole.
/// Mapping onto DotNext: a follower waits a random <see cref="HeartbeatTimeout"/>..<see cref="ElectionTimeout"/>
/// without leader contact before it campaigns (pre-vote first). The leader sends a heartbeat round every quarter of
/// <see cref="LeaderLeaseTimeout"/>; its leader lease (Lb.Raft's, what Lb.Vip follows) ends one lease timeout after
/// the start of the last round a majority acknowledged, on a timer of its own, so it has ended before any follower
/// that heard that round can help elect someone else (lease ≤ heartbeat timeout). A request may take the whole lease
/// before the peer counts as unreachable (shorter made leaders step down while a just-started node joined, on a busy
/// host); DotNext steps a leader down when a round fails that way, at most two lease timeouts after the last
/// acknowledged round (the lease has ended before that).
/// <see cref="CommitTimeout"/> is shown only: DotNext replicates at once on every write.
/// </summary>
/// <param name="HeartbeatTimeout">Minimum follower wait without leader contact.</param>
/// <param name="ElectionTimeout">Maximum follower wait (the randomisation range ends here).</param>
/// <param name="LeaderLeaseTimeout">How long a leader may go without a majority before it steps down.</param>
/// <param name="CommitTimeout">Kept for the contract; not used by DotNext.</param>
public sealed record RaftTiming(TimeSpan HeartbeatTimeout, TimeSpan ElectionTimeout, TimeSpan LeaderLeaseTimeout, TimeSpan CommitTimeout)
{
    /// <summary>
    /// Lb's defaults, tuned for a LAN: 250–280 ms without leader contact before a follower campaigns, a 200 ms lease,
    /// and a request may take 200 ms (a busy or just-started node) before its peer counts as unreachable. A dead leader
    /// is replaced when the later of the two surviving followers' timers fires (DotNext's pre-vote: a follower accepts
    /// only once its own randomised timeout has run out), so the upper bound is what a failover costs. The range can be
    /// this narrow because Lb's transport settles survivors that campaign at the same moment
    /// (<see cref="Transport.PreVoteTieBreak"/>, with or without Raft TLS). Slow or lossy networks should use the
    /// reference's field-tested
    /// <c>2500ms/4s/2s/250ms</c>.
    /// </summary>
    public static RaftTiming Default { get; } = new(
        TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(280), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(50));

    /// <summary>Lower bound of the DotNext election timeout, in milliseconds.</summary>
    internal int LowerElectionTimeoutMs => (int)HeartbeatTimeout.TotalMilliseconds;

    /// <summary>Upper bound of the DotNext election timeout, in milliseconds (always above the lower one).</summary>
    internal int UpperElectionTimeoutMs => Math.Max((int)ElectionTimeout.TotalMilliseconds, LowerElectionTimeoutMs + 1);

    /// <summary>Heartbeat period (a quarter of the lease) as the fraction of the lower election timeout DotNext takes.</summary>
    internal double HeartbeatThreshold => Math.Clamp(LeaderLeaseTimeout.TotalMilliseconds / 4 / LowerElectionTimeoutMs, 0.0001, 0.5);

    /// <summary>
    /// How long one Raft request may take before the peer counts as unreachable: the lease. Long, because a failed
    /// round steps the leader down (a busy host, or a node that has just started and joins, must not cause elections).
    /// The lease does not depend on it: it has a timer of its own.
    /// </summary>
    internal TimeSpan RequestTimeout => LeaderLeaseTimeout;

    /// <summary>
    /// How long a TCP connect to a peer may take: half the lease. A connect is one round trip in the kernel, far below
    /// that on a LAN, but its completion still has to be scheduled in this process: a quarter of the lease (50 ms)
    /// made joins time out in a test run on a starved host. The bound matters for a dead peer nobody knew was dead:
    /// a DotNext candidate waits for every pre-vote and vote, and a new leader's first round for every member. Lb's
    /// transport (plain Raft) skips a peer known to be down (<see cref="PeerFailureHold"/>), so a candidate pays it at
    /// most once, and not at all for a leader whose process died (its connection to the follower closed).
    /// </summary>
    internal TimeSpan ConnectTimeout => LeaderLeaseTimeout / 2;

    /// <summary>
    /// How long a peer known to be down (a connect refused or timed out, a connection it closed, the leader's connection
    /// to this node closing) is not tried again by a node that is not leading (a peer that connects to this node is
    /// tried again at once): the maximum election timeout plus the lease, so it covers a follower's longest wait after
    /// the leader died plus its pre-vote and vote. Skipping a member only loses its vote, which is always safe.
    /// </summary>
    internal TimeSpan PeerFailureHold => ElectionTimeout + LeaderLeaseTimeout;

    /// <summary>
    /// How long a follower that granted a higher-ranked member's pre-vote stays out of its own campaign
    /// (<see cref="Transport.PreVoteTieBreak"/>): half the minimum follower wait, so it has ended before the follower's
    /// next timeout (after a pre-vote it lost, a follower waits at least <see cref="HeartbeatTimeout"/> again).
    /// </summary>
    internal TimeSpan StandAsideWindow => HeartbeatTimeout / 2;

    /// <summary>The policy form with all four values, as <c>/api/cluster</c> shows it.</summary>
    public RaftTimingPolicy ToPolicy() => new()
    {
        HeartbeatTimeout = GoDuration.Format(HeartbeatTimeout),
        ElectionTimeout = GoDuration.Format(ElectionTimeout),
        LeaderLeaseTimeout = GoDuration.Format(LeaderLeaseTimeout),
        CommitTimeout = GoDuration.Format(CommitTimeout),
    };

    /// <summary>
    /// Merges <paramref name="policy"/> (unset values take <see cref="Default"/>) and validates in the contract's
    /// order; <paramref name="error"/> is the contract's message for the first violation.
    /// </summary>
    public static bool TryCreate(RaftTimingPolicy? policy, out RaftTiming timing, out string? error)
    {
        timing = Default;
        error = null;
        if (policy is null)
        {
            return true;
        }
        if (!TryPart(policy.HeartbeatTimeout, Default.HeartbeatTimeout, "raft heartbeat timeout must be a positive duration", out var heartbeat, ref error)
            || !TryPart(policy.ElectionTimeout, Default.ElectionTimeout, "raft election timeout must be a positive duration", out var election, ref error)
            || !TryPart(policy.LeaderLeaseTimeout, Default.LeaderLeaseTimeout, "raft leader lease timeout must be a positive duration", out var lease, ref error)
            || !TryPart(policy.CommitTimeout, Default.CommitTimeout, "raft commit timeout must be a positive duration", out var commit, ref error))
        {
            return false;
        }
        if (election < heartbeat)
        {
            error = "raft election timeout must be greater than or equal to heartbeat timeout";
            return false;
        }
        if (lease > heartbeat)
        {
            error = "raft leader lease timeout must be less than or equal to heartbeat timeout";
            return false;
        }
        if (heartbeat < TimeSpan.FromMilliseconds(5) || election < TimeSpan.FromMilliseconds(5) || lease < TimeSpan.FromMilliseconds(5))
        {
            error = "raft heartbeat, election and leader lease timeouts must be at least 5ms";
            return false;
        }
        if (heartbeat > TimeSpan.FromMinutes(5) || election > TimeSpan.FromMinutes(5))
        {
            error = "raft heartbeat and election timeouts must be at most 5m";
            return false;
        }
        timing = new RaftTiming(heartbeat, election, lease, commit);
        return true;
    }

    private static bool TryPart(string? text, TimeSpan fallback, string message, out TimeSpan value, ref string? error)
    {
        value = fallback;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }
        if (GoDuration.TryParse(text, out value, out _) && value > TimeSpan.Zero)
        {
            return true;
        }
        error = message;
        return false;
    }
}
