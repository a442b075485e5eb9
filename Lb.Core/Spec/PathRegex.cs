using System.Text.RegularExpressions;

namespace Lb.Core.Spec;

/// <summary>
/// Builds the regular expressions of <c>regex</c> path matches. The wire contract uses RE2 semantics, so
/// patterns run on the non-backtracking engine: linear time, and constructs RE2 rejects (look-around,
/// back-references) fail to compile here too.
/// </summary>
public static class PathRegex
{
    /// <summary>Upper bound for one match; linear-time matching keeps real matches far below it.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>Options every path regex is built with.</summary>
    public const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    /// <summary>Compiles <paramref name="pattern"/>, or explains why it cannot be used.</summary>
    public static bool TryCreate(string pattern, out Regex? regex, out string? error)
    {
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
        catch (NotSupportedException)
        {
            error = "error parsing regexp: look-around, back-references, atomic groups and conditionals are not supported (RE2 syntax)";
        }
        catch (ArgumentException ex)
        {
            error = "error parsing regexp: " + ex.Message;
        }
        regex = null;
        return false;
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
