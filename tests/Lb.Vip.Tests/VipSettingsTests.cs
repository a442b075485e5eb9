using Lb.Core.Options;
using Lb.Core.Spec;
using Lb.Vip.Controller;

namespace Lb.Vip.Tests;

public sealed class VipSettingsTests
{
    private static readonly LbNodeOptions Node = new() { VipInterface = "eth0", VipAddress = "10.0.0.100/24" };

    [Fact]
    public void App_json_alone_gives_the_address_and_the_package_defaults()
    {
        var settings = VipSettings.Resolve(Node, new VipOptions(), desired: null, out var error);

        Assert.Null(error);
        Assert.Equal(("eth0", "10.0.0.100/24", 3, TimeSpan.FromMilliseconds(100), TimeSpan.Zero, true),
            (settings!.Interface, settings.Address.ToString(), settings.GarpCount, settings.GarpInterval, settings.AcquireDelay, settings.ReleaseOnShutdown));
    }

    [Fact]
    public void The_replicated_policy_wins_over_app_json_but_the_interface_stays_local()
    {
        var desired = new VipPolicy { Address = "10.0.0.200/24", GarpCount = 5, GarpInterval = "200ms", AcquireDelay = "500ms", ReleaseOnShutdown = false };

        var settings = VipSettings.Resolve(Node, new VipOptions(), desired, out _);

        Assert.Equal(("eth0", "10.0.0.200/24", 5, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500), false),
            (settings!.Interface, settings.Address.ToString(), settings.GarpCount, settings.GarpInterval, settings.AcquireDelay, settings.ReleaseOnShutdown));
    }

    [Fact]
    public void A_replicated_policy_that_fails_validation_turns_the_vip_off_with_the_reason()
    {
        var settings = VipSettings.Resolve(Node, new VipOptions(), new VipPolicy { Address = "10.0.0.200" }, out var error);

        Assert.Null(settings);
        Assert.Equal("vip policy rejected: vip.address: vip address must be CIDR", error);
    }

    [Fact]
    public void An_address_without_an_interface_on_this_node_is_reported_not_acted_on()
    {
        var settings = VipSettings.Resolve(new LbNodeOptions(), new VipOptions(), new VipPolicy { Address = "10.0.0.200/24" }, out var error);

        Assert.Null(settings);
        Assert.Contains("vipInterface is empty on this node", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_differing_only_in_announcement_policy_name_the_same_address()
    {
        var a = VipSettings.Resolve(Node, new VipOptions(), null, out _)!;
        var b = VipSettings.Resolve(Node, new VipOptions { GarpCount = 7 }, null, out _)!;

        Assert.NotEqual(a, b);
        Assert.True(a.SameAddress(b));
        Assert.False(a.SameAddress(a with { Interface = "eth1" }));
    }
}
