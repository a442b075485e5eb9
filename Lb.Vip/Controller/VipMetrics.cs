using System.Diagnostics.Metrics;
using Lb.Core.Cluster;

namespace Lb.Vip.Controller;

/// <summary>Meter <c>Lb.Vip</c>: <c>lb.vip.owned</c> (exported as <c>lb_vip_owned</c>), sampled on scrape.</summary>
internal static class VipMetrics
{
    public const string MeterName = "Lb.Vip";

    public static void Register(IMeterFactory meterFactory, IVipStatusView status)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("lb.vip.owned", () => status.Current.Owned ? 1 : 0, null, "1 while this node holds the cluster VIP, else 0");
    }
}
