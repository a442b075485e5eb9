using System.Text.Json.Serialization;
using Lb.Core.Store;
using Lb.Core.Validation;

namespace Lb.Raft.Store;

/// <summary>The leader's JSON answer to <c>POST /api/cluster/propose</c> (internal to a cluster).</summary>
internal sealed record ForwardReply
{
    public required string Status { get; init; }
    public long Version { get; init; }
    public string? Message { get; init; }
    public IReadOnlyList<ForwardFieldError>? Errors { get; init; }

    public static ForwardReply From(ForwardedWrite write) => new()
    {
        Status = write.Status switch
        {
            StoreWriteStatus.Applied => "applied",
            StoreWriteStatus.VersionConflict => "version_conflict",
            StoreWriteStatus.Invalid => "invalid",
            StoreWriteStatus.NotLeader => "not_leader",
            _ => "unavailable",
        },
        Version = write.Version,
        Message = write.Message,
        Errors = write.Validation?.Errors.Select(e => new ForwardFieldError(e.Field, e.Code, e.Message, e.Hint)).ToList(),
    };

    public ForwardedWrite ToWrite() => new(
        Status switch
        {
            "applied" => StoreWriteStatus.Applied,
            "version_conflict" => StoreWriteStatus.VersionConflict,
            "invalid" => StoreWriteStatus.Invalid,
            "not_leader" => StoreWriteStatus.NotLeader,
            _ => StoreWriteStatus.Unavailable,
        },
        Version,
        Errors is { Count: > 0 } errors ? new ValidationResult(errors.Select(e => new ValidationError(e.Field, e.Code, e.Message, e.Hint)).ToList()) : null,
        Message);
}

internal sealed record ForwardFieldError(string Field, string Code, string Message, string Hint);

/// <summary>The body of <c>POST /api/cluster/propose</c>: an encoded <see cref="StateMachine.PutCommand"/>, base64.</summary>
internal sealed record ProposeRequest(string Command);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ForwardReply))]
[JsonSerializable(typeof(ProposeRequest))]
internal sealed partial class RaftJsonContext : JsonSerializerContext;
