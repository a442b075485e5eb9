using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Core.Json;

/// <summary>
/// Reads and writes the desired-state documents. Parsing is strict (unknown fields, wrong types, duplicate
/// properties and trailing data are errors with a field path) and the output is canonical: the same state
/// always serialises to the same bytes, so <see cref="ContentHash(ProxyConfig)"/> can compare nodes.
/// </summary>
public static class DesiredStateJson
{
    private static readonly LbJsonContext Compact = CreateContext(indented: false);
    private static readonly LbJsonContext Indented = CreateContext(indented: true);

    /// <summary>The reference's message for a body that does not decode.</summary>
    public const string InvalidBodyMessage = "invalid JSON request body";

    /// <summary>The reference's message for data after the JSON object.</summary>
    public const string TrailingDataMessage = "request body must contain a single JSON object";

    /// <summary>Parses a <c>{routes, upstream_pools}</c> document and normalises it.</summary>
    public static JsonParseResult<ProxyConfig> ParseConfig(ReadOnlySpan<byte> utf8) =>
        Parse(utf8, Compact.ProxyConfig, Normalize);

    /// <summary>
    /// Parses a <c>PUT /api/config</c> body: <c>{routes, upstream_pools}</c>, optionally with the <c>version</c> and
    /// <c>applied_at</c> that <c>GET</c> returned (<c>applied_at</c> is ignored; <c>version</c> is the expected version).
    /// </summary>
    public static JsonParseResult<ConfigDocument> ParseConfigDocument(ReadOnlySpan<byte> utf8)
    {
        var wire = Parse(utf8, Compact.ConfigDocumentWire, w => w ?? new ConfigDocumentWire());
        if (!wire.Succeeded)
        {
            return JsonParseResult<ConfigDocument>.Fail(wire.Message!, wire.Field, wire.Detail!);
        }
        var config = Normalize(new ProxyConfig { Routes = wire.Value!.Routes!, UpstreamPools = wire.Value.UpstreamPools!, TcpListeners = wire.Value.TcpListeners });
        return JsonParseResult<ConfigDocument>.Ok(new ConfigDocument(config, wire.Value.Version));
    }

    /// <summary>
    /// Writes the <c>GET /api/config</c> body: the canonical configuration plus <c>applied_at</c> (RFC 3339) and
    /// <c>version</c>.
    /// </summary>
    public static byte[] SerializeConfigDocument(ProxyConfig config, long version, DateTimeOffset appliedAt, bool indented = false)
    {
        var normalized = Normalize(config);
        var wire = new ConfigDocumentWire
        {
            Routes = normalized.Routes,
            UpstreamPools = normalized.UpstreamPools,
            TcpListeners = normalized.TcpListeners,
            AppliedAt = Rfc3339.Format(appliedAt),
            Version = version,
        };
        return JsonSerializer.SerializeToUtf8Bytes(wire, (indented ? Indented : Compact).ConfigDocumentWire);
    }

    /// <summary>Parses a full desired-state document (<c>{config, vip, raft_timing}</c>) and normalises it.</summary>
    public static JsonParseResult<DesiredState> ParseState(ReadOnlySpan<byte> utf8) =>
        Parse(utf8, Compact.DesiredState, Normalize);

    /// <summary>Serialises the configuration in canonical form (compact unless <paramref name="indented"/>).</summary>
    public static byte[] Serialize(ProxyConfig config, bool indented = false) =>
        JsonSerializer.SerializeToUtf8Bytes(Normalize(config), (indented ? Indented : Compact).ProxyConfig);

    /// <summary>Serialises the desired state in canonical form (compact unless <paramref name="indented"/>).</summary>
    public static byte[] Serialize(DesiredState state, bool indented = false) =>
        JsonSerializer.SerializeToUtf8Bytes(Normalize(state), (indented ? Indented : Compact).DesiredState);

    /// <summary>Parses a <see cref="ConfigChange"/> (the form a replicated store logs); not normalised (<see cref="ConfigChange.ApplyTo"/> does that).</summary>
    public static JsonParseResult<ConfigChange> ParseChange(ReadOnlySpan<byte> utf8) =>
        Parse(utf8, Compact.ConfigChange, c => c ?? new ConfigChange());

