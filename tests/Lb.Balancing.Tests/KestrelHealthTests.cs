using Lb.Core.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lb.Balancing.Tests;

/// <summary>A real Kestrel backend on loopback whose health status the test flips.</summary>
internal sealed class FlippingBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _status = StatusCodes.Status200OK;

    private FlippingBackend(WebApplication app) => _app = app;

    public string Address { get; private set; } = "";

    public int Status
    {
        get => Volatile.Read(ref _status);
        set => Volatile.Write(ref _status, value);
    }

    public static async Task<FlippingBackend> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var backend = new FlippingBackend(app);
        app.MapGet("/healthz", () => Results.StatusCode(backend.Status));
        app.MapGet("/moved", () => Results.Redirect("/healthz"));
        await app.StartAsync(TestContext.Current.CancellationToken);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        backend.Address = new Uri(url).Authority;
        // Warm the server up so the first probe is not judged on JIT time.
        using var client = new HttpClient();
        using var _ = await client.GetAsync(new Uri(new Uri(url), "/healthz"), TestContext.Current.CancellationToken);
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed class TestLoadBalancerBuilder(IServiceCollection services) : ILoadBalancerBuilder
{
    public IServiceCollection Services { get; } = services;
}

public sealed class KestrelHealthTests
{
    private static ServiceProvider Services() =>
        new TestLoadBalancerBuilder(new ServiceCollection().AddLogging()).AddBalancing().Services.BuildServiceProvider();

    private static Lb.Core.Spec.HealthCheckSpec Check(string path = "/healthz") =>
        new() { Path = path, Interval = "300ms", Timeout = "250ms", ExpectStatus = 200, Rise = 2, Fall = 2 };

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
        await using var backend = await FlippingBackend.StartAsync();
        await using var services = Services();
        var registry = services.GetRequiredService<UpstreamRegistry>();
        var pool = registry.Apply(Configs.Config(("p", Configs.Pool(backend.Address) with { HealthCheck = Check() }))).Pools["p"];
        var target = pool.Targets[0];

        // A first probe slowed down by a loaded machine may time out; the target must end up healthy anyway.
        await WaitUntilAsync(() => target.GetStatus() is { LastCheckedAt: not null, LastError: null, Healthy: true }, "the target is probed healthy");

        backend.Status = 503;
        await WaitUntilAsync(() => target.GetStatus() is { Healthy: false, LastError: "unexpected status: 503" }, "the target is unhealthy with a 503");

        backend.Status = 200;
        await WaitUntilAsync(() => target.GetStatus() is { Healthy: true, LastError: null }, "the target is healthy again");
    }

    [Fact]
    public async Task Probes_do_not_follow_redirects()
    {
        await using var backend = await FlippingBackend.StartAsync();
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
            () => target.GetStatus().LastError is { } e && e.StartsWith("Get \"http://127.0.0.1:1/healthz\": ", StringComparison.Ordinal) && !e.Contains("timeout", StringComparison.Ordinal),
            "a probe reports the refused connection");

        Assert.False(target.IsAvailable);
    }
}
