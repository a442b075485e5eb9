using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Lb.Core.Admin;

/// <summary>What an admin handler answers: a JSON body, no content, or an error in the contract's envelope (§6.2).</summary>
public sealed record AdminResult
{
    /// <summary>HTTP status code.</summary>
    public required int StatusCode { get; init; }

    /// <summary>UTF-8 JSON body; empty for no body.</summary>
    public ReadOnlyMemory<byte> Json { get; init; }

    /// <summary>The error, rendered as <c>{message, code, leader_address, errors}</c>.</summary>
    public AdminError? Error { get; init; }

    /// <summary>Response headers to add (e.g. <c>ETag</c>).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>204 No Content.</summary>
    public static AdminResult NoContent() => new() { StatusCode = 204 };

    /// <summary>A JSON body serialised with <paramref name="typeInfo"/>.</summary>
    public static AdminResult Ok<T>(T value, JsonTypeInfo<T> typeInfo, int statusCode = 200) =>
        new() { StatusCode = statusCode, Json = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo) };

    /// <summary>An error answer.</summary>
    public static AdminResult Fail(int statusCode, string message, string? code = null, IReadOnlyList<AdminFieldError>? errors = null, string? leaderAddress = null) =>
        new() { StatusCode = statusCode, Error = new AdminError(message, code, leaderAddress, errors) };
}

/// <summary>The error envelope of seed contract §6.2.</summary>
/// <param name="Message">Human-readable message.</param>
/// <param name="Code">Stable machine-readable code (<c>invalid_request</c>, <c>not_raft_leader</c>, ...).</param>
/// <param name="LeaderAddress">The leader's Raft advertise address, a hint for <c>not_raft_leader</c>.</param>
/// <param name="Errors">Per-field errors.</param>
public sealed record AdminError(string Message, string? Code = null, string? LeaderAddress = null, IReadOnlyList<AdminFieldError>? Errors = null);

/// <summary>One field error.</summary>
/// <param name="Field">Field path, e.g. <c>raft_timing.election_timeout</c>.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Code">Stable code.</param>
/// <param name="Hint">How to fix it.</param>
public sealed record AdminFieldError(string Field, string Message, string? Code = null, string? Hint = null);
