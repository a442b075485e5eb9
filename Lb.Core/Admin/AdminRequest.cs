namespace Lb.Core.Admin;

/// <summary>
/// An admin request as a contributed handler sees it. The admin API has already checked the token, the content type
/// and the body size limit; <see cref="Body"/> is the whole body (empty for reads).
/// </summary>
public sealed record AdminRequest
{
    private static readonly IReadOnlyDictionary<string, string> None = new Dictionary<string, string>();

    /// <summary>HTTP method.</summary>
    public required string Method { get; init; }

    /// <summary>Path.</summary>
    public required string Path { get; init; }

    /// <summary>The request body (JSON).</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>Query parameters (first value of each).</summary>
    public IReadOnlyDictionary<string, string> Query { get; init; } = None;

    /// <summary>Request headers, case-insensitive names (comma-joined values).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = None;
}
