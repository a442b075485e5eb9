using BenchmarkDotNet.Attributes;

namespace Lb.Routing.Benchmarks;

[MemoryDiagnoser]
public class MatchBenchmarks
{
    private const int MixSize = 8;

    private RouteTable _table = RouteTable.Empty;
    private (string Host, string Path)[] _requests = [];

    [Params(10, 1_000, 10_000)]
    public int Routes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _table = RouteTable.Compile(RouteSets.Create(Routes));
        _requests = RouteSets.Requests(Routes);
        if (_requests.Length != MixSize)
        {
            throw new InvalidOperationException("the request mix changed; update MixSize");
        }
    }

    /// <summary>Deep prefix on an exact host, the common case of an API gateway.</summary>
    [Benchmark(Baseline = true)]
    public CompiledRoute? Match_prefix_hit() => _table.Match(_requests[0].Host, _requests[0].Path);

    /// <summary>Average over the mix: exact, prefix, wildcard, regex, any-host, fall-through, IPv6.</summary>
    [Benchmark(OperationsPerInvoke = MixSize)]
    public CompiledRoute? Match_mixed()
    {
        CompiledRoute? last = null;
        foreach (var (host, path) in _requests)
        {
            last = _table.Match(host, path);
        }
        return last;
    }
}
