using System.Globalization;
using Lb.Core.Spec;

namespace Lb.Server.Import;

internal sealed partial class HaproxyImporter
{
    /// <summary>A backend as Lb sees it: its pool and what every route to it uses.</summary>
    private sealed record BackendTranslation(UpstreamPoolSpec Pool, string Algorithm, string? HashKey, StickyCookieSpec? StickyCookie);

    private sealed record ServerLine(CfgLine Line, string Address, int Weight, bool Check, TimeSpan Inter, int Rise, int Fall, string? State, TimeSpan? SlowStart, int? MaxConn);

    private static readonly TimeSpan DefaultInter = TimeSpan.FromSeconds(2);

    private BackendTranslation? TranslateBackend(CfgSection section)
    {
        var tcp = Mode(section) is not null;
        var defaults = section.Find("default-server").SelectMany(l => l.Words.Skip(1)).ToArray();
        var servers = new List<ServerLine>();
        foreach (var line in section.Lines.Where(l => l.Keyword == "server"))
        {
            if (ParseServer(line, defaults) is { } server)
            {
                servers.Add(server);
            }
        }
        if (servers.Count == 0)
        {
            return null;
        }

        var upstreams = new List<UpstreamSpec>();
        foreach (var group in servers.GroupBy(s => s.Address, StringComparer.OrdinalIgnoreCase))
        {
            var weight = group.Sum(s => s.Weight);
            if (group.Count() > 1)
            {
                Note(group.Last().Line, $"'{group.Key}' is listed {group.Count()} times; Lb lists a target once, with the summed weight {weight}");
            }
            upstreams.Add(new UpstreamSpec(group.First().Address, Math.Clamp(weight, 1, 1000)) { State = group.First().State, MaxConnections = group.First().MaxConn });
        }

        var pool = new UpstreamPoolSpec
        {
            Upstreams = upstreams,
            HealthCheck = HealthCheck(section, servers),
            ConnectTimeout = Timeout(section, "connect"),
            // In TCP mode timeout server bounds silence on the connection: the listener's idle_timeout (HaproxyImporter.Tcp).
            ResponseTimeout = tcp ? null : Timeout(section, "server"),
            SlowStart = SlowStart(servers),
        };
        if (section.Last("timeout", "queue") is { } queueLine)
        {
            if (upstreams.Any(u => u.MaxConnections is not null))
            {
                pool = pool with { QueueTimeout = Timeout(section, "queue") };
            }
            else
            {
                Note(queueLine, "timeout queue is not translated: no server of this backend has a maxconn, so nothing ever queues");
            }
        }
        var (algorithm, hashKey, sticky) = Balance(section);
        return new BackendTranslation(pool, algorithm, hashKey, sticky);
    }

