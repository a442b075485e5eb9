namespace Lb.Routing;

/// <summary>
/// The path matcher kinds of a compiled route, spelled as the runtime view (<c>GET /api/runtime</c>) spells them.
/// </summary>
public static class RoutePathKinds
{
    /// <summary>The path equals the value (ordinal, case-sensitive).</summary>
    public const string Exact = "exact";

    /// <summary>The path is the value without its trailing slash or lies below it, on a segment boundary.</summary>
    public const string Prefix = "prefix";

    /// <summary>An unanchored regular-expression search over the path.</summary>
    public const string Regex = "regex";

    /// <summary>The route has no path condition and matches every path.</summary>
    public const string Any = "any";
}
