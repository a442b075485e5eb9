using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.Raft.StateMachine;

/// <summary>
/// The command the log carries: replace the desired state (or change it by route and pool id, format 3), optionally only if the current version still equals
/// <see cref="ExpectedVersion"/>. Every node decides the compare-and-set itself when it applies the entry, so all
/// nodes agree on the outcome without asking the leader. The writer's clock and origin travel in the entry, so the
/// history each node keeps from it is the same everywhere.
/// </summary>
/// <param name="ExpectedVersion">Compare-and-set guard; null writes unconditionally.</param>
/// <param name="MinimumVersion">The version the write gets at least (a bootstrap seeds the file store's version so versions never go backwards).</param>
/// <param name="StateJson">The canonical desired-state document.</param>
/// <param name="Origin">Who or what wrote it (history); free text for people.</param>
/// <param name="WrittenAt">When the writer issued it (history); null in entries of format 1.</param>
/// <param name="IsChange">
/// Format 3: <see cref="StateJson"/> holds a <see cref="ConfigChange"/> (routes and pools by id) to apply to the state
/// current at commit time instead of a whole document, so a one-route edit of a large configuration is a small entry
/// that every node parses, validates and applies in proportion to the change.
/// </param>
/// <param name="IsAdminUrl">
/// Format 4: not a desired-state write but a member's admin URL (<see cref="Origin"/> = node id, <see cref="StateJson"/> =
/// the URL), replicated so every member forwards writes to where that member listens now, even after it restarted on
/// another port (DotNext's member metadata is fixed when a member starts, before its admin listener has bound).
/// </param>
internal sealed record PutCommand(long? ExpectedVersion, long MinimumVersion, ReadOnlyMemory<byte> StateJson, string Origin = "", DateTimeOffset? WrittenAt = null, bool IsChange = false,
    bool IsAdminUrl = false)
{
    private const byte FormatV1 = 1;
    private const byte FormatV2 = 2;
    private const byte FormatV3Change = 3;
    private const byte FormatV4AdminUrl = 4;
    private const int HeaderV1 = 1 + 1 + sizeof(long) + sizeof(long);
    private const int MaxOriginBytes = 1024;

    public static PutCommand Create(DesiredState state, long? expectedVersion, string origin, DateTimeOffset writtenAt, long minimumVersion = 0) =>
        new(expectedVersion, minimumVersion, DesiredStateJson.Serialize(state), origin, writtenAt);

    public static PutCommand CreateChange(ConfigChange change, long? expectedVersion, string origin, DateTimeOffset writtenAt) =>
        new(expectedVersion, 0, DesiredStateJson.SerializeChange(change), origin, writtenAt, IsChange: true);

    public static PutCommand CreateAdminUrl(string nodeId, string adminUrl, DateTimeOffset writtenAt) =>
        new(null, 0, Encoding.UTF8.GetBytes(adminUrl), nodeId, writtenAt, IsAdminUrl: true);

    public byte[] Encode()
    {
        var origin = Encoding.UTF8.GetBytes(Origin);
        if (origin.Length > MaxOriginBytes)
        {
            origin = origin[..MaxOriginBytes];
        }
        // Format 2: the v1 header, then written-at (unix ms), origin length and origin bytes, then the state.
        var header = HeaderV1 + sizeof(long) + sizeof(ushort) + origin.Length;
        var bytes = new byte[header + StateJson.Length];
        bytes[0] = IsAdminUrl ? FormatV4AdminUrl : IsChange ? FormatV3Change : FormatV2;
        bytes[1] = ExpectedVersion.HasValue ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), ExpectedVersion ?? 0);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(10), MinimumVersion);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(18), (WrittenAt ?? DateTimeOffset.UnixEpoch).ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(26), (ushort)origin.Length);
        origin.CopyTo(bytes.AsSpan(28));
        StateJson.Span.CopyTo(bytes.AsSpan(header));
        return bytes;
    }

    /// <summary>Decodes a log entry payload; null when it is not a command this version understands.</summary>
    public static PutCommand? Decode(in ReadOnlySequence<byte> payload)
    {
        if (payload.Length < HeaderV1)
        {
            return null;
        }
        var bytes = payload.ToArray();
        long? expected = bytes[1] == 1 ? BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(2)) : null;
        var minimum = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(10));
        switch (bytes[0])
        {
            case FormatV1:
                return new PutCommand(expected, minimum, bytes.AsMemory(HeaderV1));
            case FormatV2 or FormatV3Change or FormatV4AdminUrl when bytes.Length >= HeaderV1 + sizeof(long) + sizeof(ushort):
                var writtenAtMs = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(18));
                if (writtenAtMs is < 0 or > 253_402_300_799_999)
                {
                    return null;
                }
                var writtenAt = DateTimeOffset.FromUnixTimeMilliseconds(writtenAtMs);
                var originLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(26));
                if (bytes.Length < 28 + originLength)
                {
                    return null;
                }
                var origin = Encoding.UTF8.GetString(bytes, 28, originLength);
                return new PutCommand(expected, minimum, bytes.AsMemory(28 + originLength), origin, writtenAt, bytes[0] == FormatV3Change, bytes[0] == FormatV4AdminUrl);
            default:
                return null;
        }
    }
}
