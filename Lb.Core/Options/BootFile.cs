using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Lb.Core.Admin;
using Lb.Core.Validation;
using Microsoft.Extensions.Configuration;

namespace Lb.Core.Options;

/// <summary>
/// Loads a node's <c>app.json</c>: exactly one JSON object, known keys only (camelCase as the reference, or the
/// snake_case that <c>/api/status</c> prints: <c>proxy_listen_addr</c>), empty strings meaning the defaults. The file is
/// mapped into configuration keys under <see cref="SectionName"/>, so every package binds its own options from it
/// (<c>AddLbOptions&lt;T&gt;()</c>); the known keys are the settable properties of the options types the host composes,
/// so a new key is one property. Errors name the file, the key as written, the key meant and the fix.
/// </summary>
public static class BootFile
{
    /// <summary>The configuration section <c>app.json</c> keys are mapped under (<c>Lb:ProxyListenAddr</c>, ...).</summary>
    public const string SectionName = "Lb";

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="BootFileException">The file is missing, malformed or has invalid values.</exception>
    public static LbNodeOptions Load(string path) => Parse(ReadFile(path), path);

    /// <summary>
    /// Reads <paramref name="path"/> into configuration values for the options types the host composes (besides
    /// <see cref="LbNodeOptions"/>) and returns them with the validated node options.
    /// </summary>
    /// <exception cref="BootFileException">The file is missing, malformed, has unknown keys or invalid node values.</exception>
    public static (IReadOnlyDictionary<string, string?> Values, LbNodeOptions Node) Load(string path, IEnumerable<BootOptionsType> optionTypes)
    {
        var values = ReadConfiguration(ReadFile(path), path, [.. CoreOptionTypes, .. optionTypes]);
        return (values, BindAndCheck(values, path));
    }

    /// <summary>Parses and validates <c>app.json</c> content; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="BootFileException">The content is malformed or has invalid values.</exception>
    public static LbNodeOptions Parse(ReadOnlySpan<byte> utf8, string source = "app.json") =>
        BindAndCheck(ReadConfiguration(utf8, source, CoreOptionTypes), source);

    /// <summary>The options Lb.Core itself binds from the section (<c>AddLoadBalancer</c>): node and admin access.</summary>
    private static readonly BootOptionsType[] CoreOptionTypes = [typeof(LbNodeOptions), typeof(AdminOptions)];

