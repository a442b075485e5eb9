using System.Text.RegularExpressions;

namespace Lb.Core.Spec;

/// <summary>
/// Builds the regular expressions of <c>regex</c> path matches. The wire contract uses RE2 semantics, so
/// patterns run on the non-backtracking engine: linear time, and constructs RE2 rejects (look-around,
/// back-references) fail to compile here too.
/// </summary>
internal static class PathRegex
{
    /// <summary>Upper bound for one match; linear-time matching keeps real matches far below it.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>Options every path regex is built with.</summary>
    public const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    /// <summary>Compiles <paramref name="pattern"/>, or explains why it cannot be used.</summary>
    public static bool TryCreate(string pattern, out Regex? regex, out string? error)
    {
        if (RepeatCountError(pattern) is { } repeat)
        {
            regex = null;
            error = repeat;
            return false;
        }
        try
        {
            regex = new Regex(pattern, Options, MatchTimeout);
            error = null;
            return true;
        }
        catch (RegexParseException ex)
        {
            error = $"error parsing regexp: {Describe(ex.Error)} at offset {ex.Offset}";
        }
        catch (NotSupportedException ex) when (ex.Message.Contains("conjunction", StringComparison.Ordinal))
        {
            error = "error parsing regexp: look-around, back-references, atomic groups and conditionals are not supported (RE2 syntax)";
        }
        catch (NotSupportedException)
        {
            error = "error parsing regexp: expression too large; use fewer or smaller repeats";
        }
        catch (ArgumentException ex)
        {
            error = "error parsing regexp: " + ex.Message;
        }
        regex = null;
        return false;
    }

    /// <summary>
    /// RE2 rejects a repeat count over 1000, also when nested repeats multiply past it (<c>(a{100}){100}</c>); .NET
    /// would accept the first and fail the second with an unrelated message. Null when every count is within bounds.
    /// </summary>
    internal static string? RepeatCountError(string pattern)
    {
        const int Max = 1000;
        var frames = new Stack<int>(); // largest repeat product inside each open group
        var current = 1;
        var lastAtom = 1;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '\\':
                    i++;
                    lastAtom = 1;
                    break;
                case '[':
                    i = EndOfClass(pattern, i);
                    lastAtom = 1;
                    break;
                case '(':
                    frames.Push(current);
                    current = 1;
                    break;
                case ')':
                    lastAtom = current;
                    current = frames.Count > 0 ? Math.Max(frames.Pop(), lastAtom) : current;
                    break;
                case '{' when TryReadRepeat(pattern, i, out var count, out var end):
                    var quantifier = pattern[i..(end + 1)];
                    if (count > Max)
                    {
                        return $"error parsing regexp: invalid repeat count: `{quantifier}` (at most {Max})";
                    }
                    var product = (long)lastAtom * count;
                    if (product > Max)
                    {
                        return $"error parsing regexp: invalid repeat count: `{quantifier}` repeats a part that already repeats, {product} times in all (at most {Max})";
                    }
                    current = Math.Max(current, (int)product);
                    lastAtom = (int)product;
                    i = end;
                    break;
                default:
                    lastAtom = 1;
                    break;
            }
        }
        return null;
    }

    /// <summary>Index of the <c>]</c> closing the class opened at <paramref name="start"/> (or the end).</summary>
    private static int EndOfClass(string pattern, int start)
    {
        var i = start + 1;
        if (i < pattern.Length && pattern[i] == '^')
        {
            i++;
        }
        if (i < pattern.Length && pattern[i] == ']')
        {
            i++; // a leading ']' is literal
        }
        for (; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\')
            {
                i++;
            }
            else if (pattern[i] == ']')
            {
                return i;
            }
        }
        return pattern.Length;
    }

    /// <summary>Reads <c>{n}</c>, <c>{n,}</c> or <c>{n,m}</c>; <paramref name="count"/> is the larger bound given.</summary>
    private static bool TryReadRepeat(string pattern, int start, out long count, out int end)
    {
        count = 0;
        end = start;
        long first = 0, second = -1;
        var i = start + 1;
        var digits = 0;
        for (; i < pattern.Length && char.IsAsciiDigit(pattern[i]); i++, digits++)
        {
            first = Math.Min(first * 10 + (pattern[i] - '0'), int.MaxValue);
        }
        if (digits == 0 || i >= pattern.Length)
        {
            return false;
        }
        if (pattern[i] == ',')
        {
            i++;
            var secondDigits = 0;
            for (second = 0; i < pattern.Length && char.IsAsciiDigit(pattern[i]); i++, secondDigits++)
            {
                second = Math.Min(second * 10 + (pattern[i] - '0'), int.MaxValue);
            }
            if (secondDigits == 0)
            {
                second = -1;
            }
        }
        if (i >= pattern.Length || pattern[i] != '}')
        {
            return false;
        }
        count = Math.Max(first, second);
        end = i;
        return true;
    }

    private static string Describe(RegexParseError error)
    {
        // "InsufficientClosingParentheses" -> "insufficient closing parentheses"
        var name = error.ToString();
        var chars = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                chars.Append(' ');
            }
            chars.Append(char.ToLowerInvariant(name[i]));
        }
        return chars.ToString();
    }
}
