namespace Lb.Balancing;

/// <summary>
/// What a policy reads from a request, declared per route when the runtime is built, so the transport fetches only
/// that (resolving the client behind trusted proxies or parsing cookies is wasted work for the other policies) and
/// never needs to know algorithm names. A transport that cannot supply an input (a TCP listener has no cookies)
/// leaves it null in <see cref="PickContext"/>.
/// </summary>
public sealed record PickInputs
{
    /// <summary>Reads nothing from the request (round robin, least connection).</summary>
    public static PickInputs None { get; } = new();

    /// <summary>The connection's client and local addresses, ports and the protocol (a 5-tuple hash).</summary>
    public static PickInputs Connection { get; } = new() { ClientAddress = true, LocalAddress = true, Protocol = true };

    /// <summary>Fills <see cref="PickContext.ClientAddress"/> and <see cref="PickContext.ClientPort"/> (after trusted proxies).</summary>
    public bool ClientAddress { get; init; }

    /// <summary>Fills <see cref="PickContext.LocalAddress"/> and <see cref="PickContext.LocalPort"/>.</summary>
    public bool LocalAddress { get; init; }

    /// <summary>Fills <see cref="PickContext.Protocol"/>.</summary>
    public bool Protocol { get; init; }

    /// <summary>
    /// A cookie whose value goes into <see cref="PickContext.CookieValue"/>; a pick may answer
    /// <see cref="PickResult.SetCookieValue"/> to set it (attributes from the route's <c>sticky_cookie</c> options,
    /// which validation allows only on routes whose policy declares a cookie).
    /// </summary>
    public string? CookieName { get; init; }

    /// <summary>A request header whose value goes into <see cref="PickContext.HeaderValue"/>.</summary>
    public string? HeaderName { get; init; }

    /// <summary>Fills <see cref="PickContext.Path"/>.</summary>
    public bool Path { get; init; }

    /// <summary>Fills <see cref="PickContext.Query"/>.</summary>
    public bool Query { get; init; }

    /// <summary>True when the policy reads anything at all.</summary>
    public bool ReadsRequest => ClientAddress || LocalAddress || Protocol || Path || Query || CookieName is not null || HeaderName is not null;
}
