using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.Core.Validation;

/// <summary>
/// Checks a proxy configuration and returns every problem at once, each with a field path, a code, the
/// reference's message (where it has one) and a hint. Never throws on any input.
/// </summary>
public static class DesiredStateValidator
{
    private const string RouteIdChars = "letters, digits and . _ - ~ : / @ or space";

    /// <summary>
    /// Validates a whole desired state: the proxy configuration, then the VIP policy (<c>vip.*</c>) and the Raft
    /// timing (<c>raft_timing.*</c>, merged with <paramref name="raftDefaults"/>).
    /// </summary>
    public static ValidationResult Validate(DesiredState state, DesiredStateLimits? limits = null, RaftTimingDefaults? raftDefaults = null, IAlgorithmRules? algorithms = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        var config = Validate(state.Config, limits, algorithms);
        var vip = state.Vip is { } v ? ClusterPolicyValidator.ValidateVip(v) : ValidationResult.Valid;
        var timing = state.RaftTiming is { } t ? ClusterPolicyValidator.ValidateRaftTiming(t, raftDefaults) : ValidationResult.Valid;
        ValidationError[] secret = state.StickySecret is null || Node.StickySecretFile.TryDecode(state.StickySecret, out _) ? []
            : [new ValidationError("sticky_secret", ValidationCodes.InvalidStickySecret, "sticky_secret must be base64 of at least 16 bytes", "leave it to the cluster bootstrap, which creates it")];
        if (vip.IsValid && timing.IsValid && secret.Length == 0)
        {
            return config;
        }
        return new ValidationResult([.. config.Errors, .. vip.Errors, .. timing.Errors, .. secret]);
    }

    /// <summary>
    /// Validates <paramref name="config"/> against the schema and <paramref name="limits"/>; route algorithms and
    /// their own settings against <paramref name="algorithms"/> (the registered balancing policies; the contract's
    /// four names when null).
    /// </summary>
    public static ValidationResult Validate(ProxyConfig? config, DesiredStateLimits? limits = null, IAlgorithmRules? algorithms = null)
    {
        algorithms ??= ContractAlgorithms.Instance;
        var errors = new ErrorList((limits ?? DesiredStateLimits.Default).MaxErrors);
        var l = limits ?? DesiredStateLimits.Default;
        var c = DesiredStateJson.Normalize(config);

        if (c.UpstreamPools.Count > l.MaxPools)
        {
            errors.Add("upstream_pools", ValidationCodes.TooMany, $"at most {l.MaxPools} upstream pools are allowed", "merge pools or raise the limit on the node");
        }
        else
        {
            foreach (var (id, pool) in c.UpstreamPools)
            {
                ValidatePool(id, pool, l, errors);
            }
        }

        if (c.Routes.Count > l.MaxRoutes)
        {
            errors.Add("routes", ValidationCodes.TooMany, $"at most {l.MaxRoutes} routes are allowed", "remove routes or raise the limit on the node");
        }
        else
        {
            var seenIds = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < c.Routes.Count; i++)
            {
                ValidateRoute(i, c.Routes[i], c, l, seenIds, algorithms, errors);
            }
        }

