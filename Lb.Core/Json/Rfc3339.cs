using System.Globalization;

namespace Lb.Core.Json;

/// <summary>Timestamps the way the reference writes them: RFC 3339 with up to 9 fraction digits, trailing zeros dropped.</summary>
internal static class Rfc3339
{
    /// <summary>Formats <paramref name="value"/> in UTC (<c>2026-06-09T10:15:02.118392Z</c>).</summary>
    public static string Format(DateTimeOffset value)
    {
        var utc = value.UtcDateTime;
        var text = utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture).TrimEnd('0').TrimEnd('.');
        return text + "Z";
    }
}