    private ServerLine? ParseServer(CfgLine line, string[] defaults)
    {
        if (line.Words.Count < 3)
        {
            Untranslated(line, "server needs a name and an address");
            return null;
        }
        var address = ServerAddress(line.Arg(2));
        if (address is null)
        {
            Untranslated(line, $"server address '{line.Arg(2)}' is not translated: Lb needs host:port (no port ranges, offsets or sockets)");
            return null;
        }
        var weight = 1;
        string? state = null;
        TimeSpan? slowStart = null;
        int? maxConn = null;
        var check = false;
        var inter = DefaultInter;
        var rise = HealthCheckSpec.DefaultRise;
        var fall = HealthCheckSpec.DefaultFall;
        var words = defaults.Concat(line.Words.Skip(3)).ToArray();
        for (var i = 0; i < words.Length; i++)
        {
            var word = words[i];
            var value = i + 1 < words.Length ? words[i + 1] : "";
            switch (word)
            {
                case "check":
                    check = true;
                    break;
                case "no-check":
                    check = false;
                    break;
                case "enabled" or "id" or "proto" or "ws" or "pool-max-conn" or "pool-purge-delay" or "pool-low-conn":
                    i += word == "enabled" ? 0 : 1;
                    break;
                case "weight":
                    i++;
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out weight) || weight > 256)
                    {
                        Untranslated(line, $"weight '{value}' is not a number between 0 and 256");
                        weight = 1;
                    }
                    else if (weight == 0)
                    {
                        Note(line, "weight 0 → state drain: no new traffic, persistent (sticky) clients stay");
                        state ??= TargetStates.Drain;
                    }
                    break;
                case "inter" or "fastinter" or "downinter":
                    i++;
                    if (!HaproxyDurations.TryParse(value, out var interval))
                    {
                        Untranslated(line, $"{word} '{value}' is not a time value");
                    }
                    else if (word == "inter")
                    {
                        inter = interval;
                    }
                    else
                    {
                        Note(line, $"{word} is not translated: Lb probes every interval whatever the state");
                    }
                    break;
                case "rise" or "fall":
                    i++;
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > 100)
                    {
                        Untranslated(line, $"{word} '{value}' is not a number between 1 and 100");
                    }
                    else if (word == "rise")
                    {
                        rise = count;
                    }
                    else
                    {
                        fall = count;
                    }
                    break;
                case "cookie":
                    i++;
                    Note(line, $"cookie value '{value}' is not kept: Lb derives each target's sticky value itself");
                    break;
                case "resolvers" or "resolve-prefer" or "init-addr" or "resolve-opts":
                    i++;
                    Note(line, $"{word} is not translated: Lb resolves target names with the system resolver");
                    break;
                case "observe" or "error-limit" or "on-error" or "on-marked-down" or "on-marked-up":
                    i++;
                    Note(line, $"{word} is not translated: Lb's passive_health ejects targets that keep failing live traffic");
                    break;
                case "maxconn":
                    i++;
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit > 1_000_000)
                    {
                        Untranslated(line, $"maxconn '{value}' is not a number between 0 and 1000000");
                    }
                    else
                    {
                        maxConn = limit == 0 ? null : limit; // HAProxy's 0 means no limit
                    }
                    break;
                case "maxqueue":
                    i++;
                    Untranslated(line, $"maxqueue {value} is not translated: HAProxy bounds a queue per server, Lb one queue per pool (queue_size, default 1000)");
                    break;
                case "minconn":
                    i++;
                    Untranslated(line, $"minconn {value} is not translated: Lb's limits are static (max_connections from maxconn); there is no fullconn ramp");
                    break;
                case "slowstart":
                    i++;
                    if (HaproxyDurations.TryParse(value, out var ramp))
                    {
                        slowStart = ramp;
                    }
                    else
                    {
                        Untranslated(line, $"slowstart '{value}' is not a time value");
                    }
                    break;
                case "send-proxy" or "send-proxy-v2" or "no-send-proxy":
                    // Read for the whole backend by SendProxy (a TCP listener's send_proxy).
                    break;
                case "backup":
                    Untranslated(line, "backup servers are not translated: Lb has no backup targets");
                    break;
                case "disabled":
                    state = TargetStates.Maint;
                    break;
                default:
                    Untranslated(line, $"server keyword '{word}' is not translated");
                    break;
            }
        }
        return new ServerLine(line, address, weight, check, inter, rise, fall, state, slowStart, maxConn);
    }

    /// <summary><c>host:port</c>, <c>ip:port</c>, <c>[v6]:port</c> or HAProxy's bare <c>v6:port</c>; null for anything else.</summary>
    private static string? ServerAddress(string text)
    {
        if (text.StartsWith("ipv4@", StringComparison.Ordinal) || text.StartsWith("ipv6@", StringComparison.Ordinal))
        {
            text = text[5..];
        }
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return null;
        }
        var host = text[..colon];
        if (host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('['))
        {
            host = $"[{host}]";
        }
        return host.Contains('@', StringComparison.Ordinal) || host.Contains('/', StringComparison.Ordinal) ? null : $"{host}:{port}";
    }

    private HealthCheckSpec? HealthCheck(CfgSection section, List<ServerLine> servers)
    {
        var checkedServers = servers.Where(s => s.Check).ToList();
        if (checkedServers.Count == 0)
        {
            return null;
        }
        if (servers.FirstOrDefault(s => !s.Check) is { } withoutCheck)
        {
            Untranslated(withoutCheck.Line, "this server has no 'check' but others in the backend do: Lb checks every target of a pool or none");
        }
        var first = checkedServers[0];
        foreach (var s in checkedServers.Where(s => s.Inter != first.Inter || s.Rise != first.Rise || s.Fall != first.Fall).Take(1))
        {
            Untranslated(s.Line, $"inter/rise/fall differ from line {first.Line.Number}: Lb checks a pool with one interval, rise and fall");
        }

        var timeout = (section.Last("timeout", "check") ?? section.Last("timeout", "connect")) is { } t && HaproxyDurations.TryParse(t.Arg(2), out var parsed)
            ? TimeSpanMin(parsed, first.Inter)
            : first.Inter;
        if (timeout >= first.Inter)
        {
            timeout = first.Inter / 2;
            Note(first.Line, $"the probe timeout is {Lb.Core.Spec.GoDuration.Format(timeout)}: Lb needs it shorter than the interval");
        }
        var spec = new HealthCheckSpec
        {
            Interval = Lb.Core.Spec.GoDuration.Format(first.Inter),
            Timeout = Lb.Core.Spec.GoDuration.Format(timeout),
            Rise = first.Rise == HealthCheckSpec.DefaultRise ? null : first.Rise,
            Fall = first.Fall == HealthCheckSpec.DefaultFall ? null : first.Fall,
        };

        var httpchk = section.Last("option", "httpchk");
        if (httpchk is null)
        {
            return spec with { Type = HealthCheckTypes.Tcp };
        }
        var args = httpchk.Words.Skip(2).ToArray();
        var (method, path) = args.Length switch
        {
            0 => ("OPTIONS", "/"),
            1 => ("OPTIONS", args[0]),
            _ => (args[0], args[1]),
        };
        if (section.Find("http-check", "send").LastOrDefault() is { } send)
        {
            for (var i = 2; i + 1 < send.Words.Count; i++)
            {
                if (send.Words[i] == "meth")
                {
                    method = send.Words[i + 1];
                }
                if (send.Words[i] == "uri")
                {
                    path = send.Words[i + 1];
                }
            }
        }
        if (!string.Equals(method, "GET", StringComparison.OrdinalIgnoreCase))
        {
            Note(httpchk, $"the check method {method} becomes GET: Lb probes with GET");
        }
        if (args.Length > 2 && args[2].Contains('\n', StringComparison.Ordinal))
        {
            Note(httpchk, "check request headers are not translated: Lb sends the target address as Host");
        }

        var status = 200;
        var expect = section.Last("http-check", "expect");
        if (expect is null)
        {
            Note(httpchk, "no 'http-check expect': HAProxy accepts any 2xx or 3xx, Lb expects exactly 200");
        }
        else if (expect.Arg(2) == "status" && int.TryParse(expect.Arg(3), NumberStyles.None, CultureInfo.InvariantCulture, out var code) && expect.Words.Count == 4)
        {
            status = code;
        }
        else
        {
            Untranslated(expect, "only 'http-check expect status <code>' is translated: Lb expects one exact status");
        }
        foreach (var other in section.Find("http-check").Where(l => l.Arg(1) is not ("expect" or "send")))
        {
            Note(other, $"http-check {other.Arg(1)} is not translated");
        }
        return spec with { Path = path, ExpectStatus = status };
    }

    private static TimeSpan TimeSpanMin(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Lb's slow start is per pool: the servers' common value, or reported when they differ.</summary>
    private string? SlowStart(List<ServerLine> servers)
    {
        var first = servers[0].SlowStart;
        if (servers.FirstOrDefault(s => s.SlowStart != first) is { } differing)
        {
            Untranslated(differing.Line, $"slowstart differs from line {servers[0].Line.Number}: Lb's slow_start is one per pool");
        }
        return first is { } t ? Lb.Core.Spec.GoDuration.Format(t) : null;
    }

    private string? Timeout(CfgSection section, string which)
    {
        var line = section.Last("timeout", which);
        if (line is null && which is "connect" or "server" && section.Last(which == "connect" ? "contimeout" : "srvtimeout") is { } legacy)
        {
            line = new CfgLine(legacy.Number, ["timeout", which, legacy.Arg(1)]);
        }
        if (line is null)
        {
            return null;
        }
        if (!HaproxyDurations.TryParse(line.Arg(2), out var value))
        {
            Untranslated(line, $"timeout {which} '{line.Arg(2)}' is not a time value");
            return null;
        }
        return Lb.Core.Spec.GoDuration.Format(value);
    }

    private (string Algorithm, string? HashKey, StickyCookieSpec? Sticky) Balance(CfgSection section)
    {
        var algorithm = Algorithms.RoundRobin;
        string? hashKey = null;
        if (section.Last("balance") is { } balance)
        {
            var name = balance.Arg(1);
            var options = balance.Words.Skip(2).ToArray();
            switch (name)
            {
                case "roundrobin":
                    break;
                case "static-rr":
                    Note(balance, "static-rr → round_robin (weights in Lb change only with the configuration anyway)");
                    break;
                case "leastconn":
                    algorithm = Algorithms.LeastConnection;
                    break;
                case "source":
                    algorithm = Algorithms.Source;
                    break;
                case "uri":
                    algorithm = Algorithms.Uri;
                    break;
                case "url_param" when options.Length > 0:
                    algorithm = Algorithms.UrlParam;
                    hashKey = options[0];
                    options = options[1..];
                    break;
                case var hdr when hdr.StartsWith("hdr(", StringComparison.Ordinal) && hdr.EndsWith(')') && hdr.Length > 5:
                    algorithm = Algorithms.Header;
                    hashKey = hdr[4..^1];
                    break;
                case "random" or "random(2)":
                    algorithm = Algorithms.Random;
                    break;
                case var random when random.StartsWith("random(", StringComparison.Ordinal):
                    algorithm = Algorithms.Random;
                    Note(balance, $"{random} → random with two choices (Lb always draws two)");
                    break;
                default:
                    Untranslated(balance, $"balance {name} is not translated: Lb has no such algorithm");
                    break;
            }
            if (options.Length > 0)
            {
                Untranslated(balance, $"balance options '{string.Join(' ', options)}' are not translated: Lb hashes the {(algorithm == Algorithms.Uri ? "path" : "whole key")} as it is");
            }
        }
        if (section.Last("cookie") is not { } cookie)
        {
            return (algorithm, hashKey, null);
        }
        foreach (var earlier in section.Find("cookie").Where(l => l != cookie))
        {
            Note(earlier, $"overridden by the cookie line {cookie.Number}: a backend has one persistence cookie");
        }
        var words = cookie.Words.Skip(2).ToList();
        var mode = words.FirstOrDefault(w => w is "insert" or "prefix" or "rewrite");
        if (mode is null)
        {
            Untranslated(cookie, $"cookie {cookie.Arg(1)} without insert, prefix or rewrite (the server sets it, HAProxy only reads it) is not translated");
            return (algorithm, hashKey, null);
        }
        if (algorithm != Algorithms.RoundRobin)
        {
            Note(cookie, $"cookie persistence → sticky_cookie, whose first pick is round robin, not {BalanceName(section)}");
        }
        var secure = false;
        var httpOnly = false;
        foreach (var word in words.Where(w => w != mode))
        {
            switch (word)
            {
                case "secure":
                    secure = true;
                    break;
                case "httponly":
                    httpOnly = true;
                    break;
                case "indirect":
                    Note(cookie, "cookie option 'indirect': Lb's inserted cookie is set only when a client is (re)pinned anyway");
                    break;
                default:
                    Note(cookie, $"cookie option '{word}' is not translated");
                    break;
            }
        }
        if (mode == "insert" && !httpOnly)
        {
            Note(cookie, "Lb marks its inserted cookie HttpOnly (HAProxy only with 'httponly')");
        }
        var sticky = new StickyCookieSpec
        {
            Mode = mode == "insert" ? null : mode,
            Name = cookie.Arg(1),
            Secure = secure,
            HttpOnly = mode != "insert" && httpOnly ? true : null,
        };
        return (Algorithms.StickyCookie, null, sticky);

        static string BalanceName(CfgSection s) => s.Last("balance")?.Arg(1) ?? "roundrobin";
    }

    /// <summary>The <c>mode tcp</c> line that applies to <paramref name="section"/>, or its header when no mode is set
    /// anywhere (HAProxy's default is TCP); null in HTTP mode.</summary>
    private static CfgLine? Mode(CfgSection section) => section.Last("mode") switch
    {
        null => section.Header,
        { } m when m.Arg(1) == "http" => null,
        { } m => m,
    };
}
