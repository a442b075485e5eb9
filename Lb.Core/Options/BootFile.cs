using System.Text.Json;
using System.Text.Json.Serialization;
using Lb.Core.Json;

namespace Lb.Core.Options;

/// <summary>
/// Loads a node's <c>app.json</c>: exactly one JSON object, known keys only (camelCase, as the reference), empty
/// strings meaning the defaults. Errors name the file, the key and the fix.
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
            throw new BootFileException($"{source}: config must contain a single JSON object ({ex.Message})", ex);
        }

        LbNodeOptions? options;
        try
        {
            options = JsonSerializer.Deserialize(utf8, BootJsonContext.Default.LbNodeOptions);
        }
        catch (JsonException ex)
        {
            var field = DesiredStateJson.FieldPath(ex.Path);
            var detail = ex.Message.Contains("could not be mapped", StringComparison.Ordinal)
                ? $"unknown field '{field}'. Known fields: {string.Join(", ", KnownFields)}"
                : $"invalid value at '{field}': expected {(field == "trustedProxies" ? "an array of strings" : field is "adminReadRequiresToken" or "accessLog" ? "true or false" : field is "maxProxyConnections" or "maxAdminConnections" or "configHistoryLimit" ? "a whole number" : "a string")}";
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

    /// <summary>The keys <c>app.json</c> accepts.</summary>
    public static IReadOnlyList<string> KnownFields { get; } =
    [
        "proxyListenAddr", "dashboardListenAddr", "raftDataDir", "nodeId", "raftListenAddr", "raftAdvertiseAddr",
        "adminToken", "adminReadRequiresToken", "vipInterface", "trustedProxies", "proxyTlsCertificate", "proxyTlsKey", "accessLog",
        "maxProxyConnections", "maxAdminConnections", "keepAliveTimeout", "configHistoryLimit",
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
