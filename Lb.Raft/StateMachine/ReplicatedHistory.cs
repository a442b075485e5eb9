using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Store;

namespace Lb.Raft.StateMachine;

/// <summary>
/// One applied version kept by the replicated history: the applied state itself (which shares every route and pool
/// it did not change with its neighbours, so fifty versions of a large configuration cost little more than one) and
/// what the log said about it. The content hash is the one the applied state computes on first use (the runtime and
/// the status view share it), so applying a write hashes nothing.
/// </summary>
internal sealed class ReplicatedHistoryEntry(long version, DateTimeOffset writtenAt, string origin, DesiredState state, string? contentHash = null,
    VersionedDesiredState? applied = null)
{
    private string? _contentHash = contentHash;

    public long Version { get; } = version;

    public DateTimeOffset WrittenAt { get; } = writtenAt;

    public string Origin { get; } = origin;

    /// <summary>The whole desired state of this version (normalised).</summary>
    public DesiredState State { get; } = state;

    public int RouteCount => State.Config.Routes.Count;

    public int PoolCount => State.Config.UpstreamPools.Count;

    public string ContentHash => _contentHash ??= applied?.ContentHash ?? DesiredStateJson.ContentHash(State.Config);

    /// <summary>The hash when it is known already (a snapshot stores it then, and never computes one).</summary>
    public string? KnownContentHash => _contentHash ?? (applied is { } a && a.HasContentHash ? a.ContentHash : null);

    public DesiredStateHistorySummary ToSummary() => new(Version, WrittenAt, Origin, ContentHash, RouteCount, PoolCount);
}

/// <summary>
/// The last applied versions, newest first, as an immutable array swapped on each apply: part of the replicated
/// state (the state machine adds to it in log order and snapshots it), so every member holds the same history.
/// </summary>
internal sealed class ReplicatedHistory(int limit)
{
    private ReplicatedHistoryEntry[] _entries = [];

    public int Limit { get; } = limit >= 1 ? limit : throw new ArgumentOutOfRangeException(nameof(limit), limit, "the history keeps at least one version");

    public IReadOnlyList<ReplicatedHistoryEntry> Entries => Volatile.Read(ref _entries);

    /// <summary>Adds the newest version (only the state machine's apply loop calls this).</summary>
    public void Add(ReplicatedHistoryEntry entry)
    {
        var current = Volatile.Read(ref _entries);
        var keep = Math.Min(current.Length, Limit - 1);
        var next = new ReplicatedHistoryEntry[keep + 1];
        next[0] = entry;
        Array.Copy(current, 0, next, 1, keep);
        Volatile.Write(ref _entries, next);
    }

    /// <summary>Replaces the whole history (snapshot restore), newest first, trimmed to the limit.</summary>
    public void Reset(IEnumerable<ReplicatedHistoryEntry> newestFirst) =>
        Volatile.Write(ref _entries, [.. newestFirst.Take(Limit)]);

    public ReplicatedHistoryEntry? Find(long version)
    {
        foreach (var entry in Entries)
        {
            if (entry.Version == version)
            {
                return entry;
            }
        }
        return null;
    }
}
