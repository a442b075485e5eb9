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
        sb.Append("; HttpOnly");
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
