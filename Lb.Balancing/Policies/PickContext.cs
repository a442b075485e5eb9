using System.Net;

namespace Lb.Balancing;

/// <summary>What a balancer may look at for one request. A struct passed by reference: building one allocates nothing.</summary>
public readonly struct PickContext
{
    /// <summary>The client address the proxy decided to trust (TCP peer or a trusted forwarded address).</summary>
    public IPAddress? ClientAddress { get; init; }

    /// <summary>The client port (0 when unknown or when the address came from a forwarding header).</summary>
    public int ClientPort { get; init; }

    /// <summary>The local (server) address the request arrived on.</summary>
    public IPAddress? LocalAddress { get; init; }

    /// <summary>The local (server) port the request arrived on.</summary>
    public int LocalPort { get; init; }

    /// <summary>The request protocol token, e.g. <c>HTTP/1.1</c>.</summary>
    public string? Protocol { get; init; }

    /// <summary>The raw value of the cookie the route's policy declared (<see cref="PickInputs.CookieName"/>), or null.</summary>
    public string? CookieValue { get; init; }

    /// <summary>The value of the header the route's policy declared (<see cref="PickInputs.HeaderName"/>; several values comma-joined), or null.</summary>
    public string? HeaderValue { get; init; }

    /// <summary>The request path without the query (<see cref="PickInputs.Path"/>), or null.</summary>
    public string? Path { get; init; }

    /// <summary>The raw query string, with or without its leading <c>?</c> (<see cref="PickInputs.Query"/>), or null.</summary>
    public string? Query { get; init; }

    /// <summary>A target to avoid, typically the one a retry follows after a connect failure.</summary>
    public UpstreamTarget? Exclude { get; init; }
}

/// <summary>The outcome of <see cref="IRouteBalancer.Pick"/>.</summary>
public readonly struct PickResult
{
    /// <summary>Creates a result.</summary>
    public PickResult(UpstreamTarget? target, string? setCookieValue = null)
    {
        Target = target;
        SetCookieValue = setCookieValue;
    }

    /// <summary>No target is available (the proxy answers 502 <c>matched upstream pool has no healthy targets</c>).</summary>
    public static PickResult None => default;

    /// <summary>The picked target, already counted as in flight; null when no target is available.</summary>
    public UpstreamTarget? Target { get; }

    /// <summary>
    /// Non-null when the client was (re)pinned: the transport sets the policy's declared cookie
    /// (<see cref="PickInputs.CookieName"/>) to this value, e.g. with
    /// <c>Set-Cookie: StickyCookies.FormatSetCookie(name, value, route.StickyCookie)</c>.
    /// </summary>
    public string? SetCookieValue { get; }
}
