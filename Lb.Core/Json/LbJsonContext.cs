using System.Text.Json.Serialization;
using Lb.Core.Spec;

namespace Lb.Core.Json;

/// <summary>Source-generated JSON metadata for the desired-state wire types (snake_case, strict).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    PropertyNameCaseInsensitive = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow,
    MaxDepth = 32,
    Converters = [typeof(UpstreamSpecConverter)])]
[JsonSerializable(typeof(ProxyConfig))]
[JsonSerializable(typeof(DesiredState))]
[JsonSerializable(typeof(ConfigChange))]
[JsonSerializable(typeof(RouteSpec))]
[JsonSerializable(typeof(UpstreamPoolSpec))]
[JsonSerializable(typeof(PersistedDesiredState))]
[JsonSerializable(typeof(ConfigDocumentWire))]
[JsonSerializable(typeof(Lb.Core.Store.PersistedHistoryEntry))]
internal sealed partial class LbJsonContext : JsonSerializerContext;

/// <summary>The file store's on-disk document.</summary>
internal sealed record PersistedDesiredState
{
    public long Version { get; init; }
    public DateTimeOffset AppliedAt { get; init; }
    public DesiredState State { get; init; } = DesiredState.Empty;
    public string ContentHash { get; init; } = "";
}

/// <summary>
/// The <c>/api/config</c> document: the configuration plus the read-only <c>applied_at</c> and <c>version</c> that
/// GET adds. PUT accepts both back, so a GET body can be edited and PUT verbatim; <c>version</c> then acts as the
/// expected version.
/// </summary>
internal sealed record ConfigDocumentWire
{
    public IReadOnlyList<RouteSpec>? Routes { get; init; }
    public IReadOnlyDictionary<string, UpstreamPoolSpec>? UpstreamPools { get; init; }
    public IReadOnlyList<TcpListenerSpec>? TcpListeners { get; init; }
    public string? AppliedAt { get; init; }
    public long? Version { get; init; }
}
