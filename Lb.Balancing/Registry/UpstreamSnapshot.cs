using System.Collections.Frozen;
using System.Collections.ObjectModel;

namespace Lb.Balancing;

/// <summary>The pools of one applied configuration. Immutable; the live target state inside it keeps changing.</summary>
public sealed class UpstreamSnapshot
{
    private readonly FrozenDictionary<string, UpstreamPool> _lookup;

    internal UpstreamSnapshot(long generation, IEnumerable<UpstreamPool> pools)
    {
        Generation = generation;
        var sorted = new SortedList<string, UpstreamPool>(StringComparer.Ordinal);
        foreach (var pool in pools)
        {
            sorted.Add(pool.Id, pool);
        }
        Pools = new ReadOnlyDictionary<string, UpstreamPool>(sorted);
        _lookup = sorted.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The same pools as <paramref name="same"/> under a new generation.</summary>
    internal UpstreamSnapshot(long generation, UpstreamSnapshot same)
    {
        Generation = generation;
        Pools = same.Pools;
        _lookup = same._lookup;
    }

    /// <summary>The snapshot before any configuration was applied: no pools.</summary>
    public static UpstreamSnapshot Empty { get; } = new(0, []);

    /// <summary>Counts applied configurations (0 for <see cref="Empty"/>); a new value means new pool objects.</summary>
    public long Generation { get; }

    /// <summary>The pools keyed by id; enumerates in ordinal id order.</summary>
    public IReadOnlyDictionary<string, UpstreamPool> Pools { get; }

    /// <summary>Finds a pool by id without allocating.</summary>
    public bool TryGetPool(string id, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out UpstreamPool pool) =>
        _lookup.TryGetValue(id, out pool);
}