        ValidateTcpListeners(c, l, errors);
        return errors.ToResult();
    }

    /// <summary>Every TCP listener of <paramref name="config"/>: the count, then each one (ids and bound addresses unique).</summary>
    private static void ValidateTcpListeners(ProxyConfig config, DesiredStateLimits l, ErrorList errors)
    {
        var listeners = config.TcpListeners ?? [];
        if (listeners.Count > l.MaxRoutes)
        {
            errors.Add("tcp_listeners", ValidationCodes.TooMany, $"at most {l.MaxRoutes} tcp listeners are allowed", "remove listeners or raise the route limit on the node");
            return;
        }
        var seenIds = new HashSet<string>(StringComparer.Ordinal);
        var bound = new List<(string Host, int Port, int Index)>();
        for (var i = 0; i < listeners.Count; i++)
        {
            ValidateTcpListener(i, listeners[i], config, l, seenIds, bound, errors);
        }
    }

    /// <summary>
    /// Validates <paramref name="next"/> = <paramref name="change"/> applied to <paramref name="previous"/>, where
    /// <paramref name="previous"/> passed <see cref="Validate(ProxyConfig?, DesiredStateLimits?, IAlgorithmRules?)"/>:
    /// only the changed routes and pools, the references to removed pools, the limits and (when the change touches
    /// them) the TCP listeners are checked, so a one-route edit of a large configuration costs one route. Accepts
    /// exactly what validating the whole of <paramref name="next"/> would; field paths index <paramref name="next"/>.
    /// </summary>
    public static ValidationResult ValidateChange(ProxyConfig previous, ProxyConfig next, ConfigChange change, DesiredStateLimits? limits = null, IAlgorithmRules? algorithms = null)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(change);
        algorithms ??= ContractAlgorithms.Instance;
        var l = limits ?? DesiredStateLimits.Default;
        var errors = new ErrorList(l.MaxErrors);

        if (next.UpstreamPools.Count > l.MaxPools)
        {
            errors.Add("upstream_pools", ValidationCodes.TooMany, $"at most {l.MaxPools} upstream pools are allowed", "merge pools or raise the limit on the node");
        }
        else
        {
            foreach (var id in change.UpsertPools.Keys)
            {
                if (next.UpstreamPools.TryGetValue(id ?? "", out var pool))
                {
                    ValidatePool(id ?? "", pool, l, errors);
                }
            }
        }

        if (next.Routes.Count > l.MaxRoutes)
        {
            errors.Add("routes", ValidationCodes.TooMany, $"at most {l.MaxRoutes} routes are allowed", "remove routes or raise the limit on the node");
        }
        else
        {
            var changed = ChangedRouteIndexes(next.Routes, change.UpsertRoutes);
            var seenIds = new HashSet<string>(StringComparer.Ordinal);
            foreach (var i in changed)
            {
                ValidateRoute(i, next.Routes[i], next, l, seenIds, algorithms, errors);
            }
            if (change.RemovePools.Count > 0)
            {
                // A removed pool may still be named by a route the change did not touch.
                var removed = new HashSet<string>(change.RemovePools.Where(id => id is not null && !next.UpstreamPools.ContainsKey(id)), StringComparer.Ordinal);
                for (var i = 0; removed.Count > 0 && i < next.Routes.Count; i++)
                {
                    if (removed.Contains(next.Routes[i].UpstreamPool) && !changed.Contains(i))
                    {
                        errors.Add($"routes[{i}].upstream_pool", ValidationCodes.UnknownUpstreamPool, "referenced upstream_pool does not exist",
                            $"the change removes pool '{Clip(next.Routes[i].UpstreamPool)}' that this route uses: point the route at another pool or remove it too");
                    }
                }
            }
        }

        if (change.TcpListeners is not null || change.RemovePools.Count > 0)
        {
            ValidateTcpListeners(next, l, errors);
        }
        return errors.ToResult();
    }

    /// <summary>Positions in <paramref name="routes"/> of the ids <paramref name="upserts"/> names, ascending.</summary>
    private static SortedSet<int> ChangedRouteIndexes(IReadOnlyList<RouteSpec> routes, IReadOnlyList<RouteSpec> upserts)
    {
        var result = new SortedSet<int>();
        if (upserts.Count == 0)
        {
            return result;
        }
        if (upserts.Count <= 8)
        {
            // A few ids: compare them with every route's (no hashing of a large configuration's ids).
            foreach (var upsert in upserts)
            {
                var id = upsert?.Id ?? "";
                for (var i = 0; i < routes.Count; i++)
                {
                    if (string.Equals(routes[i].Id, id, StringComparison.Ordinal))
                    {
                        result.Add(i);
                    }
                }
            }
            return result;
        }
        var ids = new HashSet<string>(upserts.Select(r => r?.Id ?? ""), StringComparer.Ordinal);
        for (var i = 0; i < routes.Count; i++)
        {
            if (ids.Contains(routes[i].Id))
            {
                result.Add(i);
            }
        }
        return result;
    }

    private static void ValidatePool(string id, UpstreamPoolSpec pool, DesiredStateLimits l, ErrorList errors)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            errors.Add("upstream_pools", ValidationCodes.PoolIdEmpty, "pool id must not be empty", "give every pool a non-empty key in upstream_pools");
            return;
        }
        var at = $"upstream_pools.{id}";
        if (!IsValidId(id, l))
        {
            errors.Add("upstream_pools", ValidationCodes.InvalidPoolId, $"pool id '{Clip(id)}' has characters that are not allowed or is too long", $"use {RouteIdChars}, at most {l.MaxStringLength} characters");
        }

        if (pool.Upstreams.Count == 0)
        {
            errors.Add($"{at}.upstreams", ValidationCodes.UpstreamsEmpty, "upstreams must contain at least one entry", "add a \"host:port\" target");
        }
        else if (pool.Upstreams.Count > l.MaxUpstreamsPerPool)
        {
            errors.Add($"{at}.upstreams", ValidationCodes.TooMany, $"at most {l.MaxUpstreamsPerPool} upstreams are allowed in one pool", "split the pool");
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var j = 0; j < pool.Upstreams.Count; j++)
            {
                ValidateUpstream($"{at}.upstreams[{j}]", pool.Upstreams[j], l, seen, errors);
            }
        }

        if (pool.HealthCheck is { } hc)
        {
            var h = $"{at}.health_check";
            if (hc.Type is { } type && type is not (HealthCheckTypes.Http or HealthCheckTypes.Tcp))
            {
                errors.Add($"{h}.type", ValidationCodes.InvalidHealthCheckType, "health_check.type must be one of: http, tcp", "omit it for an HTTP check, or use \"tcp\" for a connect check");
            }
            if (hc.IsTcp)
            {
                if (hc.Path.Length > 0)
                {
                    errors.Add($"{h}.path", ValidationCodes.InvalidHealthPath, "a tcp health check has no path", "remove path, or use type \"http\"");
                }
                if (hc.ExpectStatus != 0)
                {
                    errors.Add($"{h}.expect_status", ValidationCodes.InvalidExpectStatus, "a tcp health check has no expect_status", "remove expect_status, or use type \"http\"");
                }
            }
            else if (!hc.Path.StartsWith('/'))
            {
                errors.Add($"{h}.path", ValidationCodes.InvalidHealthPath, "health_check.path must start with '/'", "use a path such as \"/health\"");
            }
            else if (hc.Path.StartsWith("//", StringComparison.Ordinal) || hc.Path.Contains('\\', StringComparison.Ordinal))
            {
                // "//host/x" is a network-path reference: probes would go to that host instead of the targets.
                errors.Add($"{h}.path", ValidationCodes.InvalidHealthPath, "health_check.path must be a path on the target (one leading '/'), not '//host/...' or a path with '\\'",
                    "use a path such as \"/health\"; probes always go to each target's own address");
            }
            else if (hc.Path.Length > l.MaxStringLength || hc.Path.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)) || hc.Path.Contains('#', StringComparison.Ordinal))
            {
                errors.Add($"{h}.path", ValidationCodes.InvalidHealthPath, "health_check.path must be a URL path (and query) without whitespace, control characters or '#'", "percent-encode special characters");
            }
            var interval = PositiveDuration($"{h}.interval", hc.Interval, errors, required: true);
            var timeout = PositiveDuration($"{h}.timeout", hc.Timeout, errors, required: true);
            if (interval is { } iv && timeout is { } to && to >= iv)
            {
                errors.Add($"{h}.timeout", ValidationCodes.TimeoutNotBelowInterval, "timeout must be shorter than interval", $"use a timeout below {hc.Interval}, or a longer interval");
            }
            if (!hc.IsTcp && hc.ExpectStatus is < 100 or > 599)
            {
                errors.Add($"{h}.expect_status", ValidationCodes.InvalidExpectStatus, "expect_status must be between 100 and 599", "use the status a healthy target answers with, e.g. 200");
            }
            if (hc.Rise is { } rise && rise is < 1 or > 100)
            {
                errors.Add($"{h}.rise", ValidationCodes.InvalidThreshold, "rise must be between 1 and 100", $"omit it for the default {HealthCheckSpec.DefaultRise}");
            }
            if (hc.Fall is { } fall && fall is < 1 or > 100)
            {
                errors.Add($"{h}.fall", ValidationCodes.InvalidThreshold, "fall must be between 1 and 100", $"omit it for the default {HealthCheckSpec.DefaultFall}");
            }
        }

        if (pool.PassiveHealth is { } ph)
        {
            var p = $"{at}.passive_health";
            if (ph.ConsecutiveFailures is { } n && n is < 0 or > 1000)
            {
                errors.Add($"{p}.consecutive_failures", ValidationCodes.InvalidThreshold, "consecutive_failures must be between 0 and 1000", "use 0 to turn passive health off");
            }
            PositiveDuration($"{p}.ejection_time", ph.EjectionTime, errors, required: false);
        }
        PositiveDuration($"{at}.connect_timeout", pool.ConnectTimeout, errors, required: false);
        PositiveDuration($"{at}.response_timeout", pool.ResponseTimeout, errors, required: false);
        PositiveDuration($"{at}.slow_start", pool.SlowStart, errors, required: false);
        if (pool.MaxConnections is { } max && max is < 1 or > MaxConnectionLimit)
        {
            errors.Add($"{at}.max_connections", ValidationCodes.InvalidLimit, $"max_connections must be between 1 and {MaxConnectionLimit}", "omit it for no limit");
        }
        if (pool.QueueSize is { } queue && queue is < 0 or > MaxQueueSize)
        {
            errors.Add($"{at}.queue_size", ValidationCodes.InvalidLimit, $"queue_size must be between 0 and {MaxQueueSize}", "use 0 to answer 503 at once when every target is at its limit");
        }
        PositiveDuration($"{at}.queue_timeout", pool.QueueTimeout, errors, required: false);
        if ((pool.QueueSize is not null || pool.QueueTimeout is not null) && !pool.HasConnectionLimits)
        {
            errors.Add(pool.QueueSize is not null ? $"{at}.queue_size" : $"{at}.queue_timeout", ValidationCodes.InvalidLimit,
                "a queue needs a connection limit: without max_connections no request ever waits", "set max_connections on the pool or on its upstreams, or remove the queue settings");
        }
    }

    /// <summary>Largest accepted <c>max_connections</c>.</summary>
    private const int MaxConnectionLimit = 1_000_000;

    /// <summary>Largest accepted <c>queue_size</c>.</summary>
    private const int MaxQueueSize = 1_000_000;

    private static void ValidateUpstream(string at, UpstreamSpec upstream, DesiredStateLimits l, HashSet<string> seen, ErrorList errors)
    {
        var address = upstream.Address;
        if (string.IsNullOrWhiteSpace(address))
        {
            errors.Add(at, ValidationCodes.UpstreamEmpty, "upstream must not be empty", "write the target as \"host:port\"");
            return;
        }
        if (address.Length > l.MaxStringLength)
        {
            errors.Add(at, ValidationCodes.TooLong, $"upstream is longer than {l.MaxStringLength} characters", "use a shorter host name");
            return;
        }
        if (!HostPort.TrySplit(address, out var host, out var port) || host.Length == 0 || port.Length == 0)
        {
            errors.Add(at, ValidationCodes.InvalidUpstream, "upstream must be in host:port or [ipv6]:port form", "for example \"10.0.0.5:8080\" or \"[fd00::5]:8080\"");
            return;
        }
        if (!HostPort.TryParsePort(port, out _))
        {
            errors.Add(at, ValidationCodes.InvalidPort, "port must be a number between 1 and 65535", $"replace '{Clip(port)}' with a TCP port number");
        }
        if (!HostNames.IsValidTargetHost(host))
        {
            errors.Add(at, ValidationCodes.InvalidUpstreamHost, "upstream host must be a DNS name or an IP address", "IPv6 addresses go in brackets: \"[fd00::5]:8080\"");
        }
        if (upstream.Weight is < 1 or > 1000)
        {
            errors.Add(at, ValidationCodes.InvalidWeight, "weight must be between 1 and 1000", "omit weight for the default 1");
        }
        if (upstream.State is { } state && state is not (TargetStates.Ready or TargetStates.Drain or TargetStates.Maint))
        {
            var meant = TargetStates.Suggest(state);
            errors.Add($"{at}.state", ValidationCodes.InvalidTargetState, "state must be one of: ready, drain, maint",
                meant is not null ? $"did you mean '{meant}'?" : "omit it for ready; drain lets in-flight and sticky clients finish, maint takes the target out");
        }
        if (upstream.MaxConnections is { } max && max is < 1 or > MaxConnectionLimit)
        {
            errors.Add($"{at}.max_connections", ValidationCodes.InvalidLimit, $"max_connections must be between 1 and {MaxConnectionLimit}", "omit it to use the pool's max_connections (or no limit)");
        }
        if (!seen.Add(address))
        {
            errors.Add(at, ValidationCodes.DuplicateUpstream, "duplicate upstream in this pool", "list each target once; give it a higher weight to send it more traffic");
        }
    }

    private static void ValidateRoute(int i, RouteSpec route, ProxyConfig c, DesiredStateLimits l, HashSet<string> seenIds, IAlgorithmRules algorithms, ErrorList errors)
    {
        var at = $"routes[{i}]";
        if (string.IsNullOrWhiteSpace(route.Id))
        {
            errors.Add($"{at}.id", ValidationCodes.RouteIdEmpty, "route id must not be empty", "give the route a unique id such as \"shop-api\"");
        }
        else
        {
            if (!IsValidId(route.Id, l))
            {
                errors.Add($"{at}.id", ValidationCodes.InvalidRouteId, "route id has characters that are not allowed or is too long", $"use {RouteIdChars}, at most {l.MaxStringLength} characters");
            }
            if (!seenIds.Add(route.Id))
            {
                errors.Add($"{at}.id", ValidationCodes.DuplicateRouteId, "duplicate route id", "route ids must be unique; rename one of them");
            }
        }

        var hosts = route.Match.Hosts;
        if (hosts.Count > l.MaxHostsPerRoute)
        {
            errors.Add($"{at}.match.hosts", ValidationCodes.TooMany, $"at most {l.MaxHostsPerRoute} hosts are allowed on one route", "use a wildcard host such as *.example.com");
        }
        else
        {
            var seenHosts = new HashSet<string>(StringComparer.Ordinal);
            for (var k = 0; k < hosts.Count; k++)
            {
                ValidateHost($"{at}.match.hosts[{k}]", hosts[k], l, seenHosts, errors);
            }
        }

        if (route.Match.Path is { } path)
        {
            ValidatePath($"{at}.match.path", path, l, errors);
        }

        var algorithmKnown = algorithms.IsKnown(route.EffectiveAlgorithm);
        if (!algorithmKnown)
        {
            errors.Add($"{at}.algorithm", ValidationCodes.UnknownAlgorithm, "algorithm must be one of: " + string.Join(", ", algorithms.Names), AlgorithmHint(route.EffectiveAlgorithm, algorithms.Names));
        }

        if (string.IsNullOrWhiteSpace(route.UpstreamPool))
        {
            errors.Add($"{at}.upstream_pool", ValidationCodes.UpstreamPoolEmpty, "upstream_pool must not be empty", "name a key of upstream_pools");
        }
        else if (!c.UpstreamPools.ContainsKey(route.UpstreamPool))
        {
            errors.Add($"{at}.upstream_pool", ValidationCodes.UnknownUpstreamPool, "referenced upstream_pool does not exist", $"add a pool '{Clip(route.UpstreamPool)}' to upstream_pools or fix the name");
        }

        if (algorithmKnown)
        {
            // The algorithm's own settings (sticky_cookie's cookie options, a custom policy's needs) are its policy's to judge.
            var own = new List<ValidationError>();
            algorithms.ValidateRoute(route, at, own);
            foreach (var e in own)
            {
                errors.Add(e.Field, e.Code, e.Message, e.Hint);
            }
        }

        PositiveDuration($"{at}.connect_timeout", route.ConnectTimeout, errors, required: false);
        PositiveDuration($"{at}.server_timeout", route.ServerTimeout, errors, required: false);
        PositiveDuration($"{at}.client_timeout", route.ClientTimeout, errors, required: false);
        if (route.MaxRequestBodySize is { } body && body < 0)
        {
            errors.Add($"{at}.max_request_body_size", ValidationCodes.InvalidLimit, "max_request_body_size must be 0 or more bytes", "use 0 to refuse every request body, or omit it for the listener's limit");
        }
        if (route.MaxRequestHeaderCount is { } count && count is < 1 or > 10_000)
        {
            errors.Add($"{at}.max_request_header_count", ValidationCodes.InvalidLimit, "max_request_header_count must be between 1 and 10000", "omit it for the listener's limit (100)");
        }
        if (route.MaxRequestHeadersSize is { } size && size is < 1 or > 16 * 1024 * 1024)
        {
            errors.Add($"{at}.max_request_headers_size", ValidationCodes.InvalidLimit, "max_request_headers_size must be between 1 and 16777216 bytes", "omit it for the listener's limit (32 KiB)");
        }
    }

    private static void ValidateTcpListener(int i, TcpListenerSpec listener, ProxyConfig c, DesiredStateLimits l, HashSet<string> seenIds, List<(string Host, int Port, int Index)> bound, ErrorList errors)
    {
        var at = $"tcp_listeners[{i}]";
        if (string.IsNullOrWhiteSpace(listener.Id))
        {
            errors.Add($"{at}.id", ValidationCodes.TcpListenerIdEmpty, "tcp listener id must not be empty", "give the listener a unique id such as \"postgres\"");
        }
        else
        {
            if (!IsValidId(listener.Id, l))
            {
                errors.Add($"{at}.id", ValidationCodes.InvalidTcpListenerId, "tcp listener id has characters that are not allowed or is too long", $"use {RouteIdChars}, at most {l.MaxStringLength} characters");
            }
            if (!seenIds.Add(listener.Id))
            {
                errors.Add($"{at}.id", ValidationCodes.DuplicateTcpListenerId, "duplicate tcp listener id", "tcp listener ids must be unique; rename one of them");
            }
        }

        if (TcpListenAddress.TryParse(listener.Listen, out var host, out var port, out var problem))
        {
            // Port 0 asks the OS for a fresh port, so it never clashes; a wildcard host overlaps every host on its port.
            if (port != 0 && listener.Enabled)
            {
                foreach (var (otherHost, otherPort, otherIndex) in bound)
                {
                    if (otherPort == port && (otherHost == host || otherHost == TcpListenAddress.AnyHost || host == TcpListenAddress.AnyHost))
                    {
                        errors.Add($"{at}.listen", ValidationCodes.DuplicateListenAddress, $"tcp_listeners[{otherIndex}] already listens on port {port}", "give each enabled listener its own port");
                        break;
                    }
                }
                bound.Add((host, port, i));
            }
        }
        else
        {
            errors.Add($"{at}.listen", ValidationCodes.InvalidListenAddress, $"listen {problem}", "write it as \"ip:port\", \"[ipv6]:port\", \"localhost:port\" or \"*:port\", for example \"0.0.0.0:5432\"");
        }

        if (string.IsNullOrWhiteSpace(listener.UpstreamPool))
        {
            errors.Add($"{at}.upstream_pool", ValidationCodes.UpstreamPoolEmpty, "upstream_pool must not be empty", "name a key of upstream_pools");
        }
        else if (!c.UpstreamPools.ContainsKey(listener.UpstreamPool))
        {
            var near = Suggestions.Closest(listener.UpstreamPool, c.UpstreamPools.Keys);
            errors.Add($"{at}.upstream_pool", ValidationCodes.UnknownUpstreamPool, "referenced upstream_pool does not exist",
                near is null ? $"add a pool '{Clip(listener.UpstreamPool)}' to upstream_pools or fix the name" : $"did you mean '{Clip(near)}'?");
        }

        if (!TcpAlgorithms.All.Contains(listener.EffectiveAlgorithm))
        {
            var alias = listener.EffectiveAlgorithm.ToLowerInvariant() switch
            {
                "roundrobin" or "round-robin" or "rr" => TcpAlgorithms.RoundRobin,
                "leastconn" or "least_conn" or "least-conn" or "leastconnection" or "least_connections" => TcpAlgorithms.LeastConnection,
                "5_tuple_hash" or "hash" or "ip_hash" or "source_ip" => TcpAlgorithms.Source,
                _ => Suggestions.Closest(listener.EffectiveAlgorithm, TcpAlgorithms.All),
            };
            errors.Add($"{at}.algorithm", ValidationCodes.UnknownAlgorithm, "tcp listener algorithm must be one of: " + string.Join(", ", TcpAlgorithms.All),
                alias is null ? $"'{Clip(listener.EffectiveAlgorithm)}' is not one of them; omit the field for round_robin" : $"did you mean '{alias}'?");
        }

        PositiveDuration($"{at}.connect_timeout", listener.ConnectTimeout, errors, required: false);
        PositiveDuration($"{at}.idle_timeout", listener.IdleTimeout, errors, required: false);
        if (listener.SendProxy is { } proxy && proxy is not (ProxyProtocolVersions.V1 or ProxyProtocolVersions.V2))
        {
            errors.Add($"{at}.send_proxy", ValidationCodes.InvalidSendProxy, "send_proxy must be \"v1\" or \"v2\"", "omit it to send no PROXY protocol header; HAProxy's send-proxy is v1, send-proxy-v2 is v2");
        }
        if (listener.MaxConnections is { } max && max is < 1 or > 1_000_000)
        {
            errors.Add($"{at}.max_connections", ValidationCodes.InvalidMaxConnections, "max_connections must be between 1 and 1000000", $"omit it for the default {TcpListenerSpec.DefaultMaxConnections}");
        }
    }

    private static void ValidateHost(string at, string host, DesiredStateLimits l, HashSet<string> seen, ErrorList errors)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            errors.Add(at, ValidationCodes.HostEmpty, "host must not be empty", "remove the entry, or leave hosts empty to match every host");
            return;
        }
        if (host.Length > l.MaxStringLength)
        {
            errors.Add(at, ValidationCodes.TooLong, $"host is longer than {l.MaxStringLength} characters", "DNS names have at most 253 characters");
            return;
        }
        if (!host.StartsWith('[') && HostPort.TrySplit(host, out var h, out var p) && h.Length > 0 && p.Length > 0 && !h.Contains(':', StringComparison.Ordinal))
        {
            errors.Add(at, ValidationCodes.HostHasPort, "host must not contain a port", $"use \"{Clip(h)}\": requests match on the host without its port");
            return;
        }
        if (HostNames.CheckRouteHost(host) is { } problem)
        {
            errors.Add(at, ValidationCodes.InvalidHost, $"invalid host: {problem}", "use a name like shop.example.com, a wildcard like *.example.com, or an IP address");
            return;
        }
        if (!seen.Add(HostNames.Normalize(host)))
        {
            errors.Add(at, ValidationCodes.DuplicateHost, "host is listed twice on this route (hosts compare case-insensitively)", "remove the duplicate");
        }
    }

    private static void ValidatePath(string at, PathMatchSpec path, DesiredStateLimits l, ErrorList errors)
    {
        if (string.IsNullOrWhiteSpace(path.Value))
        {
            errors.Add($"{at}.value", ValidationCodes.PathValueEmpty, "path value must not be empty", "set a value, or remove match.path to match every path");
            return;
        }
        var max = path.Type == PathMatchTypes.Regex ? l.MaxRegexLength : l.MaxStringLength;
        if (path.Value.Length > max)
        {
            errors.Add($"{at}.value", ValidationCodes.TooLong, $"path value is longer than {max} characters", "shorten it");
            return;
        }
        switch (path.Type)
        {
            case PathMatchTypes.Exact:
                if (!path.Value.StartsWith('/'))
                {
                    errors.Add($"{at}.value", ValidationCodes.InvalidExactPath, "exact path must start with '/'", $"use \"/{Clip(path.Value)}\"");
                }
                break;
            case PathMatchTypes.Prefix:
                if (!path.Value.StartsWith('/'))
                {
                    errors.Add($"{at}.value", ValidationCodes.InvalidPrefixPath, "prefix path must start with '/'", "prefixes look like \"/api/\"");
                }
                if (path.Value != "/" && !path.Value.EndsWith('/'))
                {
                    errors.Add($"{at}.value", ValidationCodes.InvalidPrefixPath, "prefix path must be '/' or end with '/'", $"use \"{Clip(path.Value)}/\" (it also matches \"{Clip(path.Value)}\" itself)");
                }
                break;
            case PathMatchTypes.Regex:
                if (!PathRegex.TryCreate(path.Value, out _, out var error))
                {
                    errors.Add($"{at}.value", ValidationCodes.InvalidRegex, "invalid regex: " + error, "use RE2 syntax; anchor with ^...$ to match the whole path");
                }
                break;
            default:
                errors.Add($"{at}.type", ValidationCodes.InvalidPathType, "path.type must be one of: exact, prefix, regex", "remove match.path to match every path");
                break;
        }
    }

    private static TimeSpan? PositiveDuration(string at, Duration? given, ErrorList errors, bool required)
    {
        if (given is not { } value)
        {
            if (!required)
            {
                return null;
            }
            value = Duration.Parse(null);
        }
        if (!value.IsValid)
        {
            errors.Add(at, ValidationCodes.InvalidDuration, "invalid duration: " + value.Error, "use a Go duration such as \"500ms\", \"5s\" or \"1m30s\"");
            return null;
        }
        var duration = value.Value;
        if (duration <= TimeSpan.Zero)
        {
            errors.Add(at, ValidationCodes.NonPositiveDuration, "duration must be positive", "use a value above zero, such as \"5s\"");
            return null;
        }
        return duration;
    }

    private static bool IsValidId(string id, DesiredStateLimits l) =>
        id.Length <= Math.Min(l.MaxStringLength, 256)
        && id.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-' or '~' or ':' or '/' or '@' or ' ');

    /// <summary>HAProxy's and nginx's names for the same algorithms, and near-misses, get the Lb name as the hint.</summary>
    private static string AlgorithmHint(string algorithm, IReadOnlyCollection<string> names)
    {
        var alias = algorithm.ToLowerInvariant() switch
        {
            "roundrobin" or "round-robin" or "rr" => Algorithms.RoundRobin,
            "leastconn" or "least_conn" or "least-conn" or "leastconnection" or "least_connections" => Algorithms.LeastConnection,
            "static-rr" or "static_rr" => Algorithms.RoundRobin,
            "source" or "hash" or "ip_hash" => names.Contains(Algorithms.Source) ? Algorithms.Source : Algorithms.FiveTupleHash,
            "cookie" or "sticky" => Algorithms.StickyCookie,
            "urlparam" or "url-param" or "url_param_hash" => Algorithms.UrlParam,
            "uri_hash" or "url" or "url_hash" => Algorithms.Uri,
            "p2c" or "power_of_two" or "random_two" => Algorithms.Random,
            _ when algorithm.StartsWith("hdr(", StringComparison.OrdinalIgnoreCase) || algorithm.StartsWith("header", StringComparison.OrdinalIgnoreCase) => Algorithms.Header,
            _ => Suggestions.Closest(algorithm, names),
        };
        if (alias == Algorithms.Header && names.Contains(alias) && algorithm.StartsWith("hdr(", StringComparison.OrdinalIgnoreCase) && algorithm.EndsWith(')'))
        {
            return $"'{Clip(algorithm)}' is HAProxy's spelling: use \"algorithm\": \"hdr\" with \"hash_key\": \"{Clip(algorithm[4..^1])}\"";
        }
        return alias is not null && names.Contains(alias)
            ? $"'{Clip(algorithm)}' is not an Lb algorithm: did you mean '{alias}'?"
            : $"'{Clip(algorithm)}' is not one of them; omit the field for round_robin";
    }

    private static string Clip(string s) => s.Length <= 64 ? s : s[..64] + "…";

    private sealed class ErrorList(int max)
    {
        private readonly List<ValidationError> _errors = [];
        private int _dropped;

        public bool Full => _errors.Count >= max;

        public void Add(string field, string code, string message, string hint)
        {
            if (Full)
            {
                _dropped++;
                return;
            }
            _errors.Add(new ValidationError(field, code, message, hint));
        }

        public ValidationResult ToResult()
        {
            if (_dropped > 0)
            {
                _errors.Add(new ValidationError("", ValidationCodes.TooMany, $"{_dropped} more errors were not listed", "fix the errors above and validate again"));
            }
            return _errors.Count == 0 ? ValidationResult.Valid : new ValidationResult(_errors);
        }
    }
}
