namespace Lb.Core.Validation;

/// <summary>
/// Size limits that keep a hostile or runaway configuration from exhausting a node's memory or CPU.
/// The defaults are far above any hand-written configuration.
/// </summary>
public sealed record DesiredStateLimits
{
    /// <summary>The default limits.</summary>
    public static DesiredStateLimits Default { get; } = new();

    /// <summary>Largest accepted configuration document in bytes (16 MiB).</summary>
    public int MaxDocumentBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Most routes (50,000).</summary>
    public int MaxRoutes { get; init; } = 50_000;

    /// <summary>Most pools (10,000).</summary>
    public int MaxPools { get; init; } = 10_000;

    /// <summary>Most upstreams in one pool (1,000).</summary>
    public int MaxUpstreamsPerPool { get; init; } = 1_000;

    /// <summary>Most hosts on one route (256).</summary>
    public int MaxHostsPerRoute { get; init; } = 256;

    /// <summary>Longest id, host, path or address (1,024 characters).</summary>
    public int MaxStringLength { get; init; } = 1_024;

    /// <summary>Longest regular expression (4,096 characters).</summary>
    public int MaxRegexLength { get; init; } = 4_096;

    /// <summary>Most errors reported for one document; the rest are summarised.</summary>
    public int MaxErrors { get; init; } = 500;
}
