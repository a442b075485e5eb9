using System.Text.Json.Serialization;

namespace Lb.AspNetCore.Admin;

/// <summary>Source-generated JSON of the admin API; property names become snake_case.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(StatusView))]
[JsonSerializable(typeof(ClusterView))]
[JsonSerializable(typeof(NodeClusterStatusView))]
[JsonSerializable(typeof(RuntimeView))]
[JsonSerializable(typeof(ValidateView))]
[JsonSerializable(typeof(ExplainView))]
[JsonSerializable(typeof(TargetStateView))]
internal sealed partial class AdminJsonContext : JsonSerializerContext
{
    /// <summary>Responses keep quotes and angle brackets readable; they are served as application/json, never HTML.</summary>
    public static AdminJsonContext Relaxed { get; } = new(new System.Text.Json.JsonSerializerOptions
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