    /// <summary>Serialises a <see cref="ConfigChange"/> compactly.</summary>
    public static byte[] SerializeChange(ConfigChange change) =>
        JsonSerializer.SerializeToUtf8Bytes(change, Compact.ConfigChange);

    /// <summary>Parses one route object (<c>PUT /api/routes/{id}</c>), normalised.</summary>
    public static JsonParseResult<RouteSpec> ParseRoute(ReadOnlySpan<byte> utf8) =>
        Parse(utf8, Compact.RouteSpec, NormalizeRoute);

    /// <summary>Parses one pool object (<c>PUT /api/pools/{id}</c>), normalised.</summary>
    public static JsonParseResult<UpstreamPoolSpec> ParsePool(ReadOnlySpan<byte> utf8) =>
        Parse(utf8, Compact.UpstreamPoolSpec, NormalizePool);

    /// <summary>Serialises one route or pool object in canonical form.</summary>
    public static byte[] SerializeRoute(RouteSpec route) => JsonSerializer.SerializeToUtf8Bytes(NormalizeRoute(route), Compact.RouteSpec);

    /// <summary>Serialises one pool object in canonical form.</summary>
    public static byte[] SerializePool(UpstreamPoolSpec pool) => JsonSerializer.SerializeToUtf8Bytes(NormalizePool(pool), Compact.UpstreamPoolSpec);

    /// <summary>Lower-case hex SHA-256 of the canonical compact form: equal hashes mean equal configurations.</summary>
    public static string ContentHash(ProxyConfig config) => Hash(Serialize(config));

    /// <summary>Lower-case hex SHA-256 of the canonical compact form of the whole desired state.</summary>
    public static string ContentHash(DesiredState state) => Hash(Serialize(state));

    internal static JsonTypeInfo<PersistedDesiredState> PersistedTypeInfo => Indented.PersistedDesiredState;

    internal static JsonTypeInfo<Store.PersistedHistoryEntry> PersistedHistoryTypeInfo => Compact.PersistedHistoryEntry;

    private static string Hash(byte[] canonical) => Convert.ToHexStringLower(SHA256.HashData(canonical));

