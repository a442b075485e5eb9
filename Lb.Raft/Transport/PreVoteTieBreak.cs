namespace Lb.Raft.Transport;

/// <summary>
/// Settles crossing pre-votes. When two followers' election timers fire within a message delay of each other (or
/// one answers slowly), each grants the other's pre-vote, both become candidates for the same term, each votes for
/// itself, and the split costs another election timeout. DotNext gives a follower a pre-vote only once the voter's
/// own randomised timeout has run out, so failover waits for the later of the survivors' timers, and only a wide
/// random range keeps crossings rare. Two rules, applied by the transport to DotNext's pre-vote bytes
/// (<see cref="PreVoteWatch"/>), let the range be narrow:
/// <list type="number">
/// <item>A node whose own pre-vote has passed (grants from enough members) is campaigning for <see cref="Window"/>:
/// it refuses other members' pre-votes, as a Raft candidate would (DotNext grants them while the voter's timer has
/// run out, even to a second candidate for the same term).</item>
/// <item>A node that granted the pre-vote of a member ranking before it (ordinal order of Raft addresses, the same on
/// every node), or is still answering such a request, stands aside for <see cref="Window"/>: its own pre-vote
/// requests fail at once and grants it receives read as refusals.</item>
/// </list>
/// Safety: a pre-vote never changes a term, a vote or a log; refusing one or dropping out of one's own only costs
/// liveness, and only for the window, which is shorter than a follower's next timeout after a pre-vote it lost.
/// </summary>
/// <param name="localAddress">This node's advertised Raft address (<see cref="Node.RaftAddress.Format"/>).</param>
/// <param name="window">How long a node campaigns or stands aside after the events above.</param>
/// <param name="time">Clock.</param>
internal sealed class PreVoteTieBreak(string localAddress, TimeSpan window, TimeProvider time)
{
    private readonly Lock _round = new();
    private long _asideUntil = long.MinValue;       // after granting a higher-ranked member's pre-vote
    private long _askedUntil = long.MinValue;       // while such a request waits for this node's answer
    private long _campaignUntil = long.MinValue;    // after this node's own pre-vote passed
    private long _roundUntil = long.MinValue;       // this node's own pre-vote round
    private int _roundGrants;
    private int _requestsSeen;
    private int _grantsSeen;

    /// <summary>How long a node campaigns or stands aside.</summary>
    public TimeSpan Window { get; } = window;

    /// <summary>Members of the cluster, this node included (for what makes a pre-vote pass).</summary>
    public Func<int> MemberCount { get; set; } = static () => 3;

    /// <summary>Raised when this node stands aside (diagnostics; the candidate's address).</summary>
    public Action<string>? SteppedAside { get; set; }

    /// <summary>True while this node must not campaign (rule 2).</summary>
    public bool IsStandingAside
    {
        get
        {
            var now = time.GetTimestamp();
            return now < Volatile.Read(ref _asideUntil) || now < Volatile.Read(ref _askedUntil);
        }
    }

    /// <summary>True while this node's own pre-vote has passed and it refuses others' (rule 1).</summary>
    public bool IsCampaigning => time.GetTimestamp() < Volatile.Read(ref _campaignUntil);

    /// <summary>Pre-vote requests this node sent, as the transport recognised them (diagnostics).</summary>
    public int RequestsSeen => Volatile.Read(ref _requestsSeen);

    /// <summary>Pre-votes this node granted, as the transport recognised them, whatever the candidate's rank (diagnostics).</summary>
    public int GrantsSeen => Volatile.Read(ref _grantsSeen);

    /// <summary>This node sends a pre-vote request; false: it stands aside, the request must fail.</summary>
    public bool Requesting()
    {
        if (IsStandingAside)
        {
            return false;
        }
        Interlocked.Increment(ref _requestsSeen);
        lock (_round)
        {
            // DotNext sends a round's requests together: a request after the round's window starts a new round.
            if (time.GetTimestamp() >= _roundUntil)
            {
                _roundUntil = WindowFromNow();
                _roundGrants = 0;
            }
        }
        return true;
    }

    /// <summary>A member answered this node's pre-vote; returns whether a grant stands (false: read it as a refusal).</summary>
    public bool Answered(bool granted)
    {
        if (!granted)
        {
            return true;
        }
        if (IsStandingAside)
        {
            return false;
        }
        lock (_round)
        {
            // DotNext's count: itself +1, each grant +1, every other member -1; it campaigns when the sum is positive.
            var others = MemberCount() - 1;
            if (time.GetTimestamp() < _roundUntil && 1 + ++_roundGrants - (others - _roundGrants) > 0)
            {
                Volatile.Write(ref _campaignUntil, WindowFromNow());
            }
        }
        return true;
    }

    /// <summary><paramref name="candidateAddress"/>'s pre-vote request has arrived; its answer is not written yet.</summary>
    public void Asked(string candidateAddress)
    {
        if (RanksBefore(candidateAddress, localAddress))
        {
            Volatile.Write(ref _askedUntil, WindowFromNow());
        }
    }

    /// <summary>
    /// This node's protocol answers <paramref name="candidateAddress"/>'s pre-vote; returns the answer to send: a grant
    /// becomes a refusal while this node campaigns.
    /// </summary>
    public bool Answering(string candidateAddress, bool granted)
    {
        Volatile.Write(ref _askedUntil, long.MinValue);
        if (!granted || IsCampaigning)
        {
            return false;
        }
        Interlocked.Increment(ref _grantsSeen);
        if (RanksBefore(candidateAddress, localAddress))
        {
            Volatile.Write(ref _asideUntil, WindowFromNow());
            SteppedAside?.Invoke(candidateAddress);
        }
        return true;
    }

    private long WindowFromNow() => time.GetTimestamp() + (long)(Window.TotalSeconds * time.TimestampFrequency);

    /// <summary>The order both sides of a crossing agree on: ordinal order of the advertised Raft addresses.</summary>
    public static bool RanksBefore(string candidate, string other) =>
        string.CompareOrdinal(candidate.ToLowerInvariant(), other.ToLowerInvariant()) < 0;
}
