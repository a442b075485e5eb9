using Lb.Core.Options;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Vip.Controller;

/// <summary>
/// The VIP settings in effect on this node: the interface is always local; the address and announcement policy come
/// from the replicated policy when there is one, else from the node options. Value equality: a config write that
/// leaves these equal must not touch the VIP.
/// </summary>
internal sealed record VipSettings(string Interface, VipCidr Address, int GarpCount, TimeSpan GarpInterval, TimeSpan AcquireDelay, bool ReleaseOnShutdown)
{
    /// <summary>The effective settings, or null (with <paramref name="error"/> when misconfigured) when the VIP is off.</summary>
    public static VipSettings? Resolve(LbNodeOptions node, VipOptions options, VipPolicy? desired, out string? error)
    {
        error = null;
        var address = desired is { Address.Length: > 0 } ? desired.Address : node.VipAddress;
        if (string.IsNullOrEmpty(address))
        {
            return null;
        }
        if (desired is { Address.Length: > 0 } && VipPolicyValidator.Validate(desired) is [var first, ..])
        {
            error = $"vip policy rejected: {first.Field}: {first.Message}";
            return null;
        }
        if (!VipCidr.TryParse(address, out var cidr, out var cidrError))
        {
            error = $"vip policy rejected: vipAddress: {cidrError}";
            return null;
        }
        if (node.VipInterface.Length == 0)
        {
            error = "vip address is configured but vipInterface is empty on this node; set vipInterface in app.json";
            return null;
        }
        return new VipSettings(
            node.VipInterface,
            cidr,
            desired?.GarpCount is > 0 and var count ? count : options.GarpCount,
            Duration(desired?.GarpInterval) ?? options.GarpInterval,
            Duration(desired?.AcquireDelay) ?? options.AcquireDelay,
            desired?.ReleaseOnShutdown ?? options.ReleaseOnShutdown);
    }

    /// <summary>True when both name the same address on the same interface (only the announcement policy may differ).</summary>
    public bool SameAddress(VipSettings? other) => other is not null && other.Interface == Interface && other.Address == Address;

    private static TimeSpan? Duration(string? text) => text is not null && GoDuration.TryParse(text, out var value, out _) ? value : null;
}
