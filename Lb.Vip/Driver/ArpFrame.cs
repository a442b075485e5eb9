using System.Buffers.Binary;
using System.Net;

namespace Lb.Vip.Driver;

/// <summary>An Ethernet broadcast frame carrying a gratuitous ARP for one IPv4 address (RFC 826, RFC 5227 §3).</summary>
internal static class ArpFrame
{
    public const ushort Request = 1;
    public const ushort Reply = 2;

    /// <summary>Ethernet minimum frame without FCS: 14 header + 28 ARP + 18 padding. veth does not pad for us.</summary>
    public const int Length = 60;

    private const ushort EtherTypeArp = 0x0806;
    private const ushort EtherTypeIpv4 = 0x0800;

    /// <summary>
    /// Writes a gratuitous ARP: sender and target protocol address are both <paramref name="address"/>. The request
    /// leaves the target MAC zero (RFC 5227 announcement, what <c>arping -U</c> sends); the reply names the broadcast
    /// MAC as target (what <c>arping -A</c> and the reference send).
    /// </summary>
    public static void Write(Span<byte> frame, ushort operation, ReadOnlySpan<byte> mac, IPAddress address)
    {
        frame.Clear();
        frame[..6].Fill(0xff);
        mac.CopyTo(frame[6..12]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EtherTypeArp);
        var arp = frame[14..];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1); // Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], EtherTypeIpv4);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], operation);
        mac.CopyTo(arp[8..14]);
        address.TryWriteBytes(arp[14..18], out _);
        if (operation == Reply)
        {
            arp[18..24].Fill(0xff);
        }
        address.TryWriteBytes(arp[24..28], out _);
    }
}
