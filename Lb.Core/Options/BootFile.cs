using System.Text.Json;
using System.Text.Json.Serialization;
using Lb.Core.Json;
using Lb.Core.Validation;

namespace Lb.Core.Options;

/// <summary>
/// Loads a node's <c>app.json</c>: exactly one JSON object, known keys only (camelCase as the reference, or the
/// snake_case that <c>/api/status</c> prints: <c>proxy_listen_addr</c>), empty strings meaning the defaults. Errors
/// name the file, the key as written, the key meant and the fix.
/// </summary>
public static class BootFile
{
    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="BootFileException">The file is missing, malformed or has invalid values.</exception>
    public static LbNodeOptions Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new BootFileException($"{path}: file not found. Create it (e.g. {{\"proxyListenAddr\": \":8080\"}}) or run 'serve' without a path to use the defaults.");
        }
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses and validates <c>app.json</c> content; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="BootFileException">The content is malformed or has invalid values.</exception>
    public static LbNodeOptions Parse(ReadOnlySpan<byte> utf8, string source = "app.json")
    {
        var reader = new Utf8JsonReader(utf8);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new BootFileException($"{source}: config must contain a single JSON object");
            }
            reader.Skip();
            if (reader.Read())
            {
                throw new BootFileException($"{source}: config must contain a single JSON object (found more data after it)");
            }
        }
        catch (JsonException ex)
        {
            // The reader counts from 0; editors count lines and columns from 1.
            var where = ex.LineNumber is { } line ? $"at line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}: " : "";
            throw new BootFileException($"{source}: malformed JSON {where}{Reason(ex)}", ex);
        }

        var (camel, written) = ToCamelCaseKeys(utf8, source);
        LbNodeOptions? options;
        try
        {
            options = JsonSerializer.Deserialize(camel, BootJsonContext.Default.LbNodeOptions);
        }
        catch (JsonException ex)
        {
            var key = DesiredStateJson.FieldPath(ex.Path);
            var root = key.Split('[')[0];
            var field = written.GetValueOrDefault(root, root) + key[root.Length..];
            string detail;
            if (ex.Message.Contains("could not be mapped", StringComparison.Ordinal))
            {
                var meant = Suggestions.Closest(field, KnownFields);
                detail = meant is not null
                    ? $"unknown field '{field}': did you mean '{meant}'?"
                    : $"unknown field '{field}'. Known fields: {string.Join(", ", KnownFields)}";
            }
            else
            {
                detail = $"invalid value at '{field}': expected {(root == "trustedProxies" ? "an array of strings" : root is "adminReadRequiresToken" or "accessLog" or "adminInsecure" ? "true or false" : root is "maxProxyConnections" or "maxAdminConnections" ? "a whole number" : "a string")}";
            }
            throw new BootFileException($"{source}: {detail}", ex);
        }
        options ??= new LbNodeOptions();
        var failures = LbNodeOptionsValidator.Check(options);
        if (failures.Count > 0)
        {
            throw new BootFileException($"{source}: {string.Join("; ", failures)}");
        }
        return options;
    }

    /// <summary>The reader's explanation without its own 0-based position suffix.</summary>
    private static string Reason(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd(' ', '.') + ". The file must be a single JSON object such as {\"proxyListenAddr\": \":8080\"}";
    }

    /// <summary>
    /// Rewrites the top-level keys to camelCase (<c>proxy_listen_addr</c> → <c>proxyListenAddr</c>) and returns which
    /// key each came from, so errors can quote the file. The same key written both ways is an error, not a silent pick.
    /// </summary>
    private static (byte[] Json, Dictionary<string, string> Written) ToCamelCaseKeys(ReadOnlySpan<byte> utf8, string source)
    {
        var written = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        using var document = JsonDocument.Parse(utf8.ToArray());
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var camel = ToCamelCase(property.Name);
                if (!written.TryAdd(camel, property.Name))
                {
                    throw new BootFileException($"{source}: '{written[camel]}' and '{property.Name}' are the same key ({camel}); keep one");
                }
                writer.WritePropertyName(camel);
                property.Value.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return (buffer.ToArray(), written);
    }

    private static string ToCamelCase(string key)
    {
        if (!key.Contains('_', StringComparison.Ordinal))
        {
            return key;
        }
        var parts = key.Split('_', StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(parts.Select((p, i) => i == 0 ? p.ToLowerInvariant() : char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()));
    }

    /// <summary>The keys <c>app.json</c> accepts.</summary>
    public static IReadOnlyList<string> KnownFields { get; } =
    [
        "proxyListenAddr", "dashboardListenAddr", "dataDir", "raftDataDir", "nodeId", "nodeHeader", "raftListenAddr", "raftAdvertiseAddr",
        "adminToken", "adminReadRequiresToken", "adminInsecure", "vipInterface", "trustedProxies", "proxyTlsCertificate", "proxyTlsKey", "accessLog", "accessLogFormat", "accessLogPath", "drainTimeout",
        "maxProxyConnections", "maxAdminConnections", "keepAliveTimeout",
    ];
}

/// <summary><c>app.json</c> could not be used; the message says why and what to change.</summary>
public sealed class BootFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BootFileException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public BootFileException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception.</summary>
    public BootFileException() { }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    IgnoreReadOnlyProperties = true)]
[JsonSerializable(typeof(LbNodeOptions))]
internal sealed partial class BootJsonContext : JsonSerializerContext;
