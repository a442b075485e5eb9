using BenchmarkDotNet.Attributes;
using Lb.Core.Spec;

namespace Lb.Routing.Benchmarks;

[MemoryDiagnoser]
public class CompileBenchmarks
{
    private ProxyConfig _config = ProxyConfig.Empty;

    [Params(10_000)]
    public int Routes { get; set; }

    [GlobalSetup]
    public void Setup() => _config = RouteSets.Create(Routes);

    [Benchmark]
    public RouteTable Compile() => RouteTable.Compile(_config);
}
