using Lb.Core.Options;
using Lb.Core.Store;
using Microsoft.Extensions.Options;

namespace Lb.Core.Cluster;

/// <summary>The default <see cref="IVipStatusView"/> without a VIP controller: the configuration, never owned.</summary>
internal sealed class ConfiguredVipStatusView(IDesiredStateStore store, IOptions<LbNodeOptions> options) : IVipStatusView
{
    public VipStatus Current
    {
        get
        {
            var address = store.Current.State.Vip?.Address;
            var vipInterface = options.Value.VipInterface;
            return new VipStatus
            {
                Enabled = !string.IsNullOrEmpty(address),
                Interface = vipInterface.Length > 0 ? vipInterface : null,
                Address = string.IsNullOrEmpty(address) ? null : address,
            };
        }
    }
}
