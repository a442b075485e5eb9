using Lb.Core.Spec;

namespace Lb.Server.Import;

internal sealed partial class HaproxyImporter
{
    /// <summary>A <c>use_backend</c> (or the default backend): its condition in OR-of-AND form, null meaning always.</summary>
    private sealed record Rule(CfgLine Line, string Backend, List<List<AclLiteral>>? Terms);

    /// <summary>One rule at one host level, host conditions already decided: at most one path condition, maybe negated.</summary>
    private sealed record Entry(CfgLine Line, string Backend, string? Path, bool Negated);

    private List<RouteSpec> TranslateFrontend(CfgSection frontend, IReadOnlyDictionary<string, BackendTranslation> backends)
    {
        foreach (var bind in frontend.Lines.Where(l => l.Keyword == "bind"))
        {
            Note(bind, $"bind {bind.Arg(1)}: the proxy listens where 'proxyListenAddr' in app.json says{(bind.Words.Contains("ssl") ? "; TLS takes 'proxyTlsCertificate' and 'proxyTlsKey'" : "")}");
        }
        if (frontend.Kind == "listen" && frontend.Header.Words.Count > 2)
        {
            Note(frontend.Header, $"listen address {frontend.Header.Arg(2)}: the proxy listens where 'proxyListenAddr' in app.json says");
        }

        var acls = new Dictionary<string, AclDefinition>(StringComparer.Ordinal);
        foreach (var line in frontend.Lines.Where(l => l.Keyword == "acl" && l.Words.Count > 1))
        {
            if (!acls.TryGetValue(line.Arg(1), out var definition))
            {
                acls[line.Arg(1)] = definition = new AclDefinition(line.Arg(1), line.Number);
            }
            var (atom, problem) = HaproxyAcls.Parse([.. line.Words.Skip(2)]);
            if (atom?.PathRegex is { } regex && !PathRegex.TryCreate(regex, out _, out var error))
            {
                (atom, problem) = (null, $"the path regex does not work in Lb (RE2 syntax): {error}");
            }
            if (atom is null)
            {
                definition.Problem ??= problem;
            }
            else
            {
                definition.Add(atom);
            }
        }

        var rules = new List<Rule>();
        foreach (var line in frontend.Lines.Where(l => l.Keyword == "use_backend"))
        {
            var backend = line.Arg(1);
            if (backend.Contains('%', StringComparison.Ordinal))
            {
                Untranslated(line, "a backend name computed per request is not translated");
                continue;
            }
            if (!backends.ContainsKey(backend))
            {
                Untranslated(line, $"backend '{backend}' is not defined or has no servers");
                continue;
            }
            if (line.Words.Count == 2)
            {
                rules.Add(new Rule(line, backend, null));
                continue;
            }
            if (line.Arg(2) is not ("if" or "unless"))
            {
                Untranslated(line, "expected 'if' or 'unless' after the backend name");
                continue;
            }
            var (terms, problem) = HaproxyAcls.ParseCondition([.. line.Words.Skip(3)], line.Arg(2) == "unless", acls, line.Number);
            if (terms is null)
            {
                Untranslated(line, problem!);
                continue;
            }
            rules.Add(new Rule(line, backend, terms));
        }
        foreach (var acl in acls.Values.Where(a => a.Problem is not null && !rules.Any(r => r.Terms?.Any(t => t.Any(l => l.Acl == a)) == true)))
        {
            Note(new CfgLine(acl.Line, ["acl"]), $"ACL '{acl.Name}' is not translated ({acl.Problem}), but no rule uses it");
        }

        var defaultLine = frontend.Last("default_backend");
        var defaultBackend = defaultLine?.Arg(1) ?? (frontend.Kind == "listen" && backends.ContainsKey(frontend.Name) ? frontend.Name : null);
        if (defaultLine is not null && !backends.ContainsKey(defaultLine.Arg(1)))
        {
            Untranslated(defaultLine, $"backend '{defaultLine.Arg(1)}' is not defined or has no servers");
            defaultBackend = null;
        }
        if (defaultBackend is not null)
        {
            rules.Add(new Rule(defaultLine ?? frontend.Header, defaultBackend, null));
        }
        else if (rules.FirstOrDefault(r => r.Terms?.Any(t => t.Any(l => l.Negated && l.Acl.Atoms.Any(a => a.Hosts is not null))) == true) is { } negatedHost)
        {
            Untranslated(negatedHost.Line, "a negated host ACL without a default_backend is not translated: Lb would try less specific hosts next");
        }

        var levels = Levels(rules);
        var routes = new List<RouteSpec>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var level in levels)
        {
            foreach (var (path, backend) in Decide(Entries(rules, level)))
            {
                var id = $"{frontend.Name}:{backend}{(level is null ? "" : "@" + (HostNames.IsWildcard(level) ? level[1..] : level))}";
                ids[id] = ids.GetValueOrDefault(id) + 1;
                var translation = backends[backend];
                routes.Add(new RouteSpec
                {
                    Id = ids[id] == 1 ? id : $"{id}:{ids[id]}",
                    Enabled = true,
                    Algorithm = translation.Algorithm,
                    HashKey = translation.HashKey,
                    Match = new RouteMatchSpec
                    {
                        Hosts = level is null ? [] : [level],
                        Path = path is null ? null : new PathMatchSpec { Type = PathMatchTypes.Regex, Value = path },
                    },
                    UpstreamPool = backend,
                    StickyCookie = translation.StickyCookie,
                });
            }
        }
        return routes;
    }

    /// <summary>Every host pattern the rules name (exact ones, then wildcards), then null for "any other host".</summary>
    private static List<string?> Levels(List<Rule> rules)
    {
        var hosts = rules.SelectMany(r => r.Terms ?? []).SelectMany(t => t).SelectMany(l => l.Acl.Atoms)
            .SelectMany(a => a.Hosts ?? []).Select(h => h.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
        return [.. hosts.Where(h => !HostNames.IsWildcard(h)).Order(StringComparer.Ordinal),
            .. hosts.Where(HostNames.IsWildcard).Order(StringComparer.Ordinal), null];
    }

    /// <summary>
    /// Whether a host atom holds for every request decided at <paramref name="level"/>. Each named host is a level of
    /// its own, so a request is decided at the most specific level that names it: at "any other host" no host ACL holds.
    /// </summary>
    private static bool Holds(AclAtom atom, string? level)
    {
        if (level is null)
        {
            return false;
        }
        foreach (var pattern in atom.Hosts!)
        {
            if (string.Equals(pattern, level, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
            if (HostNames.IsWildcard(pattern))
            {
                var suffix = pattern[1..]; // ".example.com"
                var name = HostNames.IsWildcard(level) ? level[1..] : "." + level;
                if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private List<Entry> Entries(List<Rule> rules, string? level)
    {
        var entries = new List<Entry>();
        foreach (var rule in rules)
        {
            if (rule.Terms is null)
            {
                entries.Add(new Entry(rule.Line, rule.Backend, null, false));
                continue;
            }
            foreach (var term in rule.Terms)
            {
                // A term is an AND of literals; a positive literal whose ACL has a host and a path part is an OR of the two.
                var alternatives = new List<(bool Holds, List<string> Paths, List<string> Negated)> { (true, [], []) };
                var expressible = true;
                foreach (var literal in term)
                {
                    if (literal.Negated)
                    {
                        if (literal.Acl.Atoms.Count != 1)
                        {
                            Untranslated(rule.Line, $"negated ACL '{literal.Acl.Name}' mixes host and path conditions; Lb cannot express its negation");
                            expressible = false;
                            break;
                        }
                        var atom = literal.Acl.Atoms[0];
                        alternatives = atom.Hosts is not null
                            ? [.. alternatives.Select(a => (a.Holds && !Holds(atom, level), a.Paths, a.Negated))]
                            : [.. alternatives.Select(a => (a.Holds, a.Paths, (List<string>)[.. a.Negated, atom.PathRegex!]))];
                        continue;
                    }
                    alternatives = [.. alternatives.SelectMany(a => literal.Acl.Atoms.Select(atom => atom.Hosts is not null
                        ? (a.Holds && Holds(atom, level), a.Paths, a.Negated)
                        : (a.Holds, (List<string>)[.. a.Paths, atom.PathRegex!], a.Negated)))];
                }
                if (!expressible)
                {
                    continue;
                }
                foreach (var (holds, paths, negated) in alternatives.Where(a => a.Holds))
                {
                    var p = paths.Distinct(StringComparer.Ordinal).ToList();
                    var n = negated.Distinct(StringComparer.Ordinal).ToList();
                    if (p.Count + n.Count > 1)
                    {
                        Untranslated(rule.Line, "two path conditions joined by AND are not translated: an Lb route has one path condition");
                        continue;
                    }
                    entries.Add(new Entry(rule.Line, rule.Backend, p.Count == 1 ? p[0] : n.SingleOrDefault(), n.Count == 1));
                }
            }
        }
        return entries;
    }

    /// <summary>Turns a level's ordered entries into (path regex or null, backend) routes with the same outcome.</summary>
    private List<(string? Path, string Backend)> Decide(List<Entry> entries)
    {
        var routes = new List<(string?, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Path is null)
            {
                routes.Add((null, entry.Backend));
                return routes;
            }
            if (!entry.Negated)
            {
                // The same regex again can never be reached: the first route takes its requests.
                if (seen.Add(entry.Path))
                {
                    routes.Add((entry.Path, entry.Backend));
                }
                continue;
            }
            // "if !P use B": requests matching P go on to the next rule; Lb can say that when the next rule takes all.
            if (!seen.Contains(entry.Path))
            {
                var next = i + 1 < entries.Count ? entries[i + 1] : null;
                if (next is { Path: null })
                {
                    routes.Add((entry.Path, next.Backend));
                }
                else
                {
                    Untranslated(entry.Line, next is null
                        ? "a negated path ACL without a default_backend is not translated: HAProxy answers 503 where Lb would fall through"
                        : $"a negated path ACL followed by another path rule (line {next.Line.Number}) is not translated: an Lb route has one path condition");
                }
            }
            routes.Add((null, entry.Backend));
            return routes;
        }
        return routes;
    }
}
