using System.Buffers.Binary;
using Lb.Core.Spec;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Lb.Vip.Driver;

// rtnetlink address requests (linux/netlink.h, linux/rtnetlink.h, linux/if_addr.h); Tmds.LibC has no netlink types.
internal sealed unsafe partial class LinuxVipDriver
{
    private const int NetlinkRoute = 0;
    private const ushort RtmNewAddr = 20;
    private const ushort RtmDelAddr = 21;
    private const ushort NlmsgError = 2;
    private const ushort NlmFRequest = 0x1;
    private const ushort NlmFAck = 0x4;
    private const ushort NlmFReplace = 0x100;
    private const ushort NlmFCreate = 0x400;
    private const ushort IfaAddress = 1;
    private const ushort IfaLocal = 2;
    private const ushort IfaCacheinfo = 6;
    private const ushort EthPArp = 0x0806;

    // nlmsghdr (16) + ifaddrmsg (8) + two 8-byte rtattrs with an IPv4 address each [+ IFA_CACHEINFO: 4 + 16].
    private const int AddressRequestLength = 16 + 8 + 8 + 8;
    private const int CacheinfoLength = 4 + 16;

    private static int s_sequence;

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint Pid;
        public uint Groups;
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct Timeval
    {
        public long Seconds;
        public long Microseconds;
    }

    /// <summary>Sends one address request and returns the kernel's answer as an errno (0 = done).</summary>
    private static int NetlinkAddressRequest(ushort type, ushort flags, int interfaceIndex, VipCidr address, TimeSpan lifetime)
    {
        var finite = lifetime != Timeout.InfiniteTimeSpan;
        var length = AddressRequestLength + (finite ? CacheinfoLength : 0);
        var fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NetlinkRoute);
        if (fd < 0)
        {
            return errno;
        }
        try
        {
            var timeout = new Timeval { Seconds = ReplyTimeoutSeconds };
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, (socklen_t)sizeof(Timeval));

            var sequence = (uint)Interlocked.Increment(ref s_sequence);
            Span<byte> request = stackalloc byte[AddressRequestLength + CacheinfoLength];
            request = request[..length];
            request.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)length);
            BinaryPrimitives.WriteUInt16LittleEndian(request[4..], type);
            BinaryPrimitives.WriteUInt16LittleEndian(request[6..], (ushort)(NlmFRequest | NlmFAck | flags));
            BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
            var ifa = request[16..];
            ifa[0] = (byte)(int)AF_INET;
            ifa[1] = (byte)address.PrefixLength;
            BinaryPrimitives.WriteInt32LittleEndian(ifa[4..], interfaceIndex);
            // Host byte order for rtattr headers, network byte order for the address (as the kernel expects).
            WriteAddressAttribute(request[24..], IfaLocal, address);
            WriteAddressAttribute(request[32..], IfaAddress, address);
            if (finite)
            {
                // struct ifa_cacheinfo { u32 ifa_prefered, ifa_valid, cstamp, tstamp } in seconds.
                var seconds = (uint)Math.Clamp(Math.Ceiling(lifetime.TotalSeconds), 1, uint.MaxValue - 1);
                var cacheinfo = request[AddressRequestLength..];
                BinaryPrimitives.WriteUInt16LittleEndian(cacheinfo, CacheinfoLength);
                BinaryPrimitives.WriteUInt16LittleEndian(cacheinfo[2..], IfaCacheinfo);
                BinaryPrimitives.WriteUInt32LittleEndian(cacheinfo[4..], seconds);
                BinaryPrimitives.WriteUInt32LittleEndian(cacheinfo[8..], seconds);
            }

            var kernel = new SockaddrNl { Family = (ushort)(int)AF_NETLINK };
            fixed (byte* p = request)
            {
                if (sendto(fd, p, length, 0, (sockaddr*)&kernel, (socklen_t)sizeof(SockaddrNl)) < 0)
                {
                    return errno;
                }
            }
            return ReadAck(fd, sequence);
        }
        finally
        {
            close(fd);
        }
    }

    private static void WriteAddressAttribute(Span<byte> attribute, ushort type, VipCidr address)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(attribute, 8);
        BinaryPrimitives.WriteUInt16LittleEndian(attribute[2..], type);
        address.Address.TryWriteBytes(attribute[4..8], out _);
    }

    /// <summary>Reads until the NLMSG_ERROR that acknowledges <paramref name="sequence"/>; returns its errno.</summary>
    private static int ReadAck(int fd, uint sequence)
    {
        Span<byte> buffer = stackalloc byte[8192];
        while (true)
        {
            long received;
            fixed (byte* p = buffer)
            {
                received = recv(fd, p, buffer.Length, 0);
            }
            if (received < 0)
            {
                var e = errno;
                if (e == EINTR)
                {
                    continue;
                }
                return e;
            }
            var messages = buffer[..(int)received];
            while (messages.Length >= 16)
            {
                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(messages);
                if (length < 16 || length > messages.Length)
                {
                    return EPROTO;
                }
                var type = BinaryPrimitives.ReadUInt16LittleEndian(messages[4..]);
                var seq = BinaryPrimitives.ReadUInt32LittleEndian(messages[8..]);
                if (type == NlmsgError && seq == sequence && length >= 20)
                {
                    return -BinaryPrimitives.ReadInt32LittleEndian(messages[16..]);
                }
                messages = messages[Math.Min(messages.Length, (length + 3) & ~3)..];
            }
        }
    }
}
