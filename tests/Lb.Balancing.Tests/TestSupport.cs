using System.Collections.Concurrent;
using System.Net;
using Lb.Core.Spec;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Lb.Balancing.Tests;

/// <summary>Builds configurations tersely.</summary>
internal static class Configs
{
    public static UpstreamPoolSpec Pool(params UpstreamSpec[] upstreams) => new() { Upstreams = upstreams };

    public static RouteSpec Route(string id, string pool, string? algorithm = null, StickyCookieSpec? sticky = null) =>
        new() { Id = id, Enabled = true, UpstreamPool = pool, Algorithm = algorithm, StickyCookie = sticky };

    public static ProxyConfig Config(params (string Id, UpstreamPoolSpec Pool)[] pools) => Config([], pools);

    public static ProxyConfig Config(RouteSpec[] routes, params (string Id, UpstreamPoolSpec Pool)[] pools)
    {
        var dict = new SortedDictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal);
        foreach (var (id, pool) in pools)
        {
            dict[id] = pool;
        }
        return new ProxyConfig { Routes = routes, UpstreamPools = dict };
    }

    public static string[] Addresses(int n, int basePort = 9000) =>
        Enumerable.Range(0, n).Select(i => $"10.0.{i / 250}.{i % 250 + 1}:{basePort + i}").ToArray();

    public static UpstreamSpec[] Specs(IEnumerable<string> addresses) => addresses.Select(a => new UpstreamSpec(a)).ToArray();
}

/// <summary>A health endpoint per target address whose status the test sets.</summary>
internal sealed class StubHealthHandler : HttpMessageHandler
{
    private readonly ConcurrentDictionary<string, HttpStatusCode> _status = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    /// <summary>Setting a target to this status makes its probe hang until cancelled.</summary>
    public const HttpStatusCode Hang = (HttpStatusCode)1;

    public HttpStatusCode DefaultStatus { get; set; } = HttpStatusCode.OK;

    public TimeProvider? Time { get; set; }

    public ConcurrentQueue<(string Host, DateTimeOffset At)> Log { get; } = new();

    public ConcurrentQueue<HttpRequestMessage> Requests { get; } = new();

    public void Set(string address, HttpStatusCode status) => _status[address] = status;

    public int Calls(string address) => _calls.GetValueOrDefault(address);

    public int TotalCalls => _calls.Values.Sum();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var host = request.Headers.Host ?? request.RequestUri!.Authority;
        Requests.Enqueue(request);
        _calls.AddOrUpdate(host, 1, (_, n) => n + 1);
        Log.Enqueue((host, Time?.GetUtcNow() ?? default));
        var status = _status.TryGetValue(host, out var s) ? s : DefaultStatus;
        if (status == Hang)
        {
            return HangAsync(cancellationToken);
        }
        return Task.FromResult(new HttpResponseMessage(status));
    }

    private static async Task<HttpResponseMessage> HangAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }
}

internal sealed class StubHttpClientFactory(HttpMessageHandler handler) : IHttpClientFactory
{
    public List<string> Names { get; } = [];

    public HttpClient CreateClient(string name)
    {
        lock (Names)
        {
            Names.Add(name);
        }
        return new HttpClient(handler, disposeHandler: false);
    }
}

/// <summary>A registry on fake time with stubbed health endpoints.</summary>
internal sealed class Harness : IAsyncDisposable, IDisposable
{
    public Harness(BalancingOptions? options = null, System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        Handler.Time = Time;
        Factory = new StubHttpClientFactory(Handler);
        Registry = new UpstreamRegistry(Factory, Time, NullLogger<UpstreamRegistry>.Instance, options, meterFactory);
    }

    public StubHttpClientFactory Factory { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 6, 9, 10, 0, 0, TimeSpan.Zero));

    public StubHealthHandler Handler { get; } = new();

    public UpstreamRegistry Registry { get; }

    public LoadBalancingPolicies Policies { get; } = LoadBalancingPolicies.CreateDefault();

    /// <summary>Applies one pool "p" with the given targets and returns it.</summary>
    public UpstreamPool ApplyPool(params UpstreamSpec[] upstreams) =>
        Registry.Apply(Configs.Config(("p", Configs.Pool(upstreams)))).Pools["p"];

    /// <summary>Applies pool "p" with an active health check.</summary>
    public UpstreamPool ApplyChecked(HealthCheckSpec check, params UpstreamSpec[] upstreams) =>
        Registry.Apply(Configs.Config(("p", Configs.Pool(upstreams) with { HealthCheck = check }))).Pools["p"];

    public static HealthCheckSpec Check(int? rise = null, int? fall = null, string interval = "10s", string timeout = "2s") =>
        new() { Path = "/healthz", Interval = interval, Timeout = timeout, ExpectStatus = 200, Rise = rise, Fall = fall };

    public IRouteBalancer Balancer(UpstreamPool pool, string algorithm, StickyCookieSpec? sticky = null, string routeId = "r") =>
        Policies.CreateBalancer(Configs.Route(routeId, pool.Id, algorithm, sticky), pool);

    /// <summary>
    /// Advances fake time in small steps, yielding real time to the probe loops, until the condition holds.
    /// Bounded by a generous real-time limit so a loaded machine slows the test down but does not fail it.
    /// </summary>
    public async Task AdvanceUntilAsync(Func<bool> condition, TimeSpan step, TimeSpan? maxFakeTime = null)
    {
        var limit = maxFakeTime ?? TimeSpan.FromMinutes(10);
        var advanced = TimeSpan.Zero;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline || advanced > limit)
            {
                throw new TimeoutException($"condition not met after {advanced} of fake time");
            }
            await Task.Delay(2, TestContext.Current.CancellationToken);
            if (condition())
            {
                return;
            }
            Time.Advance(step);
            advanced += step;
        }
    }

    public ValueTask DisposeAsync() => Registry.DisposeAsync();

    public void Dispose() => Registry.DisposeAsync().AsTask().GetAwaiter().GetResult();
}

internal static class TargetExtensions
{
    public static void ForceHealth(this UpstreamTarget target, bool healthy) =>
        target.RecordProbe(healthy, healthy ? null : "forced", DateTimeOffset.UnixEpoch, 1, 1);

    /// <summary>Picks and completes at once; returns the target.</summary>
    public static UpstreamTarget? PickOne(this IRouteBalancer balancer, in PickContext context = default)
    {
        var result = balancer.Pick(context);
        result.Target?.Complete(RequestOutcome.Success);
        return result.Target;
    }
}
