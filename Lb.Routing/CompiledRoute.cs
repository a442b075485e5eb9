using System.Text.RegularExpressions;
using Lb.Core.Spec;

namespace Lb.Routing;

/// <summary>
/// One route as the route table uses it: host and path conditions prepared for matching, the algorithm with
/// its default resolved, and the position of the route both in the configuration and in priority order.
/// </summary>
/// <remarks>
/// Consumers that attach per-route state (balancers, counters) keep a side array of <see cref="RouteTable.SlotCount"/>
/// entries indexed by <see cref="Slot"/>. A route that a new table takes over unchanged from the previous one
/// (<see cref="RouteTable.Compile(ProxyConfig, RouteTable?)"/>) is the same instance with the same slot, so such a
/// consumer can carry its state for that route over as well.
/// </remarks>
public sealed class CompiledRoute
{
    // Kind ranks of the contract (§3.2): a higher rank is tried first.
    internal const int ExactRank = 4;
    internal const int PrefixRank = 3;
    internal const int RegexRank = 2;
    internal const int AnyRank = 1;

    internal CompiledRoute(RouteSpec spec, int index, IReadOnlyList<string> hosts, string pathKind, string? pathValue, Regex? regex)
    {
        Spec = spec;
        Index = index;
        Id = spec.Id ?? "";
        Enabled = spec.Enabled;
        Hosts = hosts;
        PathKind = pathKind;
        PathValue = pathValue;
        Algorithm = string.IsNullOrEmpty(spec.Algorithm) ? Algorithms.RoundRobin : spec.Algorithm;
        UpstreamPool = spec.UpstreamPool ?? "";
        PathRegex = regex;
        switch (pathKind)
        {
            case RoutePathKinds.Exact:
                Rank = ExactRank;
                break;
            case RoutePathKinds.Prefix:
                Rank = PrefixRank;
                PrefixBase = pathValue!.TrimEnd('/');
                Depth = SegmentDepth(pathValue);
                break;
            case RoutePathKinds.Regex:
                Rank = RegexRank;
                break;
            default:
                Rank = AnyRank;
                break;
        }
    }

    /// <summary>The route id (unique, case-sensitive).</summary>
    public string Id { get; }

    /// <summary>Whether the route takes part in matching. Disabled routes are listed but never match.</summary>
    public bool Enabled { get; }

    /// <summary>
    /// The configured hosts in the form they are matched in (lower case, IPv6 without brackets, wildcards keep
    /// their <c>*.</c>). Empty means the route matches every host.
    /// </summary>
    public IReadOnlyList<string> Hosts { get; }

    /// <summary>One of <see cref="RoutePathKinds"/>: <c>exact</c>, <c>prefix</c>, <c>regex</c> or <c>any</c>.</summary>
    public string PathKind { get; }

    /// <summary>The configured path value; null for <see cref="RoutePathKinds.Any"/>.</summary>
    public string? PathValue { get; }

    /// <summary>The balancing algorithm with the empty default resolved to <c>round_robin</c>.</summary>
    public string Algorithm { get; }

    /// <summary>Id of the upstream pool that serves this route.</summary>
    public string UpstreamPool { get; }

    /// <summary>The route as configured.</summary>
    public RouteSpec Spec { get; }

    /// <summary>Position of the route in <see cref="ProxyConfig.Routes"/> (declaration order).</summary>
    public int Index { get; }

    /// <summary>
    /// Position of the route in <see cref="RouteTable.Routes"/> (priority order) of the table that compiled it. A later
    /// table that takes the route over unchanged keeps this instance and this value, so index side tables with
    /// <see cref="Slot"/>.
    /// </summary>
    public int PriorityIndex { get; internal set; }

    /// <summary>
    /// Index for per-route side tables, below <see cref="RouteTable.SlotCount"/>; unique within a table and kept by a
    /// route taken over into the next table. Equal to <see cref="PriorityIndex"/> in a table compiled from scratch.
    /// </summary>
    public int Slot { get; internal set; }

    /// <summary>A copy at another declaration position (routes behind an inserted or removed one move), same slot.</summary>
    internal CompiledRoute WithIndex(int index) =>
        new(Spec, index, Hosts, PathKind, PathValue, PathRegex) { Slot = Slot };

    internal int Rank { get; }

    /// <summary>Segment depth of a prefix (contract §3.2); 0 for the other kinds.</summary>
    internal int Depth { get; }

    /// <summary>A prefix value without its trailing slashes: the path must equal it or continue with <c>/</c>.</summary>
    internal string PrefixBase { get; } = "";

    internal Regex? PathRegex { get; }

    /// <summary>
    /// Tests the path condition alone. Host and <see cref="Enabled"/> are the caller's business, so that
    /// <see cref="RouteTable.Explain"/> can report each condition separately.
    /// </summary>
    internal bool MatchesPath(ReadOnlySpan<char> path, out bool timedOut)
    {
        timedOut = false;
        switch (Rank)
        {
            case ExactRank:
                return path.SequenceEqual(PathValue);
            case PrefixRank:
                return path.StartsWith(PrefixBase, StringComparison.Ordinal)
                    && (path.Length == PrefixBase.Length || path[PrefixBase.Length] == '/');
            case RegexRank:
                try
                {
                    return PathRegex!.IsMatch(path);
                }
                catch (RegexMatchTimeoutException)
                {
                    // A pathological path must not fail the request; the route simply does not match it.
                    timedOut = true;
                    return false;
                }
            default:
                return true;
        }
    }

    /// <summary>Number of <c>/</c>-separated pieces once leading and trailing slashes are gone (empty pieces count).</summary>
    internal static int SegmentDepth(string prefix)
    {
        var core = prefix.AsSpan().Trim('/');
        return core.IsEmpty ? 0 : core.Count('/') + 1;
    }

    /// <inheritdoc/>
    public override string ToString() => PathValue is null ? $"{Id} ({PathKind})" : $"{Id} ({PathKind} {PathValue})";
}
