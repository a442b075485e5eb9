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
[JsonSerializable(typeof(PersistedDesiredState))]
internal sealed partial class LbJsonContext : JsonSerializerContext;

/// <summary>The file store's on-disk document.</summary>
internal sealed record PersistedDesiredState
{
    public long Version { get; init; }
    public DateTimeOffset AppliedAt { get; init; }
    public DesiredState State { get; init; } = DesiredState.Empty;
    public string ContentHash { get; init; } = "";
}
