using Lb.TestSupport;
using Lb.Core.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;

namespace Lb.Balancing.Tests;

internal sealed class TestLoadBalancerBuilder(IServiceCollection services) : ILoadBalancerBuilder
{
    public IServiceCollection Services { get; } = services;
}

public sealed class KestrelHealthTests
{
    private static ServiceProvider Services() =>
        new TestLoadBalancerBuilder(new ServiceCollection().AddLogging()).AddBalancing().Services.BuildServiceProvider();

    private static Lb.Core.Spec.HealthCheckSpec Check(string path = "/health") =>
        new() { Path = path, Interval = "1s", Timeout = "900ms", ExpectStatus = 200, Rise = 2, Fall = 2 };

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        // Generous: a loaded machine may be slow, but the state must get there.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting until " + what);
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_real_backend_that_flips_its_status_goes_unhealthy_and_back()
    {
        await using var backend = await TestBackend.StartAsync("flipping");
        await using var services = Services();
        var registry = services.GetRequiredService<UpstreamRegistry>();
        var pool = registry.Apply(Configs.Config(("p", Configs.Pool(backend.Address) with { HealthCheck = Check() }))).Pools["p"];
        var target = pool.Targets[0];

        // A first probe slowed down by a loaded machine may time out; the target must end up healthy anyway.
        await WaitUntilAsync(() => target.GetStatus() is { LastCheckedAt: not null, LastError: null, Healthy: true }, "the target is probed healthy");

        backend.HealthStatus = 503;
        await WaitUntilAsync(() => target.GetStatus() is { Healthy: false, LastError: "unexpected status: 503" }, "the target is unhealthy with a 503");

        backend.HealthStatus = 200;
        await WaitUntilAsync(() => target.GetStatus() is { Healthy: true, LastError: null }, "the target is healthy again");
    }

    [Fact]
    public async Task A_tcp_check_passes_on_a_listening_port_whatever_http_says_and_fails_on_a_closed_one()
    {
        await using var backend = await TestBackend.StartAsync("tcp-checked");
        backend.HealthStatus = 503;
        await using var services = Services();
        var registry = services.GetRequiredService<UpstreamRegistry>();
        var tcp = new Lb.Core.Spec.HealthCheckSpec { Type = Lb.Core.Spec.HealthCheckTypes.Tcp, Interval = "1s", Timeout = "900ms" };
        var pool = registry.Apply(Configs.Config(("p", Configs.Pool(backend.Address, "127.0.0.1:1") with { HealthCheck = tcp }))).Pools["p"];

        await WaitUntilAsync(() => pool.Targets[0].GetStatus() is { LastCheckedAt: not null, LastError: null, Healthy: true }, "the listening target is probed healthy");
        await WaitUntilAsync(() => pool.Targets[1].GetStatus() is { Healthy: false, LastError: { } e } && e.StartsWith("dial tcp 127.0.0.1:1: ", StringComparison.Ordinal), "the closed port is unhealthy");
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task Probes_do_not_follow_redirects()
    {
        await using var backend = await TestBackend.StartAsync("flipping");
        await using var services = Services();
        var registry = services.GetRequiredService<UpstreamRegistry>();
        var target = registry.Apply(Configs.Config(("p", Configs.Pool(backend.Address) with { HealthCheck = Check("/moved") }))).Pools["p"].Targets[0];

        await WaitUntilAsync(() => target.GetStatus().LastError == "unexpected status: 302", "a probe sees the 302 itself");

        Assert.False(target.IsAvailable);
    }

    [Fact]
    public async Task A_refused_connection_is_reported_with_the_probe_url()
    {
        await using var services = Services();
        var registry = services.GetRequiredService<UpstreamRegistry>();
        var target = registry.Apply(Configs.Config(("p", Configs.Pool("127.0.0.1:1") with { HealthCheck = Check() }))).Pools["p"].Targets[0];

        await WaitUntilAsync(
            () => target.GetStatus().LastError is { } e && e.StartsWith("Get \"http://127.0.0.1:1/health\": ", StringComparison.Ordinal) && !e.Contains("timeout", StringComparison.Ordinal),
            "a probe reports the refused connection");

        Assert.False(target.IsAvailable);
    }

    [Fact]
    public async Task A_path_that_looks_like_another_host_is_still_probed_on_the_target()
    {
        // The registry trusts validated configs; this is the second line of defence if validation is bypassed.
        await using var target = await TestBackend.StartAsync("target");
        await using var canary = await TestBackend.StartAsync("canary");
        await using var services = Services();
        var registry = services.GetRequiredService<UpstreamRegistry>();
        var check = Check($"//{canary.Address}/x");
        var upstream = registry.Apply(Configs.Config(("p", Configs.Pool(target.Address) with { HealthCheck = check }))).Pools["p"].Targets[0];

        await WaitUntilAsync(() => target.Requests >= 2, "the target itself received probes");

        // Healthy eventually: on a loaded machine one probe may outlive its 900 ms timeout, which is not what this checks.
        await WaitUntilAsync(() => upstream.GetStatus().Healthy, "the target is healthy by its own answers");
        Assert.Equal(0, canary.Requests);
    }
}
