using Lb.Core.Spec;

namespace Lb.Vip.Driver;

/// <summary>Stands in on systems without rtnetlink: every call reports why, the controller shows it in <c>last_error</c>.</summary>
internal sealed class UnsupportedVipDriver : IVipDriver
{
    private static VipDriverException NotLinux(string operation) =>
        new($"vip {operation} failed: VIP management needs Linux (rtnetlink and AF_PACKET); this host runs {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");

    public void AddAddress(string interfaceName, VipCidr address, TimeSpan lifetime) => throw NotLinux("add");

    public void RemoveAddress(string interfaceName, VipCidr address) => throw NotLinux("remove");

    public void AnnounceAddress(string interfaceName, VipCidr address) => throw NotLinux("garp announce");
}
