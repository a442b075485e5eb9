namespace Lb.Raft;

/// <summary>Tuning of the Raft store (code-level; the node's identity and addresses come from <c>app.json</c> and the CLI).</summary>
public sealed class RaftStoreOptions
{
    /// <summary>
    /// How long a write may wait for a leader with a quorum before it fails with <c>no_quorum</c>. Default 1.8 s, so
    /// an admin request answers within 2 s.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromMilliseconds(1800);

    /// <summary>Applied writes between snapshots; the log before a snapshot is deleted. Default 100.</summary>
    public int SnapshotEvery { get; set; } = 100;
}
