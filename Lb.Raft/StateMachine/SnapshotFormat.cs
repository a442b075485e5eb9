using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.Raft.StateMachine;

/// <summary>
/// A snapshot file: a fixed header (magic, format, version, applied-at, SHA-256) followed by the canonical
/// desired-state JSON and, from format 2 on, the replicated history. The hash covers everything after the header, so a
/// torn or foreign file is refused instead of silently loaded. Format 1 files (no history) still load.
/// </summary>
internal static class SnapshotFormat
{
    private const uint Magic = 0x5353424C; // "LBSS"
    private const byte FormatV1 = 1;
    private const byte FormatV2 = 2;
    private const int HashSize = 64;
    private const int HeaderSize = sizeof(uint) + 1 + sizeof(long) + sizeof(long) + HashSize;

    public static byte[] Encode(VersionedDesiredState state, IReadOnlyList<ReplicatedHistoryEntry> history)
    {
        var json = DesiredStateJson.Serialize(state.State);
        using var body = new MemoryStream();
        using (var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(json.Length);
            writer.Write(json);
            writer.Write(history.Count);
            foreach (var entry in history)
            {
                writer.Write(entry.Version);
                writer.Write(entry.WrittenAt.ToUnixTimeMilliseconds());
                writer.Write(entry.Origin);
                writer.Write(entry.ContentHash);
                writer.Write(entry.RouteCount);
                writer.Write(entry.PoolCount);
                writer.Write(entry.StateJson.Length);
                writer.Write(entry.StateJson.Span);
            }
        }
        var payload = body.GetBuffer().AsSpan(0, (int)body.Length);
        var bytes = new byte[HeaderSize + payload.Length];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        span[4] = FormatV2;
        BinaryPrimitives.WriteInt64LittleEndian(span[5..], state.Version);
        BinaryPrimitives.WriteInt64LittleEndian(span[13..], state.AppliedAt.ToUnixTimeMilliseconds());
        Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(payload)), span[21..]);
        payload.CopyTo(span[HeaderSize..]);
        return bytes;
    }

    public static (VersionedDesiredState State, List<ReplicatedHistoryEntry> History) Decode(byte[] bytes, string source)
    {
        var span = bytes.AsSpan();
        if (bytes.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(span) != Magic || span[4] is not (FormatV1 or FormatV2))
        {
            throw new InvalidDataException($"The Raft snapshot '{source}' is not an Lb snapshot of format {FormatV1} or {FormatV2}.");
        }
        var version = BinaryPrimitives.ReadInt64LittleEndian(span[5..]);
        var appliedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(span[13..]));
        var hash = Encoding.ASCII.GetString(span.Slice(21, HashSize));
        var corrupt = new InvalidDataException(
            $"The Raft snapshot '{source}' is corrupt (its content does not match its hash). Remove the node's data directory and join it again.");
        if (span[4] == FormatV1)
        {
            var parsedV1 = DesiredStateJson.ParseState(span[HeaderSize..]);
            if (!parsedV1.Succeeded || !string.Equals(DesiredStateJson.ContentHash(parsedV1.Value!), hash, StringComparison.Ordinal))
            {
                throw corrupt;
            }
            return (new VersionedDesiredState(version, parsedV1.Value!, appliedAt), []);
        }
        if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(span[HeaderSize..])), hash, StringComparison.Ordinal))
        {
            throw corrupt;
        }
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, HeaderSize, bytes.Length - HeaderSize, writable: false), Encoding.UTF8);
            var json = reader.ReadBytes(reader.ReadInt32());
            var parsed = DesiredStateJson.ParseState(json);
            if (!parsed.Succeeded)
            {
                throw corrupt;
            }
            var count = reader.ReadInt32();
            var history = new List<ReplicatedHistoryEntry>(count);
            for (var i = 0; i < count; i++)
            {
                var entryVersion = reader.ReadInt64();
                var writtenAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
                var origin = reader.ReadString();
                var contentHash = reader.ReadString();
                var routes = reader.ReadInt32();
                var pools = reader.ReadInt32();
                var stateJson = reader.ReadBytes(reader.ReadInt32());
                history.Add(new ReplicatedHistoryEntry(entryVersion, writtenAt, origin, stateJson, routes, pools, contentHash));
            }
            return (new VersionedDesiredState(version, parsed.Value!, appliedAt), history);
        }
        catch (EndOfStreamException)
        {
            throw corrupt;
        }
    }
}
