using Lb.Core.Options;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Core.Tests;

public sealed class VipPolicyTests
{
    [Theory]
    [InlineData("10.0.0.100/24", "10.0.0.100", 24)]
    [InlineData("192.168.0.100/32", "192.168.0.100", 32)]
    [InlineData("10.0.0.1/0", "10.0.0.1", 0)]
    public void A_vip_keeps_its_host_address_and_prefix(string text, string address, int prefix)
    {
        Assert.True(VipCidr.TryParse(text, out var vip, out _));
        Assert.Equal(System.Net.IPAddress.Parse(address), vip.Address);
        Assert.Equal(prefix, vip.PrefixLength);
        Assert.Equal(text, vip.ToString());
    }

    [Theory]
    [InlineData("10.0.0.100", "vip address must be CIDR")]
    [InlineData("10.0.0.100/", "vip address must be CIDR")]
    [InlineData("10.0.0.100/33", "vip address must be CIDR")]
    [InlineData("10.0.0.100/-1", "vip address must be CIDR")]
    [InlineData("10.1/16", "vip address must be CIDR")]
    [InlineData("/24", "vip address must be CIDR")]
    [InlineData("eth0/24", "vip address must be CIDR")]
    [InlineData("fd00::100/64", "vip address must be IPv4")]
    public void A_vip_that_is_not_ipv4_cidr_is_refused_with_the_reference_message(string text, string message)
    {
        Assert.False(VipCidr.TryParse(text, out _, out var error));
        Assert.Equal(message, error);
    }

    [Fact]
    public void Every_policy_error_is_invalid_vip_with_its_field()
    {
        var errors = VipPolicyValidator.Validate(new VipPolicy { Address = "10.0.0.100", GarpCount = -1, GarpInterval = "fast", AcquireDelay = "-1s" });

        Assert.All(errors, e => Assert.Equal("invalid_vip", e.Code));
        Assert.Equal(
            [("vip.address", "vip address must be CIDR"), ("vip.garp_count", "vip garp count must be at least 1"),
             ("vip.garp_interval", "vip garp interval must be a duration"), ("vip.acquire_delay", "vip acquire delay must be a duration of zero or more")],
            errors.Select(e => (e.Field, e.Message)));
    }

    [Fact]
    public void A_policy_without_an_address_is_refused_and_zero_counts_take_the_default()
    {
        Assert.Equal(["vip.address"], VipPolicyValidator.Validate(new VipPolicy()).Select(e => e.Field));
        Assert.Empty(VipPolicyValidator.Validate(new VipPolicy { Address = "10.0.0.100/24", GarpCount = 0, GarpInterval = "100ms", AcquireDelay = "0s" }));
    }

    [Fact]
    public void App_json_accepts_a_vip_address_with_its_interface()
    {
        var options = BootFile.Parse("""{"vipInterface":"eth0","vipAddress":"10.0.0.100/24"}"""u8);
        Assert.Equal(("eth0", "10.0.0.100/24"), (options.VipInterface, options.VipAddress));
    }
}
