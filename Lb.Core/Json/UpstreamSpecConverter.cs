using System.Text.Json;
using System.Text.Json.Serialization;
using Lb.Core.Spec;

namespace Lb.Core.Json;

/// <summary>
/// An upstream is written as a plain <c>"host:port"</c> string (the reference wire form) unless it carries
/// options, in which case it is an object <c>{"address": "...", "weight": 3}</c>.
/// </summary>
internal sealed class UpstreamSpecConverter : JsonConverter<UpstreamSpec>
{
    public override UpstreamSpec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new UpstreamSpec(reader.GetString()!);
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("expected a \"host:port\" string or an {\"address\", \"weight\"} object");
        }

        string? address = null;
        string? state = null;
        int? maxConnections = null;
        var weight = UpstreamSpec.DefaultWeight;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return new UpstreamSpec(address ?? "", weight) { State = state, MaxConnections = maxConnections };
            }
            var name = reader.GetString();
            reader.Read();
            if (string.Equals(name, "address", StringComparison.OrdinalIgnoreCase))
            {
                address = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new JsonException("address must be a string");
            }
            else if (string.Equals(name, "weight", StringComparison.OrdinalIgnoreCase))
            {
                weight = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var w) ? w : throw new JsonException("weight must be an integer");
            }
            else if (string.Equals(name, "state", StringComparison.OrdinalIgnoreCase))
            {
                state = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new JsonException("state must be a string");
            }
            else if (string.Equals(name, "max_connections", StringComparison.OrdinalIgnoreCase))
            {
                maxConnections = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var m) ? m : throw new JsonException("max_connections must be an integer");
            }
            else
            {
                throw new JsonException($"unknown field '{name}'");
            }
        }
        throw new JsonException("unterminated upstream object");
    }

    public override void Write(Utf8JsonWriter writer, UpstreamSpec value, JsonSerializerOptions options)
    {
        if (value.Weight == UpstreamSpec.DefaultWeight && value.State is null && value.MaxConnections is null)
        {
            writer.WriteStringValue(value.Address);
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("address", value.Address);
        if (value.Weight != UpstreamSpec.DefaultWeight)
        {
            writer.WriteNumber("weight", value.Weight);
        }
        if (value.State is { } state)
        {
            writer.WriteString("state", state);
        }
        if (value.MaxConnections is { } maxConnections)
        {
            writer.WriteNumber("max_connections", maxConnections);
        }
        writer.WriteEndObject();
    }
}
