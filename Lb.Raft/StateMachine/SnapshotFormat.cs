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
/// <remarks>
/// From format 3 on, each history entry is stored relative to the next newer one (the current state for the newest):
/// the same state, a <see cref="ConfigChange"/> plus the small cluster policies, or (when no change can express it) the
/// whole document, so fifty versions of a large configuration do not make fifty copies of it.
/// </remarks>
internal static class SnapshotFormat
{
    private const uint Magic = 0x5353424C; // "LBSS"
    private const byte FormatV1 = 1;
    private const byte FormatV2 = 2;
    private const byte FormatV3 = 3;
    private const byte SameAsNewer = 0;
    private const byte ChangeOfNewer = 1;
    private const byte WholeState = 2;
    private const int HashSize = 64;
    private const int HeaderSize = sizeof(uint) + 1 + sizeof(long) + sizeof(long) + HashSize;

    public static byte[] Encode(VersionedDesiredState state, IReadOnlyList<ReplicatedHistoryEntry> history, IReadOnlyDictionary<string, string>? adminUrls = null)
    {
        var json = DesiredStateJson.Serialize(state.State);
        using var body = new MemoryStream();
        using (var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(json.Length);
            writer.Write(json);
            writer.Write(history.Count);
            var newer = state.State;
            foreach (var entry in history)
            {
                writer.Write(entry.Version);
                writer.Write(entry.WrittenAt.ToUnixTimeMilliseconds());
                writer.Write(entry.Origin);
                writer.Write(entry.KnownContentHash ?? "");
                WriteRelative(writer, newer, entry.State);
                newer = entry.State;
            }
            // Format 3: the members' published admin URLs.
            writer.Write(adminUrls?.Count ?? 0);
            foreach (var (nodeId, url) in adminUrls ?? new Dictionary<string, string>())
            {
                writer.Write(nodeId);
                writer.Write(url);
            }
        }
        var payload = body.GetBuffer().AsSpan(0, (int)body.Length);
        var bytes = new byte[HeaderSize + payload.Length];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        span[4] = FormatV3;
        BinaryPrimitives.WriteInt64LittleEndian(span[5..], state.Version);
        BinaryPrimitives.WriteInt64LittleEndian(span[13..], state.AppliedAt.ToUnixTimeMilliseconds());
        Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(payload)), span[21..]);
        payload.CopyTo(span[HeaderSize..]);
        return bytes;
    }

    public static (VersionedDesiredState State, List<ReplicatedHistoryEntry> History, Dictionary<string, string> AdminUrls) Decode(byte[] bytes, string source)
    {
        var span = bytes.AsSpan();
        if (bytes.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(span) != Magic || span[4] is not (FormatV1 or FormatV2 or FormatV3))
        {
            throw new InvalidDataException($"The Raft snapshot '{source}' is not an Lb snapshot of format {FormatV1} to {FormatV3}.");
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
            return (new VersionedDesiredState(version, parsedV1.Value!, appliedAt), [], []);
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
            var newer = parsed.Value!;
            for (var i = 0; i < count; i++)
            {
                var entryVersion = reader.ReadInt64();
                var writtenAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
                var origin = reader.ReadString();
                var contentHash = reader.ReadString();
                DesiredState entryState;
                if (span[4] == FormatV2)
                {
                    reader.ReadInt32(); // route count
                    reader.ReadInt32(); // pool count
                    entryState = ParseOrThrow(reader.ReadBytes(reader.ReadInt32()), corrupt);
                }
                else
                {
                    entryState = ReadRelative(reader, newer, corrupt);
                }
                history.Add(new ReplicatedHistoryEntry(entryVersion, writtenAt, origin, entryState, contentHash.Length > 0 ? contentHash : null));
                newer = entryState;
            }
            var adminUrls = new Dictionary<string, string>(StringComparer.Ordinal);
            if (span[4] >= FormatV3)
            {
                var urls = reader.ReadInt32();
                for (var i = 0; i < urls; i++)
                {
                    adminUrls[reader.ReadString()] = reader.ReadString();
                }
            }
            return (new VersionedDesiredState(version, parsed.Value!, appliedAt), history, adminUrls);
        }
        catch (EndOfStreamException)
        {
            throw corrupt;
        }
    }

    private static void WriteRelative(BinaryWriter writer, DesiredState newer, DesiredState state)
    {
        if (ReferenceEquals(newer, state))
        {
            writer.Write(SameAsNewer);
            return;
        }
        if (ConfigChange.Between(newer.Config, state.Config) is { } change)
        {
            writer.Write(ChangeOfNewer);
            WriteBytes(writer, DesiredStateJson.SerializeChange(change));
            // The cluster policies (VIP, Raft timing, sticky secret) are small: stored whole.
            WriteBytes(writer, DesiredStateJson.Serialize(state with { Config = ProxyConfig.Empty }));
            return;
        }
        writer.Write(WholeState);
        WriteBytes(writer, DesiredStateJson.Serialize(state));
    }

    private static DesiredState ReadRelative(BinaryReader reader, DesiredState newer, InvalidDataException corrupt)
    {
        switch (reader.ReadByte())
        {
            case SameAsNewer:
                return newer;
            case ChangeOfNewer:
                var change = DesiredStateJson.ParseChange(reader.ReadBytes(reader.ReadInt32()));
                var policies = ParseOrThrow(reader.ReadBytes(reader.ReadInt32()), corrupt);
                return change.Succeeded ? policies with { Config = change.Value!.ApplyTo(newer.Config) } : throw corrupt;
            case WholeState:
                return ParseOrThrow(reader.ReadBytes(reader.ReadInt32()), corrupt);
            default:
                throw corrupt;
        }
    }

    private static DesiredState ParseOrThrow(byte[] json, InvalidDataException corrupt)
    {
        var parsed = DesiredStateJson.ParseState(json);
        return parsed.Succeeded ? parsed.Value! : throw corrupt;
    }

    private static void WriteBytes(BinaryWriter writer, byte[] bytes)
    {
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }
}
