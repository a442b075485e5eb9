using Lb.Core.Cluster;
using Lb.Vip.Controller;
using Lb.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Lb.Vip.Tests;

public sealed class CompositionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private IHost Build(Action<VipOptions>? configure = null, string vipAddress = "")
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddLoadBalancer(configure: o =>
        {
            o.RaftDataDir = _dir.Path;
            o.VipAddress = vipAddress;
            o.VipInterface = vipAddress.Length > 0 ? "nosuch0" : "";
        }).AddVip(configure);
        return builder.Build();
    }

    [Fact]
    public async Task AddVip_makes_the_controller_the_status_view_and_a_hosted_service_that_follows_the_standalone_lease()
    {
        using var host = Build();
        var controller = host.Services.GetRequiredService<VipController>();

        Assert.Same(controller, host.Services.GetRequiredService<IVipStatusView>());
        Assert.Contains(controller, host.Services.GetServices<IHostedService>());
        Assert.NotNull(host.Services.GetRequiredService<ILeadershipView>().CurrentLease); // standalone: always leads

        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);
        Assert.Equal(VipState.Stopped, controller.State);
        Assert.False(controller.Current.Enabled);
    }

    [Fact]
    public async Task Invalid_vip_options_stop_the_host_at_start_with_the_option_named()
    {
        using var host = Build(o => o.GarpCount = 0);

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("GarpCount 0 must be between 1 and 100", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
