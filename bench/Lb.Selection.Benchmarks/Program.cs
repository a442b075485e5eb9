using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Lb.Selection.Benchmarks.FullSelectionBenchmarks).Assembly).Run(args);
