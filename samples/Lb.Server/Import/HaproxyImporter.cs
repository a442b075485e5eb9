using Lb.Core.Spec;

namespace Lb.Server.Import;

/// <summary>
/// Translates a haproxy.cfg into Lb's desired state. Backends become pools; the <c>use_backend</c> rules of the
/// frontend become routes whose order Lb's precedence preserves: every path condition is a regex route (Lb tries
/// regexes in declaration order, as HAProxy tries rules), and host conditions are evaluated per host level, each
/// level ending in the default backend so that no request falls through to a level with other rules.
/// </summary>
internal sealed partial class HaproxyImporter
{
    private readonly List<ImportNote> _notes = [];

    /// <summary>Keywords with no bearing on routing or balancing, and what to tell the operator about them.</summary>
    private static readonly Dictionary<string, string> Harmless = new(StringComparer.Ordinal)
    {
        ["log"] = "logging is not translated: Lb's access log is 'accessLog' in app.json",
        ["log-format"] = "logging is not translated: Lb's access log is 'accessLog' in app.json",
        ["capture"] = "capture is not translated: Lb's access log is 'accessLog' in app.json",
        ["stats"] = "stats are not translated: Lb shows them in the dashboard and /api/runtime on the admin listener",
        ["maxconn"] = "a proxy-wide maxconn is not translated: Lb's limit is 'maxProxyConnections' in app.json",
        ["description"] = "",
        ["id"] = "",
        ["enabled"] = "",
        ["retries"] = "retries are not translated: Lb retries a failed connect once on another target",
        ["errorfile"] = "error pages are not translated",
        ["compression"] = "compression is not translated",
        ["fullconn"] = "fullconn is not translated",
        ["hash-type"] = "hash-type is not translated: Lb's hashes are consistent",
    };

    private static readonly Dictionary<string, string> HarmlessOptions = new(StringComparer.Ordinal)
    {
        ["httplog"] = "logging is not translated: Lb's access log is 'accessLog' in app.json",
        ["tcplog"] = "logging is not translated",
        ["dontlognull"] = "",
        ["log-health-checks"] = "",
        ["dontlog-normal"] = "",
        ["logasap"] = "",
        ["forwardfor"] = "Lb always sends X-Forwarded-For (and X-Forwarded-Proto and -Host) to targets",
        ["httpclose"] = "connection handling is Lb's own: pooled keep-alive connections to targets",
        ["http-server-close"] = "connection handling is Lb's own: pooled keep-alive connections to targets",
        ["http-keep-alive"] = "connection handling is Lb's own: pooled keep-alive connections to targets",
        ["forceclose"] = "connection handling is Lb's own: pooled keep-alive connections to targets",
        ["http-pretend-keepalive"] = "",
        ["redispatch"] = "Lb retries a failed connect once on another target",
        ["abortonclose"] = "",
        ["splice-auto"] = "",
    };

    public static ImportResult Import(string text)
    {
        var importer = new HaproxyImporter();
        var config = importer.Run(HaproxyConfig.Parse(text));
        var notes = importer._notes
            .DistinctBy(n => (n.Line, n.Untranslated, n.Message))
            .OrderBy(n => n.Line)
            .ToList();
        return new ImportResult(config, notes);
    }

