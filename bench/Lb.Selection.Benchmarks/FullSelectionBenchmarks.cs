using System.Globalization;
using System.Net;
using BenchmarkDotNet.Attributes;
using Lb.Balancing;
using Lb.Core.Runtime;
using Lb.Core.Spec;
using Lb.Routing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Selection.Benchmarks;

/// <summary>
/// The per-request selection work of the proxy, without any I/O: read the runtime snapshot, match the route,
/// pick a target and complete it. Each step alone and all together, over a mix of requests that hit routes
/// spread over the whole table.
/// </summary>
[MemoryDiagnoser]
public class FullSelectionBenchmarks
{
    private const int Mix = 8;
    private const int Pools = 16;
    private const int TargetsPerPool = 4;

    private UpstreamRegistry _registry = null!;
    private RuntimeSnapshotHolder<SelectionSnapshot> _holder = null!;
    private (string Host, string Path)[] _requests = [];
    private IRouteBalancer _oneBalancer = null!;
    private PickContext _context;

    [Params(100, 10_000)]
    public int Routes { get; set; }

    [Params(Algorithms.RoundRobin, Algorithms.LeastConnection)]
    public string Algorithm { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var config = Configs.Create(Routes, Algorithm, Pools, TargetsPerPool);
        _registry = new UpstreamRegistry(new PlainHttpClientFactory(), TimeProvider.System, NullLogger<UpstreamRegistry>.Instance);
        var upstreams = _registry.Apply(config);
        var table = RouteTable.Compile(config);
        var policies = LoadBalancingPolicies.CreateDefault();
        var balancers = new IRouteBalancer[table.Routes.Count];
        foreach (var route in table.Routes)
        {
            balancers[route.PriorityIndex] = policies.CreateBalancer(route.Spec, upstreams.Pools[route.UpstreamPool]);
        }
        _holder = new RuntimeSnapshotHolder<SelectionSnapshot>(new SelectionSnapshot(table, balancers));
        _requests = Configs.Requests(Routes, Mix);
        _oneBalancer = balancers[table.Match(_requests[0].Host, _requests[0].Path)!.PriorityIndex];
        _context = new PickContext
        {
            ClientAddress = IPAddress.Loopback,
            ClientPort = 40000,
            LocalAddress = IPAddress.Loopback,
            LocalPort = 8080,
            Protocol = "HTTP/1.1",
        };

        // Every request of the mix must reach a route and a target, or the numbers measure the wrong thing.
        foreach (var (host, path) in _requests)
        {
            var route = table.Match(host, path) ?? throw new InvalidOperationException($"no route for {host}{path}");
            var target = balancers[route.PriorityIndex].Pick(_context).Target ?? throw new InvalidOperationException($"no target for {route.Id}");
            target.Complete(RequestOutcome.Success);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _registry.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>One volatile read of the current snapshot.</summary>
    [Benchmark(OperationsPerInvoke = Mix)]
    public SelectionSnapshot SnapshotRead()
    {
        var holder = _holder;
        SelectionSnapshot last = null!;
        for (var i = 0; i < Mix; i++)
        {
            last = holder.Current;
        }
        return last;
    }

    /// <summary><see cref="RouteTable.Match"/> over the request mix.</summary>
    [Benchmark(OperationsPerInvoke = Mix)]
    public CompiledRoute? RouteMatch()
    {
        var table = _holder.Current.Routes;
        CompiledRoute? last = null;
        foreach (var (host, path) in _requests)
        {
            last = table.Match(host, path);
        }
        return last;
    }

    /// <summary>Pick on one route's balancer, then Complete(Success) on the target.</summary>
    [Benchmark(OperationsPerInvoke = Mix)]
    public void PickComplete()
    {
        var balancer = _oneBalancer;
        for (var i = 0; i < Mix; i++)
        {
            var target = balancer.Pick(in _context).Target!;
            target.Complete(RequestOutcome.Success);
        }
    }

    /// <summary>What the proxy does per request before forwarding: snapshot, match, pick, and Complete afterwards.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Mix)]
    public void FullSelection()
    {
        foreach (var (host, path) in _requests)
        {
            var snapshot = _holder.Current;
            var route = snapshot.Routes.Match(host, path)!;
            var target = snapshot.Balancers[route.PriorityIndex].Pick(in _context).Target!;
            target.Complete(RequestOutcome.Success);
        }
    }
}

/// <summary>What a proxy snapshot holds for selection: the route table and, by priority index, each route's balancer.</summary>
public sealed record SelectionSnapshot(RouteTable Routes, IRouteBalancer[] Balancers);

/// <summary>Never used: the benchmark configures no health checks.</summary>
internal sealed class PlainHttpClientFactory : IHttpClientFactory
{
    public HttpClient CreateClient(string name) => new();
}

/// <summary>
/// A multi-tenant table: ten routes per exact host (an exact path, shallow and deep prefixes), every tenth host a
/// wildcard, and a catch-all. Routes share <c>pools</c> pools round-robin.
/// </summary>
internal static class Configs
{
    public static ProxyConfig Create(int routes, string algorithm, int pools, int targetsPerPool)
    {
        var inv = CultureInfo.InvariantCulture;
        var specs = new RouteSpec[routes];
        for (var i = 0; i < routes; i++)
        {
            var tenant = i / 10;
            var host = string.Create(inv, $"svc{tenant}.example.com");
            var (hosts, type, value) = (i % 10) switch
            {
                _ when i == routes - 1 => (Array.Empty<string>(), PathMatchTypes.Prefix, "/"),
                0 => ([host], PathMatchTypes.Exact, string.Create(inv, $"/t{tenant}/login")),
                1 => ([host], PathMatchTypes.Prefix, string.Create(inv, $"/t{tenant}/")),
                2 => ([host], PathMatchTypes.Prefix, string.Create(inv, $"/t{tenant}/api/v1/")),
                9 => ([string.Create(inv, $"*.w{tenant}.example.com")], PathMatchTypes.Prefix, "/"),
                var k => ([host], PathMatchTypes.Prefix, string.Create(inv, $"/t{tenant}/s{k}/")),
            };
            specs[i] = new RouteSpec
            {
                Id = string.Create(inv, $"r{i}"),
                Enabled = true,
                Algorithm = algorithm,
                UpstreamPool = string.Create(inv, $"p{i % pools}"),
                Match = new RouteMatchSpec { Hosts = hosts, Path = new PathMatchSpec { Type = type, Value = value } },
            };
        }
        var poolSpecs = new SortedDictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal);
        for (var p = 0; p < pools; p++)
        {
            poolSpecs[string.Create(inv, $"p{p}")] = new UpstreamPoolSpec
            {
                Upstreams = Enumerable.Range(1, targetsPerPool).Select(t => new UpstreamSpec(string.Create(inv, $"10.1.{p}.{t}:8080"))).ToArray(),
            };
        }
        return new ProxyConfig { Routes = specs, UpstreamPools = poolSpecs };
    }

    /// <summary><paramref name="count"/> requests on tenants spread over the table: deep and shallow prefixes, exact, wildcard, catch-all.</summary>
    public static (string Host, string Path)[] Requests(int routes, int count)
    {
        var inv = CultureInfo.InvariantCulture;
        var tenants = routes / 10;
        var result = new (string, string)[count];
        for (var i = 0; i < count; i++)
        {
            var t = (int)((long)tenants * (2 * i + 1) / (2 * count)); // evenly spread, never the last (partial) tenant
            result[i] = (i % 4) switch
            {
                0 => (string.Create(inv, $"svc{t}.example.com"), string.Create(inv, $"/t{t}/api/v1/orders/42")),
                1 => (string.Create(inv, $"svc{t}.example.com:8080"), string.Create(inv, $"/t{t}/login")),
                2 => (string.Create(inv, $"a.w{t}.example.com"), "/img/logo.png"),
                _ => ("unknown.test", "/anything"),
            };
        }
        return result;
    }
}
