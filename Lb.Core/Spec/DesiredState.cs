namespace Lb.Core.Spec;

/// <summary>
/// Everything the cluster agrees on: the proxy configuration plus cluster-wide VIP and Raft timing policy.
/// </summary>
public sealed record DesiredState
{
    /// <summary>The state of a node that has never been written to.</summary>
    public static DesiredState Empty { get; } = new();

    /// <summary>Routes and pools.</summary>
    public ProxyConfig Config { get; init; } = ProxyConfig.Empty;

    /// <summary>Cluster VIP policy; null when no VIP is configured.</summary>
    public VipPolicy? Vip { get; init; }

    /// <summary>Cluster Raft timing policy; null means library defaults.</summary>
    public RaftTimingPolicy? RaftTiming { get; init; }

    /// <summary>
    /// The cluster's secret behind sticky-cookie values (base64 of at least 16 random bytes), replicated so every member
    /// issues and honours the same cookies and a client stays pinned across a failover. Set when a cluster is
    /// bootstrapped (from the bootstrapping node's own secret, so its cookies stay valid); null on a standalone node,
    /// which uses the secret kept in its data directory (<see cref="Node.StickySecretFile"/>).
    /// </summary>
    public string? StickySecret { get; init; }
}

/// <summary>A desired state with the version the store gave it.</summary>
/// <param name="Version">Monotonically increasing; 0 for the empty initial state.</param>
/// <param name="State">The state.</param>
/// <param name="AppliedAt">When this node applied it (node-local wall clock).</param>
public sealed record VersionedDesiredState(long Version, DesiredState State, DateTimeOffset AppliedAt)
{
    private string? _contentHash;

    /// <summary>The state.</summary>
    public DesiredState State
    {
        get;
        init
        {
            field = value;
            _contentHash = null; // a `with { State = ... }` copy must not inherit the old hash
        }
    } = State;

    /// <summary>
    /// SHA-256 of the canonical proxy configuration (what the admin API calls <c>content_hash</c>): computed on first
    /// use and carried with this state, so the runtime, the status view and the stores share one computation.
    /// </summary>
    public string ContentHash => _contentHash ??= Json.DesiredStateJson.ContentHash(State.Config);

    /// <summary>Whether <see cref="ContentHash"/> was computed already (reading it then costs nothing).</summary>
    public bool HasContentHash => Volatile.Read(ref _contentHash) is not null;

    /// <summary>The <c>ETag</c> form of <see cref="Version"/> (a quoted decimal).</summary>
    public string ETag => $"\"{Version}\"";
}

/// <summary>Cluster VIP policy (wire names of the reference's <c>vip</c> object).</summary>
public sealed record VipPolicy
{
    /// <summary>IPv4 address with prefix length, e.g. <c>10.0.0.100/24</c>.</summary>
    public string Address { get; init; } = "";
    /// <summary>Gratuitous ARP frames sent on takeover (default 5).</summary>
    public int? GarpCount { get; init; }
    /// <summary>Gap between GARP frames (default 200ms).</summary>
    public string? GarpInterval { get; init; }
    /// <summary>Wait after becoming leader before adding the VIP (default 500ms).</summary>
    public string? AcquireDelay { get; init; }
    /// <summary>Remove the VIP on graceful shutdown.</summary>
    public bool? ReleaseOnShutdown { get; init; }
}

/// <summary>Cluster Raft timing (Go durations; unset values use the defaults).</summary>
public sealed record RaftTimingPolicy
{
    /// <summary>Heartbeat timeout.</summary>
    public string? HeartbeatTimeout { get; init; }
    /// <summary>Election timeout.</summary>
    public string? ElectionTimeout { get; init; }
    /// <summary>Leader lease timeout.</summary>
    public string? LeaderLeaseTimeout { get; init; }
    /// <summary>Commit timeout.</summary>
    public string? CommitTimeout { get; init; }
}
