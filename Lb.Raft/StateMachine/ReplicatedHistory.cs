using System.Security.Cryptography;
using System.Text.Json;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Store;

namespace Lb.Raft.StateMachine;

/// <summary>
/// One applied version kept by the replicated history: its canonical state document as it came in the log (parsed
/// only when someone asks for it) and what the log said about it. The content hash is computed on first use from the
/// document's <c>config</c> member, which is the canonical configuration JSON, so applying a write hashes nothing.
/// </summary>
internal sealed class ReplicatedHistoryEntry(long version, DateTimeOffset writtenAt, string origin, ReadOnlyMemory<byte> stateJson, int routeCount, int poolCount,
    string? contentHash = null)
{
    private string? _contentHash = contentHash;

    public long Version { get; } = version;

    public DateTimeOffset WrittenAt { get; } = writtenAt;

    public string Origin { get; } = origin;

    public ReadOnlyMemory<byte> StateJson { get; } = stateJson;

    public int RouteCount { get; } = routeCount;

    public int PoolCount { get; } = poolCount;

    public string ContentHash => _contentHash ??= ConfigHash(StateJson.Span) ?? DesiredStateJson.ContentHash(ParseState().Config);

    /// <summary>SHA-256 of the raw <c>config</c> member of a canonical state document; null when it has none.</summary>
    internal static string? ConfigHash(ReadOnlySpan<byte> stateJson)
    {
        try
        {
            var reader = new Utf8JsonReader(stateJson);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isConfig = reader.ValueTextEquals("config"u8);
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                if (isConfig)
                {
                    return Convert.ToHexStringLower(SHA256.HashData(stateJson[start..(int)reader.BytesConsumed]));
                }
            }
        }
        catch (JsonException)
        {
        }
        return null;
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
