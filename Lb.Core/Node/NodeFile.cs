using System.Text.Json.Serialization;

namespace Lb.Core.Node;

/// <summary>The content of <c>node.json</c>: the reference's identity fields plus the node's mode.</summary>
internal sealed record NodeFile
{
    public string? NodeId { get; init; }
    public string? BindAddr { get; init; }
    public string? AdvertiseAddr { get; init; }
    public string? Mode { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true,
    IndentSize = 2)]
[JsonSerializable(typeof(NodeFile))]
internal sealed partial class NodeFileJsonContext : JsonSerializerContext;
