using System.Text;

namespace Lb.Server.Import;

/// <summary>One part of an ACL that Lb can express: a set of host patterns or a path regular expression.</summary>
/// <param name="Hosts">Host names or <c>*.suffix</c> wildcards (host ACLs), else null.</param>
/// <param name="PathRegex">An RE2 search over the path (path ACLs), else null.</param>
internal sealed record AclAtom(IReadOnlyList<string>? Hosts, string? PathRegex);

/// <summary>A named ACL: the OR of its lines, merged into at most one host atom and one path atom.</summary>
internal sealed class AclDefinition(string name, int line)
{
    public string Name { get; } = name;

    public int Line { get; } = line;

    public List<AclAtom> Atoms { get; } = [];

    /// <summary>Why Lb cannot express this ACL (criterion or flag it has no equivalent for); null when it can.</summary>
    public string? Problem { get; set; }

    public void Add(AclAtom atom)
    {
        var same = Atoms.FindIndex(a => (a.Hosts is null) == (atom.Hosts is null));
        if (same < 0)
        {
            Atoms.Add(atom);
        }
        else if (atom.Hosts is not null)
        {
            Atoms[same] = new AclAtom([.. Atoms[same].Hosts!.Concat(atom.Hosts).Distinct(StringComparer.OrdinalIgnoreCase)], null);
        }
        else
        {
            Atoms[same] = new AclAtom(null, $"{Group(Atoms[same].PathRegex!)}|{Group(atom.PathRegex!)}");
        }
    }

    private static string Group(string regex) => regex.StartsWith("(?", StringComparison.Ordinal) && regex.EndsWith(')') ? regex : $"(?:{regex})";
}

/// <summary>A condition literal: an ACL, possibly negated.</summary>
internal sealed record AclLiteral(AclDefinition Acl, bool Negated);

/// <summary>Parses <c>acl</c> lines and <c>if</c>/<c>unless</c> conditions into what Lb routes can express.</summary>
internal static class HaproxyAcls
{
    /// <summary>Reads one <c>acl NAME CRITERION [flags] VALUES</c> definition (words after the name).</summary>
    public static (AclAtom? Atom, string? Problem) Parse(IReadOnlyList<string> words)
    {
        if (words.Count == 0)
        {
            return (null, "an ACL needs a criterion");
        }
        var criterion = words[0];
        var ignoreCase = false;
        string? method = null;
        var values = new List<string>();
        var i = 1;
        for (; i < words.Count && words[i].StartsWith('-'); i++)
        {
            switch (words[i])
            {
                case "--":
                    i++;
                    goto values;
                case "-i":
                    ignoreCase = true;
                    break;
                case "-n":
                    break;
                case "-m" when i + 1 < words.Count:
                    method = words[++i];
                    break;
                default:
                    return (null, $"ACL flag '{words[i]}' is not translated (patterns from files, other match methods)");
            }
        }
    values:
        for (; i < words.Count; i++)
        {
            values.Add(words[i]);
        }
        if (values.Count == 0)
        {
            return (null, $"ACL '{criterion}' without values is not translated");
        }

        var (fetch, suffix) = SplitCriterion(criterion);
        method ??= suffix;
        if (fetch is "path")
        {
            var regex = PathRegex(method ?? "str", values, ignoreCase);
            return regex is null ? (null, $"match method '{method}' on path is not translated") : (new AclAtom(null, regex), null);
        }
        if (fetch is "hdr(host)" or "req.hdr(host)" or "hdr(Host)" or "req.hdr(Host)")
        {
            var hosts = new List<string>();
            foreach (var value in values)
            {
                if (value.Contains(':', StringComparison.Ordinal))
                {
                    return (null, $"host '{value}' has a port: Lb matches the host without its port");
                }
                switch (method ?? "str")
                {
                    case "str":
                        hosts.Add(value);
                        break;
                    case "dom":
                        hosts.Add(value);
                        hosts.Add("*." + value);
                        break;
                    case "end" when value.StartsWith('.') && value.Length > 1:
                        hosts.Add("*" + value);
                        break;
                    default:
                        return (null, $"host match '{criterion}{(suffix is null && method is not null ? " -m " + method : "")} {value}' is not translated: Lb matches hosts exactly or by '*.suffix'");
                }
            }
            return (new AclAtom(hosts, null), null);
        }
        return (null, $"ACL criterion '{criterion}' is not translated (Lb routes on host and path)");
    }

