using Lb.Core.Options;
using Lb.Core.Runtime;
using Lb.Core.Store;
using Lb.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Lb.Core.Tests;

public sealed class CompositionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AddLoadBalancer_twice_registers_each_service_once()
    {
        var services = new ServiceCollection();
        services.AddLoadBalancer(configure: o => o.RaftDataDir = _dir.Path);
        var count = services.Count;
        services.AddLoadBalancer(configure: o => o.RaftDataDir = _dir.Path);
        Assert.Single(services, d => d.ServiceType == typeof(IDesiredStateStore));
        Assert.Single(services, d => d.ServiceType == typeof(TimeProvider));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<LbNodeOptions>));
        Assert.True(services.Count - count <= 3, "only the options callbacks may be added again");

        using var provider = services.BuildServiceProvider();
        var store = Assert.IsType<ActiveDesiredStateStore>(provider.GetRequiredService<IDesiredStateStore>());
        var file = Assert.IsType<FileDesiredStateStore>(store.Inner);
        Assert.Equal(_dir.Path, file.DataDirectory);
    }

    [Fact]
    public void A_store_registered_first_wins_over_the_file_store_default()
    {
        var services = new ServiceCollection();
        var own = new FileDesiredStateStore(_dir.Path);
        services.AddSingleton<IDesiredStateStore>(own);
        services.AddLoadBalancer();
        using var provider = services.BuildServiceProvider();
        Assert.Same(own, provider.GetRequiredService<IDesiredStateStore>());
    }

    [Fact]
    public async Task Invalid_node_options_stop_the_host_on_start_with_the_setting_named()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddLoadBalancer(configure: o =>
        {
            o.ProxyListenAddr = "nope";
            o.RaftDataDir = _dir.Path;
        });
        using var host = builder.Build();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("proxyListenAddr 'nope' must be host:port", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Snapshot_holder_swaps_atomically_and_counts_generations()
    {
        var holder = new RuntimeSnapshotHolder<string>("a");
        Assert.Equal("a", holder.Current);
        Assert.Equal("a", holder.Publish("b"));
        Assert.Equal("b", holder.Current);
        Assert.Equal(1, holder.Generation);
    }
}
