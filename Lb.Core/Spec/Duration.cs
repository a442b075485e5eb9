using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lb.Core.Spec;

/// <summary>
/// A duration of the desired state, parsed once when the document is read: the text as written (<c>"1m30s"</c>, what
/// is serialised back, so the wire form and the content hash do not change) and its value. An unparsable text is kept
/// with its error, for validation to report with the field's path; nothing downstream parses durations again.
/// </summary>
[JsonConverter(typeof(DurationJsonConverter))]
public readonly struct Duration : IEquatable<Duration>
{
    private readonly string? _text;

    private Duration(string text, TimeSpan value, string? error)
    {
        _text = text;
        Value = value;
        Error = error;
    }

    /// <summary>The text as written; empty when absent.</summary>
    public string Text => _text ?? "";

    /// <summary>The parsed value; <see cref="TimeSpan.Zero"/> when <see cref="IsValid"/> is false.</summary>
    public TimeSpan Value { get; }

    /// <summary>Why the text is not a Go duration (Go's wording); null when it is one.</summary>
    public string? Error { get; }

    /// <summary>Whether the text is a Go duration.</summary>
    public bool IsValid => _text is not null && Error is null;

    /// <summary>The value when it is valid and above zero, otherwise null (the only form runtime code reads).</summary>
    public TimeSpan? Positive => IsValid && Value > TimeSpan.Zero ? Value : null;

    /// <summary>Parses <paramref name="text"/> in Go's <c>time.ParseDuration</c> syntax; never throws.</summary>
    public static Duration Parse(string? text)
    {
        var written = text ?? "";
        return GoDuration.TryParse(written, out var value, out var error)
            ? new Duration(written, value, null)
            : new Duration(written, TimeSpan.Zero, error ?? $"time: invalid duration \"{written}\"");
    }

    /// <summary>The duration written as <paramref name="value"/>'s Go form (<c>"1m30s"</c>).</summary>
    public static Duration FromTimeSpan(TimeSpan value) => new(GoDuration.Format(value), value, null);

    /// <summary>Parses <paramref name="text"/> (<see cref="Parse"/>).</summary>
    public static implicit operator Duration(string text) => Parse(text);

    /// <summary>Parses <paramref name="text"/>; null stays null (an absent optional duration).</summary>
    public static implicit operator Duration?(string? text) => text is null ? default(Duration?) : Parse(text);

    /// <inheritdoc/>
    public override string ToString() => Text;

    /// <summary>Same text (as the strings they replace compared).</summary>
    public bool Equals(Duration other) => string.Equals(Text, other.Text, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Duration other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Text);

    /// <summary>Same text.</summary>
    public static bool operator ==(Duration left, Duration right) => left.Equals(right);

    /// <summary>Different text.</summary>
    public static bool operator !=(Duration left, Duration right) => !left.Equals(right);
}

/// <summary>
/// Reads and writes a <see cref="Duration"/> as its JSON string, exactly as written (public so that any assembly's
/// source-generated JSON context can create it).
/// </summary>
public sealed class DurationJsonConverter : JsonConverter<Duration>
{
    /// <summary>A JSON null is an absent text, reported by validation like the empty string it was before.</summary>
    public override bool HandleNull => true;

    /// <inheritdoc/>
    public override Duration Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => Duration.Parse(reader.GetString()),
        JsonTokenType.Null => Duration.Parse(null),
        _ => throw new JsonException("The JSON value could not be converted to System.String."),
    };

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, Duration value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Text);
    }
}
