using System.Globalization;
using System.Text;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>Cookie name and <c>Set-Cookie</c> formatting of <c>sticky_cookie</c> routes.</summary>
public static class StickyCookies
{
    /// <summary>The cookie prefix of the contract.</summary>
    public const string NamePrefix = "rp_sticky_";

    /// <summary>
    /// The cookie name of a route: <c>rp_sticky_</c> + the route id with <c>:</c>, <c>/</c> and space replaced
    /// by <c>_</c> (route <c>shop login</c> → <c>rp_sticky_shop_login</c>). Allocates; compute it once per route.
    /// </summary>
    public static string CookieName(string routeId)
    {
        ArgumentNullException.ThrowIfNull(routeId);
        return string.Create(NamePrefix.Length + routeId.Length, routeId, static (span, id) =>
        {
            NamePrefix.AsSpan().CopyTo(span);
            var rest = span[NamePrefix.Length..];
            for (var i = 0; i < id.Length; i++)
            {
                rest[i] = id[i] is ':' or '/' or ' ' ? '_' : id[i];
            }
        });
    }

    /// <summary>
    /// The <c>Set-Cookie</c> header value: <c>name=value; Path=/; HttpOnly</c>, plus <c>Max-Age=N</c>,
    /// <c>Secure</c> and <c>SameSite=Lax|Strict|None</c> when <paramref name="options"/> configures them.
    /// Without options this is exactly the reference's session cookie.
    /// </summary>
    public static string FormatSetCookie(string name, string value, StickyCookieSpec? options)
    {
        return FormatSetCookieCore(name, value, options);
    }

    /// <summary>Separates the target's key from the application's value in <c>prefix</c> mode (HAProxy uses <c>~</c> too).</summary>
    public const char PrefixSeparator = '~';

    /// <summary>The cookie name a route's sticky policy reads and writes: <c>sticky_cookie.name</c>, else <see cref="CookieName"/>.</summary>
    public static string EffectiveName(RouteSpec route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return string.IsNullOrEmpty(route.StickyCookie?.Name) ? CookieName(route.Id) : route.StickyCookie.Name;
    }

    /// <summary>
    /// <c>prefix</c> mode, on the way in: the request's <c>Cookie</c> header with <c>name=key~value</c> turned back into
    /// <c>name=value</c>, so the application sees its own cookie; null when there is nothing to strip.
    /// </summary>
    public static string? StripPrefix(string cookieHeader, string name)
    {
        ArgumentNullException.ThrowIfNull(cookieHeader);
        ArgumentNullException.ThrowIfNull(name);
        StringBuilder? sb = null;
        var parts = cookieHeader.Split(';');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i].Trim();
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq == name.Length && part.StartsWith(name, StringComparison.Ordinal))
            {
                var value = part[(eq + 1)..];
                var tilde = value.IndexOf(PrefixSeparator, StringComparison.Ordinal);
                if (tilde >= 0)
                {
                    parts[i] = name + "=" + value[(tilde + 1)..];
                    sb ??= new StringBuilder();
                    continue;
                }
            }
            parts[i] = part;
        }
        return sb is null ? null : string.Join("; ", parts.Select(p => p.Trim()).Where(p => p.Length > 0));
    }

    /// <summary>The target key in a <c>prefix</c>-mode cookie value (<c>key~value</c>); null without a separator.</summary>
    public static string? PrefixKey(string? cookieValue)
    {
        var tilde = cookieValue?.IndexOf(PrefixSeparator, StringComparison.Ordinal) ?? -1;
        return tilde <= 0 ? null : cookieValue![..tilde];
    }

    /// <summary>
    /// <c>prefix</c>/<c>rewrite</c> mode, on the way out: the application's <c>Set-Cookie</c> for <paramref name="name"/>
    /// with its value prefixed by (or replaced with) <paramref name="key"/>, plus the <c>HttpOnly</c>, <c>Secure</c> and
    /// <c>SameSite</c> attributes <paramref name="options"/> asks for; null when the header sets another cookie.
    /// </summary>
    public static string? RewriteSetCookie(string setCookie, string name, string key, StickyCookieSpec options)
    {
        ArgumentNullException.ThrowIfNull(setCookie);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        var semi = setCookie.IndexOf(';', StringComparison.Ordinal);
        var pair = semi < 0 ? setCookie : setCookie[..semi];
        var attributes = semi < 0 ? "" : setCookie[semi..];
        var eq = pair.IndexOf('=', StringComparison.Ordinal);
        if (eq < 0 || !string.Equals(pair[..eq].Trim(), name, StringComparison.Ordinal))
        {
            return null;
        }
        var value = pair[(eq + 1)..].Trim();
        var sb = new StringBuilder(name).Append('=');
        sb.Append(options.Mode == StickyCookieModes.Prefix ? key + PrefixSeparator + value : key).Append(attributes);
        if (options.HttpOnly == true && !attributes.Contains("httponly", StringComparison.OrdinalIgnoreCase))
        {
            sb.Append("; HttpOnly");
        }
        if (options.Secure && !attributes.Contains("secure", StringComparison.OrdinalIgnoreCase))
        {
            sb.Append("; Secure");
        }
        if (options.SameSite is { } sameSite && !attributes.Contains("samesite", StringComparison.OrdinalIgnoreCase))
        {
            sb.Append("; SameSite=").Append(char.ToUpperInvariant(sameSite[0])).Append(sameSite[1..]);
        }
        return sb.ToString();
    }

    private static string FormatSetCookieCore(string name, string value, StickyCookieSpec? options)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        var sb = new StringBuilder(name.Length + value.Length + 64);
        sb.Append(name).Append('=').Append(value).Append("; Path=/");
        // Parsed once when the configuration was read (Duration); nothing is parsed per request.
        if (options?.MaxAge?.Positive is { } lifetime)
        {
            var seconds = Math.Max(1L, (long)lifetime.TotalSeconds);
            sb.Append("; Max-Age=").Append(seconds.ToString(CultureInfo.InvariantCulture));
        }
        if (options?.HttpOnly != false)
        {
            sb.Append("; HttpOnly");
        }
        if (options?.Secure == true)
        {
            sb.Append("; Secure");
        }
        switch (options?.SameSite)
        {
            case "lax":
                sb.Append("; SameSite=Lax");
                break;
            case "strict":
                sb.Append("; SameSite=Strict");
                break;
            case "none":
                sb.Append("; SameSite=None");
                break;
            default:
                break;
        }
        return sb.ToString();
    }
}
