namespace Lb.AspNetCore.Admin;

// The error body of every admin endpoint (seed contract §6): {message, code, leader_address, errors:[{field, message}]}.

internal sealed record ApiError
{
    public required string Message { get; init; }
    public string? Code { get; init; }
    public string? LeaderAddress { get; init; }
    public IReadOnlyList<ApiFieldError>? Errors { get; init; }
}

internal sealed record ApiFieldError(string Field, string Message, string? Code = null, string? Hint = null);