    /// <summary>
    /// Replaces JSON nulls with empty values, empty algorithm with absent, and orders pools by id, so that every
    /// consumer sees one shape and serialisation is deterministic.
    /// </summary>
    public static ProxyConfig Normalize(ProxyConfig? config)
    {
        if (config is null)
        {
            return ProxyConfig.Empty;
        }
        var routes = (config.Routes ?? []).Select(NormalizeRoute).ToArray();
        var pools = new SortedDictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal);
        foreach (var (id, pool) in config.UpstreamPools ?? ProxyConfig.EmptyPools)
        {
            pools[id ?? ""] = NormalizePool(pool);
        }
        // Empty and absent listener lists are one state (none), written as absent: documents without them hash as before.
        var listeners = config.TcpListeners is { Count: > 0 } l ? l.Select(NormalizeTcpListener).ToArray() : null;
        return new ProxyConfig { Routes = routes, UpstreamPools = pools, TcpListeners = listeners };
    }

    /// <summary>Normalises the configuration inside a desired state.</summary>
    public static DesiredState Normalize(DesiredState? state) =>
        state is null ? DesiredState.Empty : state with { Config = Normalize(state.Config) };

    internal static RouteSpec NormalizeRoute(RouteSpec? route)
    {
        if (route is null)
        {
            return new RouteSpec();
        }
        var match = route.Match ?? new RouteMatchSpec();
        return route with
        {
            Id = route.Id ?? "",
            Algorithm = string.IsNullOrEmpty(route.Algorithm) ? null : route.Algorithm,
            UpstreamPool = route.UpstreamPool ?? "",
            Match = match with
            {
                Hosts = (match.Hosts ?? []).Select(h => h ?? "").ToArray(),
                Path = match.Path is null ? null : match.Path with { Type = match.Path.Type ?? "", Value = match.Path.Value ?? "" },
            },
        };
    }

    internal static TcpListenerSpec NormalizeTcpListener(TcpListenerSpec? listener) =>
        listener is null
            ? new TcpListenerSpec()
            : listener with
            {
                Id = listener.Id ?? "",
                Listen = listener.Listen ?? "",
                UpstreamPool = listener.UpstreamPool ?? "",
                Algorithm = string.IsNullOrEmpty(listener.Algorithm) ? null : listener.Algorithm,
            };

    internal static UpstreamPoolSpec NormalizePool(UpstreamPoolSpec? pool)
    {
        if (pool is null)
        {
            return new UpstreamPoolSpec();
        }
        return pool with
        {
            Upstreams = (pool.Upstreams ?? []).Select(u => u is null ? new UpstreamSpec("") : u with { Address = u.Address ?? "" }).ToArray(),
            HealthCheck = pool.HealthCheck is null ? null : pool.HealthCheck with
            {
                Path = pool.HealthCheck.Path ?? "",
            },
        };
    }

    private static JsonParseResult<T> Parse<T>(ReadOnlySpan<byte> utf8, JsonTypeInfo<T> typeInfo, Func<T?, T> normalize)
        where T : class
    {
        var trimmed = TrimWhitespace(utf8);
        if (trimmed.IsEmpty)
        {
            return JsonParseResult<T>.Fail(InvalidBodyMessage, "", "the body is empty; send a JSON object");
        }
        if (trimmed[0] != (byte)'{')
        {
            return JsonParseResult<T>.Fail(InvalidBodyMessage, "", "the body must be a JSON object");
        }

        // Find the end of the first JSON value so that trailing data is told apart from a broken object.
        var reader = new Utf8JsonReader(trimmed, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            reader.Read();
            reader.Skip();
        }
        catch (JsonException ex)
        {
            return JsonParseResult<T>.Fail(InvalidBodyMessage, "", Describe(ex));
        }
        var end = (int)reader.BytesConsumed;
        if (!TrimWhitespace(trimmed[end..]).IsEmpty)
        {
            return JsonParseResult<T>.Fail(TrailingDataMessage, "", $"unexpected data after the JSON object at byte {end}");
        }

        try
        {
            var value = JsonSerializer.Deserialize(trimmed, typeInfo);
            return JsonParseResult<T>.Ok(normalize(value));
        }
        catch (JsonException ex)
        {
            return JsonParseResult<T>.Fail(InvalidBodyMessage, FieldPath(ex.Path), Describe(ex));
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or ArgumentException or FormatException or OverflowException)
        {
            return JsonParseResult<T>.Fail(InvalidBodyMessage, "", "the body does not match the configuration schema");
        }
    }

    private static ReadOnlySpan<byte> TrimWhitespace(ReadOnlySpan<byte> span)
    {
        var start = 0;
        while (start < span.Length && IsJsonWhitespace(span[start]))
        {
            start++;
        }
        var end = span.Length;
        while (end > start && IsJsonWhitespace(span[end - 1]))
        {
            end--;
        }
        return span[start..end];
    }

    private static bool IsJsonWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    /// <summary>The JSON field names of the desired-state object whose .NET type is <paramref name="typeName"/>.</summary>
    private static IEnumerable<string> KnownFieldNames(string typeName)
    {
        Type[] types = [typeof(ProxyConfig), typeof(RouteSpec), typeof(RouteMatchSpec), typeof(PathMatchSpec), typeof(StickyCookieSpec),
            typeof(UpstreamPoolSpec), typeof(HealthCheckSpec), typeof(PassiveHealthSpec), typeof(TcpListenerSpec), typeof(ConfigDocumentWire)];
        var type = types.FirstOrDefault(t => t.FullName == typeName);
        return type is null ? [] : FieldNames(type);
    }

    /// <summary>The JSON field names the parser accepts for a desired-state object type.</summary>
    internal static IReadOnlyList<string> FieldNames(Type type) =>
        Compact.GetTypeInfo(type)?.Properties.Where(p => p.Set is not null).Select(p => p.Name).ToArray() ?? [];

    /// <summary><c>$.routes[0].match</c> → <c>routes[0].match</c>; <c>$['a.b']</c> → <c>a.b</c>.</summary>
    internal static string FieldPath(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$")
        {
            return "";
        }
        var path = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');
        return path.Replace("['", ".", StringComparison.Ordinal).Replace("']", "", StringComparison.Ordinal).TrimStart('.');
    }

    /// <summary>A short human explanation without .NET type names or stack details.</summary>
    private static string Describe(JsonException ex)
    {
        var message = ex.Message;
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            var name = Between(message, "The JSON property '", "'");
            var meant = Suggestions.Closest(name, KnownFieldNames(Between(message, "contained in type '", "'")));
            return meant is not null
                ? $"unknown field '{name}': did you mean '{meant}'?"
                : $"unknown field '{name}': check the spelling (field names are snake_case, e.g. upstream_pool)";
        }
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            return "a property appears twice in the same object; keep one";
        }
        if (FieldPath(ex.Path) == "version")
        {
            // Out-of-range numbers (1e30) surface as a failure to build the whole document; name the real problem.
            return "expected a whole number: the version GET /api/config returned, e.g. \"version\": 3";
        }
        if (message.Contains("could not be converted to", StringComparison.Ordinal))
        {
            return "wrong type: expected " + FriendlyType(Between(message, "could not be converted to ", ". Path"), ex.InnerException?.Message ?? "");
        }
        if (message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return "the document is nested too deeply";
        }
        if (ex.InnerException is null && !message.Contains("Path:", StringComparison.Ordinal) && !message.Contains("LineNumber", StringComparison.Ordinal))
        {
            return message; // our own converter's wording
        }
        var line = ex.LineNumber is { } l ? $" (line {l + 1}, byte {ex.BytePositionInLine + 1})" : "";
        return "malformed JSON" + line;
    }

    private static string FriendlyType(string targetType, string readerMessage) => 0 switch
    {
        _ when readerMessage.Contains("boolean", StringComparison.Ordinal) => "true or false",
        _ when readerMessage.Contains("Int32", StringComparison.Ordinal) || readerMessage.Contains("as a number", StringComparison.Ordinal) => "an integer",
        _ when readerMessage.Contains("as a string", StringComparison.Ordinal) => "a string",
        _ when targetType.Contains("List", StringComparison.Ordinal) || targetType.Contains("[]", StringComparison.Ordinal) => "an array",
        _ when targetType.Contains("Dictionary", StringComparison.Ordinal) => "an object keyed by id",
        _ when targetType.StartsWith("Lb.Core", StringComparison.Ordinal) => "an object",
        _ => "a different JSON type",
    };

    private static string Between(string s, string start, string end)
    {
        var i = s.IndexOf(start, StringComparison.Ordinal);
        if (i < 0)
        {
            return "";
        }
        i += start.Length;
        var j = s.IndexOf(end, i, StringComparison.Ordinal);
        return j < 0 ? s[i..] : s[i..j];
    }

    private static LbJsonContext CreateContext(bool indented)
    {
        var options = new JsonSerializerOptions(LbJsonContext.Default.Options)
        {
            WriteIndented = indented,
            AllowDuplicateProperties = false,
            // Config values are regexes and paths; keep them readable. Responses are served as application/json.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        return new LbJsonContext(options);
    }
}

