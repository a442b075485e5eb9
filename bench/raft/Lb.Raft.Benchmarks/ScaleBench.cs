using System.Diagnostics;
using System.Globalization;
using System.Net;
using Lb.AspNetCore.Runtime;
using Lb.Balancing;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Core.Validation;
using Lb.Raft.Node;
using Lb.Raft.Store;
using Lb.Routing;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// Propagation at scale: three in-process Raft nodes, each with the runtime snapshot builder the server uses
/// (routes compiled, upstream registry reconciled, balancers created) fed from its store as the server's runtime
/// manager does. Loads the 10,000-route config once, then times one-route changes written on a follower until all
/// three nodes have built the runtime snapshot of the new version.
/// </summary>
internal static class ScaleBench
{
    public static async Task RunAsync(int writes, int wholeWrites)
    {
        var validator = new DefaultDesiredStateValidator(algorithms: LoadBalancingPolicies.CreateDefault());
        PrintPhases(validator);

        var root = Directory.CreateTempSubdirectory("lb-raft-scale-").FullName;
        var nodes = new Dictionary<string, Member>(StringComparer.Ordinal);
        var peers = new InProcessPeers(nodes.ToDictionary(n => n.Key, n => (n.Value.Node, n.Value.Store)));
        var forwarder = new ScalePeers(nodes);
        async Task<Member> StartAsync(string id, EndPoint address, bool cold)
        {
            var node = await RaftNode.StartAsync(new RaftNodeSettings
            {
                DataDirectory = Path.Combine(root, id), NodeId = id, Bind = address, Advertise = address, AdminUrl = id, ColdStart = cold, Validator = validator,
            }, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
            var store = new RaftDesiredStateStore(node, forwarder, NullLogger.Instance, TimeProvider.System, TimeSpan.FromSeconds(30), root);
            var member = new Member(node, store);
            nodes[id] = member;
            return member;
        }
        var addresses = Enumerable.Range(1, 3).ToDictionary(i => $"node-{i}",
            _ => (EndPoint)new IPEndPoint(IPAddress.Parse($"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}"), 7000));
        await StartAsync("node-1", addresses["node-1"], cold: true);
        while (!nodes["node-1"].Node.IsLeader)
        {
            await Task.Delay(10);
        }
        foreach (var id in new[] { "node-2", "node-3" })
        {
            var member = await StartAsync(id, addresses[id], cold: false);
            if (await nodes["node-1"].Store.AddMemberAsync(member.Node.Settings.Advertise, CancellationToken.None) != MembershipChange.Done)
            {
                throw new InvalidOperationException($"{id} was not added");
            }
        }
        _ = peers;

        var follower = nodes["node-2"].Store;
        var load = Stopwatch.StartNew();
        var first = await follower.PutAsync(ScaleConfig.Create(0));
        if (!first.Succeeded)
        {
            throw new InvalidOperationException(first.Message + " " + string.Join("; ", first.Validation?.Errors.Take(3).Select(e => e.Field + ": " + e.Message) ?? []));
        }
        await Task.WhenAll(nodes.Values.Select(n => n.WaitForRuntimeAsync(first.Current.Version)));
        Console.WriteLine(FormattableString.Invariant($"scale: first load of {ScaleConfig.Routes} routes applied and built on all 3 in {load.Elapsed.TotalMilliseconds:F0} ms"));

        // Route-level writes (PUT /api/routes/{id}): one route in the log entry.
        var route = await MeasureAsync(nodes, writes, i => Task.FromResult(new ConfigChange { UpsertRoutes = [ScaleConfig.ChangedRoute(i)] }),
            (change, _) => follower.ApplyChangeAsync(change, null, "bench").AsTask());
        Report($"scale propagation, route-level change ({ScaleConfig.Routes} routes, {ScaleConfig.DistinctRegexes} regexes, {ScaleConfig.Pools} pools; one route changed on a follower -> runtime snapshot built on all 3)", route);
        // Whole-document writes (PUT /api/config with the version): the writer parses nothing here (the document is in
        // hand, as after the HTTP parse) but normalises, diffs and validates the change; the log carries the change.
        var offset = writes + 100;
        var whole = await MeasureAsync(nodes, wholeWrites, i => Task.Run(() => ScaleConfig.Create(offset + i)),
            (state, _) => follower.PutAsync(state, follower.Current.Version, "bench").AsTask());
        Report($"scale propagation, whole document at the current version (same config; PUT /api/config with version, after the HTTP body parse)", whole);
        foreach (var n in nodes.Values)
        {
            await n.DisposeAsync();
        }
        Directory.Delete(root, recursive: true);
    }

    /// <summary>
    /// Times <paramref name="count"/> writes (after warm-up) from the call until all three nodes built the runtime of
    /// the new version. The input is prepared before the clock starts, as a request body would be in hand.
    /// </summary>
    private static async Task<List<double>> MeasureAsync<T>(Dictionary<string, Member> nodes, int count, Func<int, Task<T>> prepare, Func<T, int, Task<StoreWriteResult>> write)
    {
        const int Warmup = 10;
        var samples = new List<double>();
        var failed = 0;
        for (var i = 1; i <= count + Warmup; i++)
        {
            var input = await prepare(i);
            var clock = Stopwatch.StartNew();
            var result = await write(input, i);
            if (!result.Succeeded)
            {
                // A leader change in the middle of a write (a long pause on a loaded machine): counted, not timed.
                failed++;
                Console.WriteLine($"write {i} failed: {result.Message}");
                continue;
            }
            await Task.WhenAll(nodes.Values.Select(n => n.WaitForRuntimeAsync(result.Current.Version)));
            if (i > Warmup)
            {
                samples.Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        if (failed > 0)
        {
            Console.WriteLine($"writes that failed (leader change during the write): {failed}");
        }
        return samples;
    }

    private static void PrintPhases(DefaultDesiredStateValidator validator)
    {
        var a = ScaleConfig.Create(1);
        var b = ScaleConfig.Create(2);
        // Second run of each: the first includes JIT.
        double Ms(Action action)
        {
            action();
            var clock = Stopwatch.StartNew();
            action();
            return clock.Elapsed.TotalMilliseconds;
        }
        var json = Array.Empty<byte>();
        var serialize = Ms(() => json = DesiredStateJson.Serialize(b));
        var parse = Ms(() => DesiredStateJson.ParseState(json));
        var validateCold = Ms(() => validator.Validate(a));
        var validateWarm = validateCold;
        var hash = Ms(() => DesiredStateJson.ContentHash(b.Config));
        var registry = new UpstreamRegistry(new NoHttp(), TimeProvider.System, NullLogger<UpstreamRegistry>.Instance);
        var builder = new RuntimeSnapshotBuilder(registry, LoadBalancingPolicies.CreateDefault());
        var buildCold = Ms(() => builder.Build(new VersionedDesiredState(1, a, DateTimeOffset.UtcNow)));
        var buildWarm = Ms(() => builder.Build(new VersionedDesiredState(2, ScaleConfig.Create(3), DateTimeOffset.UtcNow)));
        var compileAlone = Ms(() => RouteTable.Compile(b.Config));
        // The route-level path: apply a one-route change, validate only it, build the runtime against the last one.
        var state = new VersionedDesiredState(10, a, DateTimeOffset.UtcNow);
        builder.Build(state);
        var port = 50_000;
        ConfigChange change = new() { UpsertRoutes = [ScaleConfig.ChangedRoute(port)] };
        DesiredState next = a;
        var apply = Ms(() => next = a with { Config = (change = new ConfigChange { UpsertRoutes = [ScaleConfig.ChangedRoute(++port)] }).ApplyTo(a.Config) });
        var validateChange = Ms(() => validator.ValidateChange(a, next, change));
        var version = 11L;
        var current = a;
        var incremental = Ms(() =>
        {
            current = current with { Config = new ConfigChange { UpsertRoutes = [ScaleConfig.ChangedRoute(++port)] }.ApplyTo(current.Config) };
            builder.Build(new VersionedDesiredState(++version, current, DateTimeOffset.UtcNow));
        });
        Console.WriteLine(FormattableString.Invariant(
            $"scale phases (one node, ms): json {json.Length / 1024} KiB serialize {serialize:F1} parse {parse:F1}; validate {validateCold:F1}; content hash {hash:F1}; runtime build again {buildCold:F1} one-route change {buildWarm:F1}; RouteTable.Compile without previous (regexes cached) {compileAlone:F1}"));
        Console.WriteLine(FormattableString.Invariant($"route-level change: ApplyTo {apply:F2} ValidateChange {validateChange:F2} ApplyTo + runtime build {incremental:F2}"));
    }

    private static void Report(string name, List<double> samples)
    {
        samples.Sort();
        double At(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
        Console.WriteLine(FormattableString.Invariant($"{name}: n={samples.Count} p50={At(0.5):F2} ms p99={At(0.99):F2} ms max={samples[^1]:F2} ms"));
    }

    private sealed class Member : IAsyncDisposable
    {
        private readonly UpstreamRegistry _registry = new(new NoHttp(), TimeProvider.System, NullLogger<UpstreamRegistry>.Instance);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _watch;
        private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _builtVersion = -1;

        public Member(RaftNode node, RaftDesiredStateStore store)
        {
            Node = node;
            Store = store;
            var builder = new RuntimeSnapshotBuilder(_registry, LoadBalancingPolicies.CreateDefault());
            // What RuntimeManager does: one build per version seen, on its own loop.
            _watch = Task.Run(async () =>
            {
                var known = -1L;
                try
                {
                    while (true)
                    {
                        var state = await store.WaitForChangeAsync(known, _stop.Token);
                        known = state.Version;
                        builder.Build(state);
                        Volatile.Write(ref _builtVersion, state.Version);
                        Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                    }
                }
                catch (OperationCanceledException)
                {
                }
            });
        }

        public RaftNode Node { get; }

        public RaftDesiredStateStore Store { get; }

        public async Task WaitForRuntimeAsync(long version)
        {
            while (true)
            {
                var progress = Volatile.Read(ref _progress);
                if (Volatile.Read(ref _builtVersion) >= version)
                {
                    return;
                }
                await progress.Task;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _watch;
            await Store.DisposeAsync();
            await _registry.DisposeAsync();
        }
    }

    private sealed class ScalePeers(Dictionary<string, Member> nodes) : IPeerClient
    {
        public Task<ForwardedWrite> ForwardAsync(LeaderInfo leader, Lb.Raft.StateMachine.PutCommand command, CancellationToken cancellationToken) =>
            nodes.TryGetValue(leader.AdminUrl!, out var n) ? n.Store.ProposeForwardedAsync(command, cancellationToken) : throw new HttpRequestException("gone");

        public Task NotifyRemovedAsync(string adminUrl, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class NoHttp : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new();
    }
}
