using System.Globalization;
using System.Text;

namespace Lb.Core.Spec;

/// <summary>
/// Parses and formats durations in Go's <c>time.ParseDuration</c> syntax (<c>"10s"</c>, <c>"1m30s"</c>,
/// <c>"1.5h"</c>, <c>"500ms"</c>), the format every duration in the wire contract uses.
/// </summary>
internal static class GoDuration
{
    private const long NanosPerTick = 100;

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> holds Go's error text.</summary>
    public static bool TryParse(string? text, out TimeSpan value, out string? error)
    {
        value = default;
        error = null;
        var s = text ?? "";
        var original = s;
        var negative = false;
        var i = 0;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            negative = s[0] == '-';
            i++;
        }
        if (s.Length - i == 1 && s[i] == '0')
        {
            return true;
        }
        if (i == s.Length)
        {
            error = Invalid(original);
            return false;
        }

        decimal totalNanos = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
            var intPart = s[start..i];
            string fracPart = "";
            if (i < s.Length && s[i] == '.')
            {
                i++;
                var fracStart = i;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }
                fracPart = s[fracStart..i];
            }
            if (intPart.Length == 0 && fracPart.Length == 0)
            {
                error = Invalid(original);
                return false;
            }

            var unitStart = i;
            while (i < s.Length && s[i] != '.' && !char.IsAsciiDigit(s[i]))
            {
                i++;
            }
            var unit = s[unitStart..i];
            if (unit.Length == 0)
            {
                error = $"time: missing unit in duration {Quote(original)}";
                return false;
            }
            long unitNanos = unit switch
            {
                "ns" => 1,
                "us" or "µs" or "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                _ => 0,
            };
            if (unitNanos == 0)
            {
                error = $"time: unknown unit {Quote(unit)} in duration {Quote(original)}";
                return false;
            }

            try
            {
                // Decimal keeps 28 digits, enough for any int64 nanosecond count; longer digit runs overflow.
                if (intPart.Length > 20 || fracPart.Length > 20)
                {
                    error = Invalid(original);
                    return false;
                }
                var number = decimal.Parse((intPart.Length == 0 ? "0" : intPart) + (fracPart.Length == 0 ? "" : "." + fracPart), CultureInfo.InvariantCulture);
                totalNanos += number * unitNanos;
            }
            catch (OverflowException)
            {
                error = Invalid(original);
                return false;
            }
            if (totalNanos > long.MaxValue)
            {
                error = Invalid(original);
                return false;
            }
        }

        var nanos = (long)decimal.Truncate(totalNanos);
        value = TimeSpan.FromTicks((negative ? -nanos : nanos) / NanosPerTick);
        return true;
    }

    /// <summary>Parses <paramref name="text"/> or throws <see cref="FormatException"/> with Go's error text.</summary>
    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value, out var error) ? value : throw new FormatException(error);

    /// <summary>Formats like Go's <c>Duration.String()</c>: <c>1h2m3.5s</c>, <c>500ms</c>, <c>0s</c>.</summary>
    public static string Format(TimeSpan value)
    {
        var nanos = value.Ticks * NanosPerTick;
        if (nanos == 0)
        {
            return "0s";
        }
        var sb = new StringBuilder();
        if (nanos < 0)
        {
            sb.Append('-');
            nanos = -nanos;
        }
        if (nanos < 1_000_000_000)
        {
            // Sub-second values use the largest unit that keeps an integer part.
            var (unit, scale) = nanos < 1_000 ? ("ns", 1L) : nanos < 1_000_000 ? ("µs", 1_000L) : ("ms", 1_000_000L);
            sb.Append(Fraction(nanos, scale)).Append(unit);
            return sb.ToString();
        }
        var hours = nanos / 3_600_000_000_000;
        nanos %= 3_600_000_000_000;
        var minutes = nanos / 60_000_000_000;
        nanos %= 60_000_000_000;
        if (hours > 0)
        {
            sb.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }
        if (hours > 0 || minutes > 0)
        {
            sb.Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }
        sb.Append(Fraction(nanos, 1_000_000_000)).Append('s');
        return sb.ToString();
    }

    private static string Fraction(long value, long scale)
    {
        var whole = value / scale;
        var rest = value % scale;
        if (rest == 0)
        {
            return whole.ToString(CultureInfo.InvariantCulture);
        }
        var digits = scale.ToString(CultureInfo.InvariantCulture).Length - 1;
        return whole.ToString(CultureInfo.InvariantCulture) + "." + rest.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0');
    }

    private static string Invalid(string s) => $"time: invalid duration {Quote(s)}";

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
