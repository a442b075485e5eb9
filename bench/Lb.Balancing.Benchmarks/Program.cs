using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Lb.Balancing.Benchmarks.PickBenchmarks).Assembly).Run(args);
