using Lb.Core.Spec;

namespace Lb.Server.Import;

/// <summary>
/// <c>mode tcp</c>: every TCP frontend or listen section becomes one TCP listener per bind address, sending every
/// connection to its default backend's pool. Idle timeout from <c>timeout tunnel</c>, else the longer of
/// <c>timeout client</c> and <c>timeout server</c>; <c>maxconn</c> → <c>max_connections</c>; <c>send-proxy</c>
/// (<c>-v2</c>) on the servers → <c>send_proxy</c>.
/// </summary>
internal sealed partial class HaproxyImporter
{
    /// <summary>Lines of a TCP-mode section that the listener translation takes care of (not noted as untranslated).</summary>
    private static bool TranslatedForTcp(CfgSection section, CfgLine line) =>
        Mode(section) is not null && (line.Keyword is "maxconn" || (line.Keyword == "timeout" && line.Arg(1) is "client" or "tunnel"));

    private List<TcpListenerSpec> TranslateTcpFrontends(List<CfgSection> frontends, IReadOnlyDictionary<string, BackendTranslation> backends, IReadOnlyDictionary<string, CfgSection> backendSections)
    {
        var listeners = new List<TcpListenerSpec>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var frontend in frontends)
        {
            if (Mode(frontend) == frontend.Header)
            {
                Note(frontend.Header, $"'{frontend.Kind} {frontend.Name}' has no 'mode http' here or in defaults: HAProxy runs it in TCP mode, and so does Lb (a TCP listener)");
            }
            foreach (var rule in frontend.Lines.Where(l => l.Keyword == "use_backend"))
            {
                Untranslated(rule, "use_backend in TCP mode is not translated: a TCP listener sends every connection to its default backend");
            }
            var defaultLine = frontend.Last("default_backend");
            var backend = defaultLine?.Arg(1) ?? (frontend.Kind == "listen" ? frontend.Name : null);
            if (backend is null || !backends.TryGetValue(backend, out var translation))
            {
                Untranslated(defaultLine ?? frontend.Header, $"'{frontend.Kind} {frontend.Name}' runs in TCP mode without a default backend that has servers: it becomes no TCP listener");
                continue;
            }
            var algorithm = translation.Algorithm;
            if (!TcpAlgorithms.All.Contains(algorithm))
            {
                Untranslated(backendSections[backend].Last("balance") ?? frontend.Header, $"balance → '{algorithm}' has no meaning for a TCP listener: it uses round_robin (TCP listeners balance by round_robin, least_connection or source)");
                algorithm = TcpAlgorithms.RoundRobin;
            }
            var addresses = new List<string>();
            if (frontend.Kind == "listen" && frontend.Header.Words.Count > 2)
            {
                addresses.AddRange(frontend.Header.Arg(2).Split(',', StringSplitOptions.RemoveEmptyEntries));
            }
            foreach (var bind in frontend.Lines.Where(l => l.Keyword == "bind"))
            {
                if (bind.Words.Skip(2).Any(w => w is "ssl" or "crt" or "accept-proxy"))
                {
                    Untranslated(bind, $"bind {bind.Arg(1)}: TLS termination and PROXY protocol from clients are not available on a TCP listener");
                }
                addresses.AddRange(bind.Arg(1).Split(',', StringSplitOptions.RemoveEmptyEntries));
            }
            if (addresses.Count == 0)
            {
                Untranslated(frontend.Header, $"'{frontend.Kind} {frontend.Name}' runs in TCP mode without a bind address: it becomes no TCP listener");
                continue;
            }
            var (idle, idleLine) = IdleTimeout(frontend, backendSections[backend]);
            var maxConnections = MaxConnections(frontend);
            var sendProxy = SendProxy(backendSections[backend]);
            foreach (var address in addresses)
            {
                if (ListenAddress(address) is not { } listen)
                {
                    Untranslated(frontend.Lines.FirstOrDefault(l => l.Keyword == "bind" && l.Arg(1).Contains(address, StringComparison.Ordinal)) ?? frontend.Header,
                        $"bind address '{address}' is not translated: a TCP listener needs ip:port, [ipv6]:port or *:port (no port ranges or sockets)");
                    continue;
                }
                var id = frontend.Name;
                for (var n = 2; !ids.Add(id); n++)
                {
                    id = $"{frontend.Name}:{n}";
                }
                listeners.Add(new TcpListenerSpec
                {
                    Id = id,
                    Enabled = true,
                    Listen = listen,
                    UpstreamPool = backend,
                    Algorithm = algorithm,
                    IdleTimeout = idle,
                    MaxConnections = maxConnections,
                    SendProxy = sendProxy,
                });
            }
            if (idleLine is not null)
            {
                Note(idleLine, $"timeout {idleLine.Arg(1)} {idleLine.Arg(2)} → idle_timeout {idle} of the TCP listener{(idleLine.Arg(1) == "tunnel" ? "" : " (the longer of timeout client and timeout server)")}: Lb closes a connection that carried no bytes either way for that long");
            }
        }
        return listeners;
    }

    /// <summary><c>timeout tunnel</c> (it replaces both once a TCP connection is established), else the longer of client and server.</summary>
    private (string? Value, CfgLine? Line) IdleTimeout(CfgSection frontend, CfgSection backend)
    {
        var tunnel = backend.Last("timeout", "tunnel") ?? frontend.Last("timeout", "tunnel");
        List<CfgLine> lines = tunnel is not null ? [tunnel] : [.. new[] { frontend.Last("timeout", "client"), backend.Last("timeout", "server") }.OfType<CfgLine>()];
        CfgLine? longest = null;
        var value = TimeSpan.Zero;
        foreach (var line in lines)
        {
            if (!HaproxyDurations.TryParse(line.Arg(2), out var parsed))
            {
                Untranslated(line, $"timeout {line.Arg(1)} '{line.Arg(2)}' is not a time value");
                continue;
            }
            if (longest is null || parsed > value)
            {
                (longest, value) = (line, parsed);
            }
        }
        return longest is null ? (null, null) : (GoDuration.Format(value), longest);
    }

    private int? MaxConnections(CfgSection frontend)
    {
        if (frontend.Last("maxconn") is not { } line)
        {
            return null;
        }
        if (int.TryParse(line.Arg(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var max) && max is >= 1 and <= 1_000_000)
        {
            return max;
        }
        Untranslated(line, $"maxconn '{line.Arg(1)}' is not a number between 1 and 1000000");
        return null;
    }

    /// <summary><c>v1</c>/<c>v2</c> when every server sends the PROXY header of that version; mixed servers are reported.</summary>
    private string? SendProxy(CfgSection backend)
    {
        var defaults = backend.Find("default-server").SelectMany(l => l.Words.Skip(1)).ToArray();
        var servers = backend.Lines.Where(l => l.Keyword == "server").ToList();
        var versions = servers.Select(s => defaults.Concat(s.Words.Skip(3)).LastOrDefault(w => w is "send-proxy" or "send-proxy-v2" or "no-send-proxy") switch
        {
            "send-proxy" => ProxyProtocolVersions.V1,
            "send-proxy-v2" => ProxyProtocolVersions.V2,
            _ => null,
        }).Distinct().ToList();
        if (versions.Count > 1)
        {
            Untranslated(servers[0], "servers of this backend differ in send-proxy: a TCP listener sends the same PROXY header (or none) to every target");
            return null;
        }
        return versions.SingleOrDefault();
    }

    /// <summary>HAProxy's bind address as a TCP listener's <c>listen</c>: <c>:5432</c> and <c>*:5432</c> are every interface.</summary>
    private static string? ListenAddress(string text)
    {
        if (text.StartsWith("ipv4@", StringComparison.Ordinal) || text.StartsWith("ipv6@", StringComparison.Ordinal))
        {
            text = text[5..];
        }
        var colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            return null;
        }
        var host = text[..colon];
        var port = text[(colon + 1)..];
        var listen = host is "" or "*" ? $"*:{port}"
            : host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]:{port}"
            : $"{host}:{port}";
        return TcpListenAddress.TryParse(listen, out _, out _, out _) ? listen : null;
    }
}
