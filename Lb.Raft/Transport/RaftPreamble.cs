using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace Lb.Raft.Transport;

/// <summary>
/// The first bytes of every connection Lb opens to a Raft peer: a marker and the opener's advertised Raft address, so
/// the receiving node knows whose connection it is (a leader's heartbeat connection closing is how its followers learn
/// at once that its process died). A connection without it (a DotNext TCP client) is passed through untouched: its
/// first byte is a DotNext message type, never the marker.
/// </summary>
internal static class RaftPreamble
{
    private static ReadOnlySpan<byte> Marker => [0xFF, (byte)'L', (byte)'b', (byte)'R'];

    private const int MaxAddressBytes = 255;

    public static async ValueTask WriteAsync(PipeWriter output, string address, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetBytes(address);
        if (text.Length > MaxAddressBytes)
        {
            throw new ArgumentException($"The Raft address '{address}' is longer than {MaxAddressBytes} bytes.", nameof(address));
        }
        var span = output.GetSpan(Marker.Length + 1 + text.Length);
        Marker.CopyTo(span);
        span[Marker.Length] = (byte)text.Length;
        text.CopyTo(span[(Marker.Length + 1)..]);
        output.Advance(Marker.Length + 1 + text.Length);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the preamble if the connection starts with one and returns the address in it; otherwise consumes nothing
    /// and returns null.
    /// </summary>
    public static async ValueTask<string?> ReadAsync(PipeReader input, CancellationToken cancellationToken)
    {
        var header = Marker.Length + 1;
        var head = new byte[header];
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var known = (int)Math.Min(buffer.Length, header);
            buffer.Slice(0, known).CopyTo(head);
            if (!head.AsSpan(0, Math.Min(known, Marker.Length)).SequenceEqual(Marker[..Math.Min(known, Marker.Length)]))
            {
                input.AdvanceTo(buffer.Start);
                return null;
            }
            if (known == header && buffer.Length >= header + head[Marker.Length])
            {
                var address = Encoding.UTF8.GetString(buffer.Slice(header, head[Marker.Length]));
                input.AdvanceTo(buffer.GetPosition(header + head[Marker.Length]));
                return address;
            }
            if (result.IsCompleted)
            {
                input.AdvanceTo(buffer.Start);
                return null;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