/// <summary>The outcome of parsing a JSON document: a value, or an error with the field it concerns.</summary>
/// <typeparam name="T">The document type.</typeparam>
public sealed class JsonParseResult<T>
    where T : class
{
    private JsonParseResult(T? value, string? message, string field, string? detail)
    {
        Value = value;
        Message = message;
        Field = field;
        Detail = detail;
    }

    /// <summary>The parsed value, when <see cref="Succeeded"/>.</summary>
    public T? Value { get; }

    /// <summary>Whether the document parsed.</summary>
    public bool Succeeded => Value is not null;

    /// <summary>The contract's error message (<see cref="DesiredStateJson.InvalidBodyMessage"/> or <see cref="DesiredStateJson.TrailingDataMessage"/>).</summary>
    public string? Message { get; }

    /// <summary>Path of the offending field (<c>routes[0].enabled</c>), empty when it concerns the whole body.</summary>
    public string Field { get; }

    /// <summary>What is wrong and how to fix it.</summary>
    public string? Detail { get; }

    internal static JsonParseResult<T> Ok(T value) => new(value, null, "", null);

    internal static JsonParseResult<T> Fail(string message, string field, string detail) => new(null, message, field, detail);
}

/// <summary>A parsed <c>PUT /api/config</c> body.</summary>
/// <param name="Config">The normalised configuration.</param>
/// <param name="Version">The version the client based its edit on, when it sent one.</param>
public sealed record ConfigDocument(ProxyConfig Config, long? Version);
