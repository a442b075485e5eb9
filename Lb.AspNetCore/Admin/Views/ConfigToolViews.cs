namespace Lb.AspNetCore.Admin;

// POST /api/config/validate and GET /api/explain.

internal sealed record ValidateView(bool Valid, IReadOnlyList<ApiFieldError> Errors, string? ContentHash);

internal sealed record ExplainView(string Host, string Path, string? MatchedRoute, string? UpstreamPool, string Reason, IReadOnlyList<ExplainCandidateView> Candidates);

internal sealed record ExplainCandidateView(string RouteId, string Outcome);
