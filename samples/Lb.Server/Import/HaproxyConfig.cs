using System.Text;

namespace Lb.Server.Import;

/// <summary>One directive of a haproxy.cfg: its 1-based line number and its words (quotes and escapes resolved).</summary>
internal sealed record CfgLine(int Number, IReadOnlyList<string> Words)
{
    public string Keyword => Words[0];

    public string Arg(int i) => i < Words.Count ? Words[i] : "";

    public string Text => string.Join(' ', Words);
}

/// <summary>A section (<c>global</c>, <c>defaults</c>, <c>frontend</c>, <c>backend</c>, <c>listen</c>, …) with the
/// <c>defaults</c> section in force where it starts.</summary>
internal sealed class CfgSection(string kind, string name, CfgLine header, CfgSection? defaults)
{
    public string Kind { get; } = kind;

    public string Name { get; } = name;

    public CfgLine Header { get; } = header;

    public CfgSection? Defaults { get; } = defaults;

    public List<CfgLine> Lines { get; } = [];

    public bool IsFrontendLike => Kind is "frontend" or "listen";

    public bool IsBackendLike => Kind is "backend" or "listen";

    /// <summary>Lines of this section whose first words are <paramref name="keyword"/>, defaults first (a proxy's own
    /// setting comes later and so wins where the last one counts).</summary>
    public IEnumerable<CfgLine> Find(params string[] keyword)
    {
        if (Defaults is not null)
        {
            foreach (var line in Defaults.Lines.Where(l => StartsWith(l, keyword)))
            {
                yield return line;
            }
        }
        foreach (var line in Lines.Where(l => StartsWith(l, keyword)))
        {
            yield return line;
        }
    }

    /// <summary>The last line starting with <paramref name="keyword"/>, the section's own before its defaults.</summary>
    public CfgLine? Last(params string[] keyword) => Find(keyword).LastOrDefault();

    private static bool StartsWith(CfgLine line, string[] keyword)
    {
        if (line.Words.Count < keyword.Length)
        {
            return false;
        }
        for (var i = 0; i < keyword.Length; i++)
        {
            if (!string.Equals(line.Words[i], keyword[i], StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>Reads haproxy.cfg text into sections. Syntax only: what the directives mean is <see cref="HaproxyImporter"/>'s.</summary>
internal static class HaproxyConfig
{
    private static readonly HashSet<string> SectionKeywords = new(StringComparer.Ordinal)
    {
        "global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist", "mailers",
        "program", "http-errors", "ring", "cache", "fcgi-app", "crt-store", "traces", "log-forward",
    };

    public static List<CfgSection> Parse(string text)
    {
        var sections = new List<CfgSection>();
        CfgSection? current = null;
        CfgSection? defaults = null;
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var words = Split(raw.TrimEnd('\r'));
            if (words.Count == 0)
            {
                continue;
            }
            var line = new CfgLine(number, words);
            if (SectionKeywords.Contains(words[0]))
            {
                var name = words.Count > 1 ? words[1] : "";
                current = new CfgSection(words[0], name, line, words[0] == "defaults" ? null : defaults);
                if (words[0] == "defaults")
                {
                    defaults = current;
                }
                sections.Add(current);
                continue;
            }
            if (current is null)
            {
                // Directives before any section: HAProxy rejects them; keep them visible as a section of their own.
                current = new CfgSection("", "", line, null);
                sections.Add(current);
            }
            current.Lines.Add(line);
        }
        return sections;
    }

    /// <summary>Splits a line into words: blanks separate, '#' starts a comment, quotes and backslash escape.</summary>
    internal static List<string> Split(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else if (c == '\\' && quote == '"' && i + 1 < line.Length)
                {
                    word.Append(line[++i]);
                }
                else
                {
                    word.Append(c);
                }
                continue;
            }
            if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (c == '\\' && i + 1 < line.Length)
            {
                word.Append(line[++i]);
                inWord = true;
            }
            else if (c == '#')
            {
                break;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words;
    }
}
