using Lb.Core.Store;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Admin;

/// <summary>How a write named the version it was based on; decides 412 (If-Match) or 409 (body version) on a conflict.</summary>
internal enum WritePrecondition
{
    BodyVersion,
    IfMatch,
}

/// <summary>The one mapping from a store's refusal to an HTTP answer. The store alone decides conflicts.</summary>
internal static class WriteOutcome
{
    public static Task FailureAsync(HttpContext context, StoreWriteResult result, long? expected, WritePrecondition precondition)
    {
        switch (result.Status)
        {
            case StoreWriteStatus.VersionConflict:
                context.Response.Headers.ETag = result.Current.ETag;
                return AdminResponses.ErrorAsync(context, precondition == WritePrecondition.IfMatch ? 412 : 409,
                    $"configuration changed since version {expected} (now {result.Current.Version}); GET it again and reapply your edit", "version_conflict");
            case StoreWriteStatus.Invalid:
                return AdminResponses.ErrorAsync(context, 422, "validation failed", "validation_failed",
                    result.Validation!.Errors.Select(e => new ApiFieldError(e.Field, e.Message, e.Code, e.Hint)).ToList());
            case StoreWriteStatus.NotLeader:
                return AdminResponses.ErrorAsync(context, 409, "configuration writes must be sent to the raft leader", "not_raft_leader", leaderAddress: result.LeaderAddress);
            default:
                return AdminResponses.ErrorAsync(context, 503,
                    result.Code is null ? "the configuration store is unavailable; the write was not applied" : result.Message ?? result.Code,
                    result.Code ?? "store_unavailable",
                    [new ApiFieldError("", result.Message ?? "store unavailable")]);
        }
    }
}
