using System.Net;
using BenchmarkDotNet.Attributes;
using Lb.Balancing;
using Lb.Core.Spec;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Balancing.Benchmarks;

/// <summary>Cost of one Pick + Complete per algorithm and pool size, on one thread and on 8 threads at once.</summary>
[MemoryDiagnoser]
public class PickBenchmarks
{
    private const int Batch = 1024;
    private const int Workers = 8;
    private const int PerWorker = 8 * Batch;

    private UpstreamRegistry _registry = null!;
    private IRouteBalancer _balancer = null!;
    private PickContext[] _contexts = null!;

    [Params(Algorithms.RoundRobin, Algorithms.StickyCookie, Algorithms.FiveTupleHash, Algorithms.LeastConnection)]
    public string Algorithm { get; set; } = "";

    [Params(2, 16, 256)]
    public int Targets { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _registry = new UpstreamRegistry(new NoHttp(), TimeProvider.System, NullLogger<UpstreamRegistry>.Instance);
        var upstreams = Enumerable.Range(0, Targets).Select(i => new UpstreamSpec($"10.0.{i / 250}.{i % 250 + 1}:8080")).ToArray();
        var route = new RouteSpec { Id = "r", Enabled = true, UpstreamPool = "p", Algorithm = Algorithm };
        var config = new ProxyConfig
        {
            Routes = [route],
            UpstreamPools = new SortedDictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal) { ["p"] = new() { Upstreams = upstreams } },
        };
        var pool = _registry.Apply(config).Pools["p"];
        _balancer = LoadBalancingPolicies.CreateDefault().CreateBalancer(route, pool);

        // Half the sticky clients carry a valid cookie, half are new; hash flows vary the client port.
        var cookie = _balancer.Pick(default);
        cookie.Target?.Complete(RequestOutcome.Success);
        var local = IPAddress.Parse("10.0.0.100");
        _contexts = Enumerable.Range(0, Batch).Select(i => new PickContext
        {
            ClientAddress = new IPAddress(BitConverter.GetBytes(0x0A640000 + i)),
            ClientPort = 30000 + i,
            LocalAddress = local,
            LocalPort = 80,
            Protocol = "HTTP/1.1",
            CookieValue = i % 2 == 0 ? cookie.SetCookieValue : null,
        }).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _registry.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = Batch)]
    public void OneThread() => Run(Batch);

    [Benchmark(OperationsPerInvoke = Workers * PerWorker)]
    public void EightThreads() => Parallel.For(0, Workers, new ParallelOptions { MaxDegreeOfParallelism = Workers }, _ => Run(PerWorker));

    private void Run(int count)
    {
        var balancer = _balancer;
        var contexts = _contexts;
        for (var i = 0; i < count; i++)
        {
            var target = balancer.Pick(contexts[i & (Batch - 1)]).Target;
            target?.Complete(RequestOutcome.Success);
        }
    }

    private sealed class NoHttp : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new NotSupportedException("no health checks in the benchmark");
    }
}
