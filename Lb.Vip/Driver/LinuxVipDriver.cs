using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Lb.Core.Spec;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Lb.Vip.Driver;

/// <summary>
/// The Linux driver: rtnetlink (<c>RTM_NEWADDR</c>/<c>RTM_DELADDR</c>) for the address and an <c>AF_PACKET</c> socket
/// for gratuitous ARP; the equivalent of <c>ip addr add|del</c> and <c>arping -U/-A</c> without running either.
/// Needs CAP_NET_ADMIN (address) and CAP_NET_RAW (ARP). Sockets live for one call: operations are rare and a fresh
/// socket never carries a stale reply or the network namespace of an earlier thread.
/// </summary>
internal sealed unsafe partial class LinuxVipDriver : IVipDriver
{
    private const int ReplyTimeoutSeconds = 5;

    public void AddAddress(string interfaceName, VipCidr address, TimeSpan lifetime)
    {
        var index = InterfaceIndex(interfaceName, "add");
        // CREATE|REPLACE: add, or refresh the lifetime of the identical address already there.
        var errno = NetlinkAddressRequest(RtmNewAddr, NlmFCreate | NlmFReplace, index, address, lifetime);
        // EEXIST (kernels that refuse the replace): the identical address/prefix is already there: ours now.
        if (errno != 0 && errno != EEXIST)
        {
            throw Failure("add", interfaceName, address, errno);
        }
    }

    public void RemoveAddress(string interfaceName, VipCidr address)
    {
        int index;
        try
        {
            index = InterfaceIndex(interfaceName, "remove");
        }
        catch (VipDriverException ex) when (ex.Errno == ENODEV)
        {
            // No interface, no address on it: what a removal wants.
            return;
        }
        var errno = NetlinkAddressRequest(RtmDelAddr, 0, index, address, Timeout.InfiniteTimeSpan);
        if (errno != 0 && errno != EADDRNOTAVAIL && errno != ENOENT)
        {
            throw Failure("remove", interfaceName, address, errno);
        }
    }

    public void AnnounceAddress(string interfaceName, VipCidr address)
    {
        var (index, mac) = InterfaceIndexAndMac(interfaceName);
        var fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(EthPArp));
        if (fd < 0)
        {
            throw Failure("garp announce", interfaceName, address, errno, "CAP_NET_RAW");
        }
        try
        {
            Span<byte> frame = stackalloc byte[ArpFrame.Length];
            sockaddr_ll to = default;
            to.sll_family = (ushort)AF_PACKET;
            to.sll_protocol = htons(EthPArp);
            to.sll_ifindex = index;
            to.sll_halen = 6;
            for (var i = 0; i < 6; i++)
            {
                to.sll_addr[i] = 0xff;
            }
            foreach (var operation in (ReadOnlySpan<ushort>)[ArpFrame.Request, ArpFrame.Reply])
            {
                ArpFrame.Write(frame, operation, mac, address.Address);
                fixed (byte* p = frame)
                {
                    if (sendto(fd, p, frame.Length, 0, (sockaddr*)&to, (socklen_t)sizeof(sockaddr_ll)) < 0)
                    {
                        throw Failure("garp announce", interfaceName, address, errno, "CAP_NET_RAW");
                    }
                }
            }
        }
        finally
        {
            close(fd);
        }
    }

    private static VipDriverException Failure(string operation, string interfaceName, VipCidr address, int errno, string capability = "CAP_NET_ADMIN")
    {
        var reason = Marshal.GetPInvokeErrorMessage(errno);
        var fix = errno == EPERM || errno == EACCES
            ? $" (run as root or grant {capability}, e.g. systemd AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW)"
            : errno == ENODEV ? $" (no interface '{interfaceName}' on this host: check vipInterface)" : "";
        return new VipDriverException($"vip {operation} failed: {address} on {interfaceName}: {reason}{fix}") { Errno = errno };
    }
}
