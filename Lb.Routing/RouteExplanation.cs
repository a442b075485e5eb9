namespace Lb.Routing;

/// <summary>
/// Why a request went to the route it went to (or to none): what <c>config explain</c> and the admin API show.
/// </summary>
/// <param name="Matched">The route <see cref="RouteTable.Match"/> returns for the same request; null when none matches.</param>
/// <param name="Host">The request host as matched: port, IPv6 brackets and one trailing dot removed, lower case.</param>
/// <param name="Path">The request path as matched (empty became <c>/</c>).</param>
/// <param name="HostLevel">
/// The host level the winner was found at: the exact host, a wildcard such as <c>*.example.com</c>, or <c>*</c> for
/// routes without hosts; null when nothing matched.
/// </param>
/// <param name="Candidates">
/// Every route whose host condition accepted the request, level by level from the most specific one down to the
/// level that produced the winner, each in priority order, with the verdict on it.
/// </param>
public sealed record RouteExplanation(
    CompiledRoute? Matched,
    string Host,
    string Path,
    string? HostLevel,
    IReadOnlyList<RouteCandidate> Candidates);

/// <summary>One route looked at while explaining a match.</summary>
/// <param name="Route">The route.</param>
/// <param name="HostLevel">The host level it was considered at (see <see cref="RouteExplanation.HostLevel"/>).</param>
/// <param name="PathMatched">Whether the route is enabled and its path condition accepted the request path.</param>
/// <param name="Selected">Whether this is the winning route.</param>
/// <param name="Reason">A sentence for people: why it won, lost or did not apply.</param>
public sealed record RouteCandidate(
    CompiledRoute Route,
    string HostLevel,
    bool PathMatched,
    bool Selected,
    string Reason);
