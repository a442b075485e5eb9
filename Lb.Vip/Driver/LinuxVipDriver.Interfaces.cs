using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Lb.Vip.Driver;

// Interface lookups with SIOCGIFINDEX/SIOCGIFHWADDR on a socket of the calling thread's network namespace
// (System.Net.NetworkInformation also reads /sys, which belongs to the mount namespace instead).
internal sealed unsafe partial class LinuxVipDriver
{
    // struct ifreq: char ifr_name[IFNAMSIZ]; union { int ifindex; struct sockaddr hwaddr; ... } (24 bytes).
    private const int IfNameSize = 16;
    private const int IfreqSize = 40;

    private static int InterfaceIndex(string interfaceName, string operation)
    {
        Span<byte> ifreq = stackalloc byte[IfreqSize];
        Ioctl(interfaceName, SIOCGIFINDEX, ifreq, operation);
        return System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(ifreq[IfNameSize..]);
    }

    private static (int Index, byte[] Mac) InterfaceIndexAndMac(string interfaceName)
    {
        var index = InterfaceIndex(interfaceName, "garp announce");
        Span<byte> ifreq = stackalloc byte[IfreqSize];
        Ioctl(interfaceName, SIOCGIFHWADDR, ifreq, "garp announce");
        // sockaddr: sa_family (2 bytes), then the hardware address in sa_data.
        return (index, ifreq.Slice(IfNameSize + 2, 6).ToArray());
    }

    private static void Ioctl(string interfaceName, int request, Span<byte> ifreq, string operation)
    {
        ifreq.Clear();
        if (interfaceName.Length == 0 || Encoding.ASCII.GetByteCount(interfaceName) >= IfNameSize)
        {
            throw new VipDriverException($"vip {operation} failed: '{interfaceName}' is not an interface name (1–15 characters)") { Errno = ENODEV };
        }
        Encoding.ASCII.GetBytes(interfaceName, ifreq);
        var fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new VipDriverException($"vip {operation} failed: cannot open a socket: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}") { Errno = errno };
        }
        try
        {
            fixed (byte* p = ifreq)
            {
                if (ioctl(fd, request, p) < 0)
                {
                    var e = errno;
                    var reason = e == ENODEV
                        ? $"no interface '{interfaceName}' on this host (check vipInterface; `ip link` lists them)"
                        : System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(e);
                    throw new VipDriverException($"vip {operation} failed: {reason}") { Errno = e };
                }
            }
        }
        finally
        {
            close(fd);
        }
    }
}