    private ProxyConfig Run(List<CfgSection> sections)
    {
        foreach (var section in sections)
        {
            switch (section.Kind)
            {
                case "global":
                    Note(section.Header, "global: process settings (user, daemon, logging, stats socket, maxconn) are not part of the desired state");
                    break;
                case "defaults" or "frontend" or "backend" or "listen":
                    ClassifyLines(section);
                    break;
                case "":
                    Untranslated(section.Header, "directive outside of any section");
                    break;
                default:
                    Note(section.Header, $"section '{section.Kind}' is not translated");
                    break;
            }
        }

        var backends = new SortedDictionary<string, BackendTranslation>(StringComparer.Ordinal);
        var backendSections = sections.Where(s => s.IsBackendLike).GroupBy(s => s.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        foreach (var (name, section) in backendSections)
        {
            if (TranslateBackend(section) is { } translated)
            {
                backends[name] = translated;
            }
            else if (section.Kind == "backend")
            {
                Note(section.Header, $"backend {name} has no servers; it becomes no pool");
            }
        }

        var routes = new List<RouteSpec>();
        var routing = sections.Where(s => s.IsFrontendLike && IsRouting(s, backends)).ToList();
        var tcpFrontends = routing.Where(s => Mode(s) is not null).ToList();
        var frontends = routing.Where(s => Mode(s) is null).ToList();
        foreach (var extra in frontends.Skip(1))
        {
            Untranslated(extra.Header, $"'{extra.Kind} {extra.Name}' is a second proxy with its own listener: Lb has one proxy listener; import the proxies one at a time");
        }
        if (frontends.Count == 0 && tcpFrontends.Count == 0)
        {
            Untranslated(sections.FirstOrDefault()?.Header ?? new CfgLine(1, [""]), "no frontend or listen section with backends was found");
        }
        else if (frontends.Count > 0)
        {
            var clientTimeout = ClientTimeout(frontends[0]);
            routes.AddRange(TranslateFrontend(frontends[0], backends).Select(r => r with { ClientTimeout = clientTimeout }));
        }
        var listeners = TranslateTcpFrontends(tcpFrontends, backends, backendSections);

        return new ProxyConfig
        {
            Routes = routes,
            UpstreamPools = new SortedDictionary<string, UpstreamPoolSpec>(backends.ToDictionary(b => b.Key, b => b.Value.Pool), StringComparer.Ordinal),
            TcpListeners = listeners.Count > 0 ? listeners : null,
        };
    }

    /// <summary>The frontend's <c>timeout client</c> (or <c>clitimeout</c>) as every route's <c>client_timeout</c>.</summary>
    private Duration? ClientTimeout(CfgSection frontend)
    {
        var line = frontend.Last("timeout", "client");
        if (line is null && frontend.Last("clitimeout") is { } legacy)
        {
            line = new CfgLine(legacy.Number, ["timeout", "client", legacy.Arg(1)]);
        }
        if (line is null)
        {
            return null;
        }
        if (!HaproxyDurations.TryParse(line.Arg(2), out var value))
        {
            Untranslated(line, $"timeout client '{line.Arg(2)}' is not a time value");
            return null;
        }
        Note(line, "timeout client → client_timeout on every route: Lb applies it while a request body arrives; idle keep-alive connections close after keepAliveTimeout (app.json)");
        return Duration.Parse(Lb.Core.Spec.GoDuration.Format(value));
    }

    private static bool IsRouting(CfgSection section, IReadOnlyDictionary<string, BackendTranslation> backends) =>
        section.Lines.Any(l => l.Keyword is "use_backend" or "default_backend")
        || (section.Kind == "listen" && backends.ContainsKey(section.Name))
        || section.Defaults?.Lines.Any(l => l.Keyword == "default_backend") == true;

    /// <summary>Notes (or flags) every directive that is neither translated elsewhere nor irrelevant.</summary>
    private void ClassifyLines(CfgSection section)
    {
        foreach (var line in section.Lines.Where(l => !TranslatedForTcp(section, l)))
        {
            switch (line.Keyword)
            {
                case "mode" or "bind" or "acl" or "use_backend" or "default_backend" or "balance" or "server" or "default-server" or "cookie" or "http-check"
                    or "contimeout" or "srvtimeout":
                    break;
                case "timeout":
                    if (line.Arg(1) is not ("connect" or "server" or "check" or "client" or "queue"))
                    {
                        Note(line, $"timeout {line.Arg(1)} is not translated: Lb's client-side timeouts are node settings");
                    }
                    break;
                case "clitimeout":
                    break;
                case "option" when line.Arg(1) == "httpchk":
                    break;
                case "option" when HarmlessOptions.TryGetValue(line.Arg(1), out var why):
                    if (why.Length > 0)
                    {
                        Note(line, $"option {line.Arg(1)}: {why}");
                    }
                    break;
                case "no" when line.Arg(1) == "option":
                    Note(line, $"'{line.Text}' is not translated");
                    break;
                case var k when Harmless.TryGetValue(k, out var why):
                    if (why.Length > 0)
                    {
                        Note(line, why);
                    }
                    break;
                default:
                    Untranslated(line, $"'{line.Keyword}{(line.Keyword == "option" ? " " + line.Arg(1) : "")}' is not translated");
                    break;
            }
        }
    }

    private void Note(CfgLine line, string message) => _notes.Add(new ImportNote(line.Number, false, message));

    private void Untranslated(CfgLine line, string message) => _notes.Add(new ImportNote(line.Number, true, message));
}