    /// <summary><c>path_beg</c> → (<c>path</c>, <c>beg</c>); <c>hdr_dom(host)</c> → (<c>hdr(host)</c>, <c>dom</c>).</summary>
    private static (string Fetch, string? Method) SplitCriterion(string criterion)
    {
        var paren = criterion.IndexOf('(', StringComparison.Ordinal);
        var head = paren < 0 ? criterion : criterion[..paren];
        var args = paren < 0 ? "" : criterion[paren..];
        var underscore = head.LastIndexOf('_');
        if (underscore > 0 && head[(underscore + 1)..] is "beg" or "end" or "sub" or "reg" or "dom" or "dir" or "len" or "cnt" or "found")
        {
            return (head[..underscore] + args, head[(underscore + 1)..]);
        }
        return (criterion, null);
    }

    private static string? PathRegex(string method, List<string> values, bool ignoreCase)
    {
        var parts = new List<string>();
        foreach (var value in values)
        {
            parts.Add(method switch
            {
                "str" => "^" + Escape(value) + "$",
                "beg" => "^" + Escape(value),
                "end" => Escape(value) + "$",
                "sub" => Escape(value),
                "reg" => value,
                "dir" => "(?:^|/)" + Escape(value.Trim('/')) + "(?:/|$)",
                _ => null!,
            });
            if (parts[^1] is null)
            {
                return null;
            }
        }
        var body = parts.Count == 1 ? parts[0] : string.Join('|', parts.Select(p => $"(?:{p})"));
        return ignoreCase ? $"(?i:{body})" : body;
    }

    /// <summary>Escapes regex metacharacters, RE2-compatible (no escapes RE2 would reject).</summary>
    internal static string Escape(string literal)
    {
        var sb = new StringBuilder(literal.Length + 4);
        foreach (var c in literal)
        {
            if (@"\.+*?()|[]{}^$".Contains(c, StringComparison.Ordinal))
            {
                sb.Append('\\');
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Parses the words of an <c>if</c>/<c>unless</c> condition into OR-of-AND form. Anonymous ACLs (<c>{ path_beg /x }</c>)
    /// become definitions of their own. Null with a problem when the condition uses something Lb cannot express.
    /// </summary>
    public static (List<List<AclLiteral>>? Terms, string? Problem) ParseCondition(
        IReadOnlyList<string> words, bool unless, IReadOnlyDictionary<string, AclDefinition> acls, int line)
    {
        var terms = new List<List<AclLiteral>> { new() };
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            if (word is "||" or "or")
            {
                terms.Add([]);
                continue;
            }
            var negated = false;
            if (word.StartsWith('!'))
            {
                negated = true;
                word = word[1..];
                if (word.Length == 0 && i + 1 < words.Count)
                {
                    word = words[++i];
                }
            }
            AclDefinition definition;
            if (word == "{")
            {
                var close = -1;
                for (var j = i + 1; j < words.Count; j++)
                {
                    if (words[j] == "}")
                    {
                        close = j;
                        break;
                    }
                }
                if (close < 0)
                {
                    return (null, "anonymous ACL without a closing '}'");
                }
                definition = new AclDefinition("{ " + string.Join(' ', words.Skip(i + 1).Take(close - i - 1)) + " }", line);
                var (atom, problem) = Parse([.. words.Skip(i + 1).Take(close - i - 1)]);
                if (atom is null)
                {
                    return (null, problem);
                }
                definition.Add(atom);
                i = close;
            }
            else if (word is "TRUE" or "FALSE")
            {
                return (null, $"predefined ACL '{word}' is not translated");
            }
            else if (!acls.TryGetValue(word, out definition!))
            {
                return (null, $"ACL '{word}' is not defined in this section");
            }
            else if (definition.Problem is { } problem)
            {
                return (null, $"ACL '{word}' (line {definition.Line}): {problem}");
            }
            terms[^1].Add(new AclLiteral(definition, negated));
        }
        if (terms.Any(t => t.Count == 0))
        {
            return (null, "empty condition");
        }
        if (unless)
        {
            // unless A == if !A; negating an OR or an AND gives the other one, which Lb can express only for one ACL.
            if (terms.Count != 1 || terms[0].Count != 1)
            {
                return (null, "'unless' with more than one ACL is not translated; write it with 'if' and '!'");
            }
            terms[0][0] = terms[0][0] with { Negated = !terms[0][0].Negated };
        }
        return (terms, null);
    }
}
