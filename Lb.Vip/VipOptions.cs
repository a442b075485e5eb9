namespace Lb.Vip;

/// <summary>
/// How this node handles the VIP. The address and interface come from the node options (<c>vipAddress</c>,
/// <c>vipInterface</c> in <c>app.json</c>); a replicated VIP policy overrides the address and these defaults.
/// </summary>
public sealed class VipOptions
{
    /// <summary>
    /// Gratuitous ARP rounds sent after taking the address (each round is one request and one reply). Default 3:
    /// one lost frame does not leave a neighbour pointing at the old leader.
    /// </summary>
    public int GarpCount { get; set; } = 3;

    /// <summary>Gap between the rounds. Default 100 ms.</summary>
    public TimeSpan GarpInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Extra wait between getting the leader lease and adding the address. Default zero: a lease is only granted once
    /// every earlier leader's lease has run out (the lease is shorter than the election timeout), so there is no
    /// earlier owner to wait for. Set it only to cover a Raft configuration that breaks that rule.
    /// </summary>
    public TimeSpan AcquireDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Remove the address on graceful shutdown (default true; the reference's default false leaves two owners).</summary>
    public bool ReleaseOnShutdown { get; set; } = true;

    /// <summary>
    /// Lifetime the kernel gives the address; the controller refreshes it four times per lifetime while it owns the
    /// VIP. If the process is killed or frozen, the kernel deletes the address itself about this long after the last
    /// renewal (measured: lifetime + 30–150 ms) instead of keeping it until the next start. Whole seconds, at least 1;
    /// default 1 s (a process that cannot renew for 750 ms has lost its Raft leadership anyway);
    /// <see cref="Timeout.InfiniteTimeSpan"/> makes the address permanent (the reference's behaviour).
    /// </summary>
    public TimeSpan AddressLifetime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait before retrying a failed add or remove (missing interface, no permission). Default 2 s.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(2);
}
