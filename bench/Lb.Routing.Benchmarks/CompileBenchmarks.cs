using BenchmarkDotNet.Attributes;
using Lb.Core.Spec;

namespace Lb.Routing.Benchmarks;

[MemoryDiagnoser]
public class CompileBenchmarks
{
    private ProxyConfig _config = ProxyConfig.Empty;

    [Params(10_000)]
    public int Routes { get; set; }

    /// <summary>False: the 500 regex routes share one pattern; true: each has its own (each is built separately).</summary>
    [Params(false, true)]
    public bool DistinctRegexes { get; set; }

    [GlobalSetup]
    public void Setup() => _config = RouteSets.Create(Routes, DistinctRegexes);

    [Benchmark]
    public RouteTable Compile() => RouteTable.Compile(_config);
}
