namespace Lb.Core.Validation;

/// <summary>"Did you mean ...?" for misspelled names: the closest known name by edit distance, if close enough.</summary>
public static class Suggestions
{
    /// <summary>
    /// The known name closest to <paramref name="given"/> (case-insensitive, '_' and '-' ignored, so
    /// <c>proxy_listen_addr</c> and <c>proxyListenAddr</c> are the same), or null when none is within a third of its length.
    /// </summary>
    public static string? Closest(string given, IEnumerable<string> known)
    {
        var g = Fold(given);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var d = Distance(g, Fold(candidate));
            if (d < bestDistance)
            {
                (best, bestDistance) = (candidate, d);
            }
        }
        return best is not null && bestDistance <= Math.Max(1, g.Length / 3) ? best : null;
    }

    private static string Fold(string s) => new([.. s.Where(c => c is not '_' and not '-').Select(char.ToLowerInvariant)]);

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
