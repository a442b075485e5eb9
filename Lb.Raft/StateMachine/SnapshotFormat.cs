using System.Buffers.Binary;
using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.Raft.StateMachine;

/// <summary>
/// A snapshot file: a fixed header (magic, format, version, applied-at) followed by the canonical desired-state JSON
/// and its SHA-256, so a torn or foreign file is refused instead of silently loaded.
/// </summary>
internal static class SnapshotFormat
{
    private const uint Magic = 0x5353424C; // "LBSS"
    private const byte Format = 1;
    private const int HashSize = 64;
    private const int HeaderSize = sizeof(uint) + 1 + sizeof(long) + sizeof(long) + HashSize;

    public static byte[] Encode(VersionedDesiredState state)
    {
        var json = DesiredStateJson.Serialize(state.State);
        var bytes = new byte[HeaderSize + json.Length];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        span[4] = Format;
        BinaryPrimitives.WriteInt64LittleEndian(span[5..], state.Version);
        BinaryPrimitives.WriteInt64LittleEndian(span[13..], state.AppliedAt.ToUnixTimeMilliseconds());
        System.Text.Encoding.ASCII.GetBytes(DesiredStateJson.ContentHash(state.State), span[21..]);
        json.CopyTo(span[HeaderSize..]);
        return bytes;
    }

    public static VersionedDesiredState Decode(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic || bytes[4] != Format)
        {
            throw new InvalidDataException($"The Raft snapshot '{source}' is not an Lb snapshot of format {Format}.");
        }
        var version = BinaryPrimitives.ReadInt64LittleEndian(bytes[5..]);
        var appliedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(bytes[13..]));
        var hash = System.Text.Encoding.ASCII.GetString(bytes.Slice(21, HashSize));
        var parsed = DesiredStateJson.ParseState(bytes[HeaderSize..]);
        if (!parsed.Succeeded || !string.Equals(DesiredStateJson.ContentHash(parsed.Value!), hash, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"The Raft snapshot '{source}' is corrupt (its content does not match its hash). Remove the node's data directory and join it again.");
        }
        return new VersionedDesiredState(version, parsed.Value!, appliedAt);
    }
}
