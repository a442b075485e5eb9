using System.Buffers.Binary;
using System.Net;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Lb.Vip.Tests;

/// <summary>One ARP frame as seen on the wire.</summary>
internal sealed record CapturedArp(string DestinationMac, string SourceMac, int Operation, string SenderMac, IPAddress SenderIp, string TargetMac, IPAddress TargetIp, int Length);

/// <summary>An AF_PACKET socket that receives every ARP frame arriving on one interface of a namespace.</summary>
internal sealed unsafe class ArpCapture : IDisposable
{
    private readonly int _fd;

    private ArpCapture(int fd) => _fd = fd;

    /// <summary>Opens the capture inside <paramref name="ns"/> (the socket keeps that namespace).</summary>
    public static ArpCapture Open(string ns, int index) => NetnsLab.In(ns, () =>
    {
        const ushort ethPArp = 0x0806;
        var fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ethPArp));
        Assert.True(fd >= 0, $"AF_PACKET socket: errno {errno}");
        sockaddr_ll at = default;
        at.sll_family = (ushort)AF_PACKET;
        at.sll_protocol = htons(ethPArp);
        at.sll_ifindex = index;
        Assert.Equal(0, bind(fd, (sockaddr*)&at, (socklen_t)sizeof(sockaddr_ll)));
        return new ArpCapture(fd);
    });

    /// <summary>Frames received until none arrives for <paramref name="quiet"/>.</summary>
    public List<CapturedArp> Drain(TimeSpan quiet)
    {
        var frames = new List<CapturedArp>();
        var buffer = new byte[2048];
        while (true)
        {
            var poll = new pollfd { fd = _fd, events = POLLIN };
            if (LibC.poll(&poll, 1, (int)quiet.TotalMilliseconds) <= 0)
            {
                return frames;
            }
            long n;
            fixed (byte* p = buffer)
            {
                n = recv(_fd, p, buffer.Length, 0);
            }
            if (n >= 42)
            {
                frames.Add(Parse(buffer.AsSpan(0, (int)n)));
            }
        }
    }

    private static CapturedArp Parse(ReadOnlySpan<byte> f)
    {
        var arp = f[14..];
        return new CapturedArp(
            Mac(f[..6]), Mac(f[6..12]), BinaryPrimitives.ReadUInt16BigEndian(arp[6..]),
            Mac(arp[8..14]), new IPAddress(arp[14..18]), Mac(arp[18..24]), new IPAddress(arp[24..28]), f.Length);
    }

    private static string Mac(ReadOnlySpan<byte> b) => string.Join(':', b.ToArray().Select(x => x.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    public void Dispose() => close(_fd);
}
