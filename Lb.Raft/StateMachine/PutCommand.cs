using System.Buffers;
using System.Buffers.Binary;
using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.Raft.StateMachine;

/// <summary>
/// The one command the log carries: replace the desired state, optionally only if the current version still equals
/// <see cref="ExpectedVersion"/>. Every node decides the compare-and-set itself when it applies the entry, so all
/// nodes agree on the outcome without asking the leader.
/// </summary>
/// <param name="ExpectedVersion">Compare-and-set guard; null writes unconditionally.</param>
/// <param name="MinimumVersion">The version the write gets at least (a bootstrap seeds the file store's version so versions never go backwards).</param>
/// <param name="StateJson">The canonical desired-state document.</param>
internal sealed record PutCommand(long? ExpectedVersion, long MinimumVersion, ReadOnlyMemory<byte> StateJson)
{
    private const byte FormatVersion = 1;
    private const int HeaderSize = 1 + 1 + sizeof(long) + sizeof(long);

    public static PutCommand Create(DesiredState state, long? expectedVersion, long minimumVersion = 0) =>
        new(expectedVersion, minimumVersion, DesiredStateJson.Serialize(state));

    public byte[] Encode()
    {
        var bytes = new byte[HeaderSize + StateJson.Length];
        bytes[0] = FormatVersion;
        bytes[1] = ExpectedVersion.HasValue ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), ExpectedVersion ?? 0);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(10), MinimumVersion);
        StateJson.Span.CopyTo(bytes.AsSpan(HeaderSize));
        return bytes;
    }

    /// <summary>Decodes a log entry payload; null when it is not a command this version understands.</summary>
    public static PutCommand? Decode(in ReadOnlySequence<byte> payload)
    {
        if (payload.Length < HeaderSize)
        {
            return null;
        }
        var bytes = payload.ToArray();
        if (bytes[0] != FormatVersion)
        {
            return null;
        }
        long? expected = bytes[1] == 1 ? BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(2)) : null;
        var minimum = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(10));
        return new PutCommand(expected, minimum, bytes.AsMemory(HeaderSize));
    }
}
