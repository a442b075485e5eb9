using System.Globalization;

namespace Lb.Server.Import;

/// <summary>HAProxy time values: a number with an optional unit (us, ms, s, m, h, d); milliseconds without one.</summary>
internal static class HaproxyDurations
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        var end = 0;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }
        if (end == 0 || !long.TryParse(text.AsSpan(0, end), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return false;
        }
        double? ms = text[end..] switch
        {
            "" or "ms" => n,
            "us" => n / 1000.0,
            "s" => n * 1000.0,
            "m" => n * 60_000.0,
            "h" => n * 3_600_000.0,
            "d" => n * 86_400_000.0,
            _ => null,
        };
        if (ms is not { } millis || millis <= 0)
        {
            return false;
        }
        value = TimeSpan.FromMilliseconds(millis);
        return true;
    }
}
