using System.Globalization;
using System.Text.Json;
using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.Core.Store;

/// <summary>
/// The file store's history: one file per kept version in <c>history/</c> under the data directory, each written
/// atomically and durably like the state file. An entry is written before the state file, so a crash in between
/// leaves an entry newer than the state; loading drops those (that version was never acknowledged). Pruning deletes
/// the oldest files after each write and again on load, so the directory stays bounded even after a crash.
/// Only summaries stay in memory (a version can be megabytes); an entry's state is read from its file on demand.
/// Only the writer (under the store's write gate) mutates; readers get an immutable array.
/// </summary>
internal sealed class FileDesiredStateHistory
{
    public const string DirectoryName = "history";
    private const string Prefix = "v";
    private const string Suffix = ".json";

    private readonly string _directory;
    private DesiredStateHistorySummary[] _entries = []; // newest first

    public FileDesiredStateHistory(string dataDirectory, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
        _directory = Path.Combine(dataDirectory, DirectoryName);
    }

    public int Limit { get; }

    public IReadOnlyList<DesiredStateHistorySummary> Entries => Volatile.Read(ref _entries);

    public async ValueTask<DesiredStateHistoryEntry?> FindAsync(long version, CancellationToken cancellationToken)
    {
        if (!Entries.Any(e => e.Version == version))
        {
            return null;
        }
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(PathOf(version), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // pruned by a write in the meantime
        }
        var entry = Parse(bytes);
        return entry?.Version == version ? entry : null;
    }

    /// <summary>
    /// Loads the kept entries for a store whose current state is <paramref name="current"/>; returns the names of
    /// files it dropped (unacknowledged, unreadable or beyond the limit) for the log.
    /// </summary>
    public List<string> Load(VersionedDesiredState current)
    {
        Directory.CreateDirectory(_directory);
        var dropped = new List<string>();
        var removed = DurableFile.DeleteLeftovers(_directory, Prefix + "*");
        if (removed > 0)
        {
            dropped.Add($"{removed} temp file(s)");
        }
        var loaded = new List<DesiredStateHistorySummary>();
        foreach (var file in Directory.EnumerateFiles(_directory, Prefix + "*" + Suffix))
        {
            var entry = TryRead(file);
            if (entry is null || entry.Version > current.Version || entry.Version < 1 || file != PathOf(entry.Version))
            {
                dropped.Add(Path.GetFileName(file));
                TryDelete(file);
                continue;
            }
            loaded.Add(DesiredStateHistorySummary.Of(entry));
        }
        loaded.Sort((a, b) => b.Version.CompareTo(a.Version));

        // A store written before history existed (or whose entry for the current version was lost) still has its
        // current state: keep it so the next write has something to roll back to.
        if (current.Version > 0 && (loaded.Count == 0 || loaded[0].Version != current.Version
            || !string.Equals(loaded[0].ContentHash, DesiredStateJson.ContentHash(current.State.Config), StringComparison.Ordinal)))
        {
            if (loaded.Count > 0 && loaded[0].Version == current.Version)
            {
                loaded.RemoveAt(0);
            }
            var restored = new DesiredStateHistoryEntry(current.Version, current.AppliedAt, "state file at startup", current.State);
            Write(restored);
            loaded.Insert(0, DesiredStateHistorySummary.Of(restored));
        }
        Volatile.Write(ref _entries, [.. loaded]);
        dropped.AddRange(Prune());
        return dropped;
    }

    /// <summary>Durably writes the entry for a version that is about to become current. Throws on I/O failure.</summary>
    public void Write(DesiredStateHistoryEntry entry)
    {
        var document = new PersistedHistoryEntry
        {
            Version = entry.Version,
            AppliedAt = entry.AppliedAt,
            Origin = entry.Origin,
            ContentHash = DesiredStateJson.ContentHash(entry.State),
            State = entry.State,
        };
        DurableFile.WriteAllBytes(PathOf(entry.Version), JsonSerializer.SerializeToUtf8Bytes(document, DesiredStateJson.PersistedHistoryTypeInfo));
    }

    /// <summary>Publishes <paramref name="entry"/> (already written) as the newest and drops what falls beyond the limit.</summary>
    public void Commit(DesiredStateHistoryEntry entry)
    {
        var current = Entries;
        var next = new List<DesiredStateHistorySummary>(Math.Min(current.Count + 1, Limit + 1)) { DesiredStateHistorySummary.Of(entry) };
        foreach (var e in current)
        {
            if (e.Version < entry.Version)
            {
                next.Add(e);
            }
        }
        Volatile.Write(ref _entries, [.. next]);
        Prune();
    }

    /// <summary>Removes the entry file of a version whose state write failed (it never became current).</summary>
    public void Discard(long version) => TryDelete(PathOf(version));

    private List<string> Prune()
    {
        var dropped = new List<string>();
        var entries = Entries;
        if (entries.Count > Limit)
        {
            Volatile.Write(ref _entries, entries.Take(Limit).ToArray());
        }
        // Delete by listing the directory, not the memory: files a crash left behind beyond the limit go too.
        var keep = Entries.Select(e => Path.GetFileName(PathOf(e.Version))).ToHashSet(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(_directory, Prefix + "*" + Suffix))
        {
            if (!keep.Contains(Path.GetFileName(file)))
            {
                dropped.Add(Path.GetFileName(file));
                TryDelete(file);
            }
        }
        return dropped;
    }

    private string PathOf(long version) =>
        Path.Combine(_directory, Prefix + version.ToString("D20", CultureInfo.InvariantCulture) + Suffix);

    private static DesiredStateHistoryEntry? TryRead(string file)
    {
        try
        {
            return Parse(File.ReadAllBytes(file));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>An entry from its file's bytes, or null when they are not a whole, self-consistent entry.</summary>
    private static DesiredStateHistoryEntry? Parse(byte[] bytes)
    {
        try
        {
            var document = JsonSerializer.Deserialize(bytes, DesiredStateJson.PersistedHistoryTypeInfo);
            if (document is null)
            {
                return null;
            }
            var state = DesiredStateJson.Normalize(document.State);
            if (!string.Equals(DesiredStateJson.ContentHash(state), document.ContentHash, StringComparison.Ordinal))
            {
                return null;
            }
            return new DesiredStateHistoryEntry(document.Version, document.AppliedAt, document.Origin ?? "", state);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next prune.
        }
    }
}

/// <summary>One file of the file store's history.</summary>
internal sealed record PersistedHistoryEntry
{
    public long Version { get; init; }
    public DateTimeOffset AppliedAt { get; init; }
    public string? Origin { get; init; }
    public string ContentHash { get; init; } = "";
    public DesiredState State { get; init; } = DesiredState.Empty;
}