    /// <summary>
    /// Maps <c>app.json</c> content to configuration values (<c>Lb:Key</c>, arrays as <c>Lb:Key:0</c>), accepting the
    /// settable properties of <paramref name="optionTypes"/> (camelCase, case-insensitive) with their JSON kinds.
    /// </summary>
    /// <exception cref="BootFileException">Not a single object, an unknown key, or a value of the wrong kind.</exception>
    public static IReadOnlyDictionary<string, string?> ReadConfiguration(ReadOnlySpan<byte> utf8, string source, IEnumerable<BootOptionsType> optionTypes)
    {
        ArgumentNullException.ThrowIfNull(optionTypes);
        var keys = KeysOf(optionTypes);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray());
        }
        catch (JsonException ex)
        {
            // The reader counts from 0; editors count lines and columns from 1.
            var where = ex.LineNumber is { } line ? $"at line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}: " : "";
            throw new BootFileException($"{source}: malformed JSON {where}{Reason(ex)}", ex);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new BootFileException($"{source}: config must contain a single JSON object");
            }
            var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            var written = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var camel = ToCamelCase(property.Name);
                if (!keys.TryGetValue(camel, out var key))
                {
                    var meant = Suggest(camel, keys.Values);
                    throw new BootFileException($"{source}: unknown field '{property.Name}'{(meant is not null ? $": did you mean '{meant}'?" : ".")} Known fields: {string.Join(", ", keys.Values.Select(k => k.Name))}");
                }
                // The same key written both ways is an error, not a silent pick.
                if (!written.TryAdd(key.Name, property.Name))
                {
                    throw new BootFileException($"{source}: '{written[key.Name]}' and '{property.Name}' are the same key ({key.Name}); keep one");
                }
                Add(values, key, property.Name, property.Value, source);
            }
            return values;
        }
    }

    /// <summary>The configuration values that reproduce <paramref name="options"/> (for hosts that compose options in code).</summary>
    public static IReadOnlyDictionary<string, string?> ToConfiguration<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TOptions>(TOptions options)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in KeysOf([typeof(TOptions)]).Values)
        {
            switch (key.Property.GetValue(options))
            {
                case null:
                    break;
                case string text:
                    values[$"{SectionName}:{key.Property.Name}"] = text;
                    break;
                case bool flag:
                    values[$"{SectionName}:{key.Property.Name}"] = flag ? "true" : "false";
                    break;
                case IEnumerable<string> list:
                    var i = 0;
                    foreach (var item in list)
                    {
                        values[$"{SectionName}:{key.Property.Name}:{i++}"] = item;
                    }
                    break;
                case IFormattable number:
                    values[$"{SectionName}:{key.Property.Name}"] = number.ToString(null, CultureInfo.InvariantCulture);
                    break;
            }
        }
        return values;
    }

    /// <summary>The keys <c>app.json</c> accepts for Lb.Core's options (node, admin; other packages add theirs: <see cref="KnownKeys"/>).</summary>
    public static IReadOnlyList<string> KnownFields { get; } = KnownKeys([]);

    /// <summary>The keys <c>app.json</c> accepts when the host composes <paramref name="optionTypes"/> besides the node options.</summary>
    public static IReadOnlyList<string> KnownKeys(IEnumerable<BootOptionsType> optionTypes) =>
        [.. KeysOf([.. CoreOptionTypes, .. optionTypes]).Values.Select(k => k.Name)];

    private static byte[] ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new BootFileException($"{path}: file not found. Create it (e.g. {{\"proxyListenAddr\": \":8080\"}}) or run 'serve' without a path to use the defaults.");
        }
        return File.ReadAllBytes(path);
    }

    private static LbNodeOptions BindAndCheck(IReadOnlyDictionary<string, string?> values, string source)
    {
        var options = new LbNodeOptions();
        var admin = new AdminOptions();
        var section = new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(SectionName);
        section.Bind(options);
        section.Bind(admin);
        var failures = LbNodeOptionsValidator.Check(options);
        failures.AddRange(AdminOptionsValidator.Check(admin, options));
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

    /// <summary><c>proxy_listen_addr</c> → <c>proxyListenAddr</c>; keys without '_' are returned as written.</summary>
    private static string ToCamelCase(string key)
    {
        if (!key.Contains('_', StringComparison.Ordinal))
        {
            return key;
        }
        var parts = key.Split('_', StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(parts.Select((p, i) => i == 0 ? p.ToLowerInvariant() : char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()));
    }

    private static void Add(Dictionary<string, string?> values, BootKey key, string written, JsonElement value, string source)
    {
        var path = $"{SectionName}:{key.Property.Name}";
        var type = key.Property.PropertyType;
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (type == typeof(string) && value.ValueKind == JsonValueKind.String)
        {
            values[path] = value.GetString();
        }
        else if (type == typeof(bool) && value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            values[path] = value.GetBoolean() ? "true" : "false";
        }
        else if (type == typeof(int) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number))
        {
            values[path] = number.ToString(CultureInfo.InvariantCulture);
        }
        else if (typeof(IEnumerable<string>).IsAssignableFrom(type) && type != typeof(string) && value.ValueKind == JsonValueKind.Array
            && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                values[$"{path}:{i++}"] = item.GetString();
            }
        }
        else
        {
            var expected = type == typeof(bool) ? "true or false" : type == typeof(int) ? "a whole number" : type == typeof(string) ? "a string" : "an array of strings";
            throw new BootFileException($"{source}: invalid value at '{written}': expected {expected}");
        }
    }

    private static Dictionary<string, BootKey> KeysOf(IEnumerable<BootOptionsType> optionTypes)
    {
        var keys = new Dictionary<string, BootKey>(StringComparer.OrdinalIgnoreCase);
        foreach (var optionsType in optionTypes)
        {
            foreach (var property in optionsType.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.SetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0)
                {
                    var name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
                    keys.TryAdd(name, new BootKey(name, property));
                }
            }
        }
        return keys;
    }

    private static string? Suggest(string unknown, IEnumerable<BootKey> keys)
    {
        var best = keys.Select(k => (k.Name, Distance: Distance(unknown.ToLowerInvariant(), k.Name.ToLowerInvariant())))
            .OrderBy(k => k.Distance).FirstOrDefault();
        var contained = keys.FirstOrDefault(k => unknown.Contains(k.Name, StringComparison.OrdinalIgnoreCase));
        var name = contained?.Name ?? (best.Name is not null && best.Distance <= 3 ? best.Name : null);
        return name;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private sealed record BootKey(string Name, PropertyInfo Property);
}

/// <summary>
/// An options type whose settable public properties are <c>app.json</c> keys (<see cref="BootFile"/>). Write
/// <c>typeof(MyOptions)</c> where one is expected: the conversion tells the trimmer to keep those properties, so the keys
/// are the same in a Native AOT host.
/// </summary>
public readonly struct BootOptionsType : IEquatable<BootOptionsType>
{
    private BootOptionsType([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type) => Type = type;

    /// <summary>The options type.</summary>
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)]
    public Type Type { get; }

    /// <summary>Wraps <paramref name="type"/>.</summary>
    public static BootOptionsType FromType([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return new BootOptionsType(type);
    }

    /// <summary>Wraps <paramref name="type"/>.</summary>
    public static implicit operator BootOptionsType([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type) => FromType(type);

    /// <inheritdoc/>
    public bool Equals(BootOptionsType other) => Type == other.Type;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BootOptionsType other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Type?.GetHashCode() ?? 0;

    /// <summary>Same type.</summary>
    public static bool operator ==(BootOptionsType left, BootOptionsType right) => left.Equals(right);

    /// <summary>Different types.</summary>
    public static bool operator !=(BootOptionsType left, BootOptionsType right) => !left.Equals(right);
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
