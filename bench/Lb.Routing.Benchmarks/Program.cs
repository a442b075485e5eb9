using System.Globalization;
using BenchmarkDotNet.Running;
using Lb.Routing;
using Lb.Routing.Benchmarks;

if (args is ["--show-mix", var size])
{
    // Shows which route each request of the benchmark mix hits, so the mix can be checked by eye.
    var count = int.Parse(size, CultureInfo.InvariantCulture);
    var table = RouteTable.Compile(RouteSets.Create(count));
    foreach (var (host, path) in RouteSets.Requests(count))
    {
        Console.WriteLine($"{host} {path} -> {table.Match(host, path)?.ToString() ?? "(none)"}");
    }
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(MatchBenchmarks).Assembly).Run(args);
