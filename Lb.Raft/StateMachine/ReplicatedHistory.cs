using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Store;

namespace Lb.Raft.StateMachine;

/// <summary>
/// One applied version kept by the replicated history: its canonical state document as it came in the log (parsed
/// only when someone asks for it) and what the log said about it. The content hash is taken from the state the
/// runtime already hashed while this is the newest entry, so applying a write computes nothing extra.
/// </summary>
internal sealed class ReplicatedHistoryEntry
{
    private VersionedDesiredState? _source;
    private string? _contentHash;

    public ReplicatedHistoryEntry(long version, DateTimeOffset writtenAt, string origin, ReadOnlyMemory<byte> stateJson, int routeCount, int poolCount,
        string? contentHash, VersionedDesiredState? source)
    {
        Version = version;
        WrittenAt = writtenAt;
        Origin = origin;
        StateJson = stateJson;
        RouteCount = routeCount;
        PoolCount = poolCount;
        _contentHash = contentHash;
        _source = contentHash is null ? source : null;
    }

    public long Version { get; }

    public DateTimeOffset WrittenAt { get; }

    public string Origin { get; }

    public ReadOnlyMemory<byte> StateJson { get; }

    public int RouteCount { get; }

    public int PoolCount { get; }

    public string ContentHash
    {
        get
        {
            if (Volatile.Read(ref _contentHash) is { } hash)
            {
                return hash;
            }
            hash = Volatile.Read(ref _source) is { } source ? source.ContentHash : DesiredStateJson.ContentHash(ParseState().Config);
            Volatile.Write(ref _contentHash, hash);
            Volatile.Write(ref _source, null);
            return hash;
        }
    }

    /// <summary>Stops holding the parsed state of a superseded version (computing its hash first, usually already done).</summary>
    public void Detach()
    {
        if (Volatile.Read(ref _source) is not null)
        {
            _ = ContentHash;
        }
    }

    public DesiredState ParseState()
    {
        var parsed = DesiredStateJson.ParseState(StateJson.Span);
        return parsed.Succeeded
            ? DesiredStateJson.Normalize(parsed.Value!)
            : throw new InvalidDataException($"history entry {Version} does not hold a desired state: {parsed.Message}");
    }

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
        if (current.Length > 0)
        {
            current[0].Detach();
        }
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
