using System.Net;
using Lb.AspNetCore.Runtime;
using Lb.Balancing;
using Lb.Core.Json;
using Lb.Core.Runtime;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Lb.AspNetCore.Tests;

/// <summary>Desired state flows one way: store → the runtime watcher → snapshot → proxy.</summary>
public abstract class RuntimePipelineTests(ProxyPath path) : ProxyPathTests(path)
{
    private static string Config(string backend, string algorithm = "round_robin") =>
        """{"routes":[{"id":"r","enabled":true,"match":{"hosts":["app.test"]},"algorithm":"ALG","upstream_pool":"p"}],"upstream_pools":{"p":{"upstreams":["ADDR"]}}}"""
            .Replace("ALG", algorithm, StringComparison.Ordinal).Replace("ADDR", backend, StringComparison.Ordinal);

    private static DesiredState State(string json) =>
        new() { Config = DesiredStateJson.ParseConfig(System.Text.Encoding.UTF8.GetBytes(json)).Value! };

    [Fact]
    public async Task A_store_change_is_applied_exactly_once_with_no_admin_call()
    {
        await using var blue = await TestBackend.StartAsync("blue");
        await using var green = await TestBackend.StartAsync("green");
        await using var lb = await StartLbAsync();
        var store = lb.Services.GetRequiredService<IDesiredStateStore>();
        var runtime = lb.Services.GetRequiredService<RuntimeManager>();
        var status = lb.Services.GetRequiredService<IRuntimeApplyStatus>();
        var published = runtime.Generation;

        // Written to the store directly, as a replicated store applies entries: nobody tells the runtime.
        var first = await store.PutAsync(State(Config(blue.Address)), cancellationToken: TestContext.Current.CancellationToken);
        var outcome = await status.WaitForAppliedAsync(first.Current.Version, TestContext.Current.CancellationToken);
        Assert.True(outcome.Applied);
        Assert.Equal("blue", await lb.ProxyAsync("app.test"));

        var second = await store.PutAsync(State(Config(green.Address)), cancellationToken: TestContext.Current.CancellationToken);
        await status.WaitForAppliedAsync(second.Current.Version, TestContext.Current.CancellationToken);
        Assert.Equal("green", await lb.ProxyAsync("app.test"));

        // Through the admin API the watcher still builds once per version; the API only waits for it.
        using var put = await lb.PutConfigAsync(Config(blue.Address));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("blue", await lb.ProxyAsync("app.test"));

        Assert.Equal(published + 3, runtime.Generation);
        Assert.Equal(store.Current.Version, status.AppliedVersion);
    }

    [Fact]
    public async Task A_throwing_snapshot_build_keeps_the_previous_snapshot_serving_and_shows_in_status_and_metrics()
    {
        await using var blue = await TestBackend.StartAsync("blue");
        await using var green = await TestBackend.StartAsync("green");
        await using var lb = await StartLbAsync(b => b.AddBalancingPolicy<ExplodingPolicy>());

        using (var good = await lb.PutConfigAsync(Config(blue.Address)))
        {
            Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        }
        Assert.Equal("blue", await lb.ProxyAsync("app.test"));

        // Valid (the policy is registered), stored, but its build throws: version 1 keeps serving.
        using (var bad = await lb.PutConfigAsync(Config(green.Address, "explode")))
        {
            Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
        }
        Assert.Equal("blue", await lb.ProxyAsync("app.test"));
        Assert.Equal("blue", await lb.ProxyAsync("app.test"));

        // A writer waiting for the failed version is released with the failure, not left hanging.
        var outcome = await lb.Services.GetRequiredService<IRuntimeApplyStatus>().WaitForAppliedAsync(2, TestContext.Current.CancellationToken);
        Assert.False(outcome.Applied);
        Assert.Equal((1L, 2L), (outcome.AppliedVersion, outcome.Failure!.Version));

        var status = await lb.GetStringAsync("/api/status");
        Assert.Contains("\"projection\":{\"status\":\"error\",\"last_error\":\"the explode policy always throws\",\"failed_version\":2,", status, StringComparison.Ordinal);
        Assert.Contains("\"version\":1,", status, StringComparison.Ordinal);
        Assert.Contains("lb_runtime_builds_total{outcome=\"failure\"} 1", await lb.GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.Contains("\"version\":1,", await lb.GetStringAsync("/api/runtime"), StringComparison.Ordinal);

        // The next good version clears the error; the count stays.
        using (var fixedPut = await lb.PutConfigAsync(Config(green.Address)))
        {
            Assert.Equal(HttpStatusCode.OK, fixedPut.StatusCode);
        }
        Assert.Equal("green", await lb.ProxyAsync("app.test"));
        Assert.Contains("\"projection\":{\"status\":\"ok\",\"failures\":1}", await lb.GetStringAsync("/api/status"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_whose_stored_state_it_cannot_build_still_starts_and_says_why()
    {
        await using var blue = await TestBackend.StartAsync("blue");
        using var dir = new TempDirectory();
        await using (var first = await StartLbAsync(b => b.AddBalancingPolicy<ExplodingPolicy>(), dir.Path))
        {
            using var put = await first.PutConfigAsync(Config(blue.Address, "explode"));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        // As after a restart on a build that lacks a policy another node accepted: the host runs, serves no route, and shows the failure.
        await using var lb = await StartLbAsync(dataDirectory: dir.Path);
        Assert.Equal("404", await lb.ProxyAsync("app.test"));
        var status = await lb.GetStringAsync("/api/status");
        Assert.Contains("\"projection\":{\"status\":\"error\",\"last_error\":\"no load balancing policy is registered as 'explode' on this node (route 'r')\",\"failed_version\":1,", status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_whose_watch_fails_does_not_stop_the_host_and_is_watched_again()
    {
        await using var blue = await TestBackend.StartAsync("blue");
        var store = new FlakyStore();
        await using var lb = await StartLbAsync(b => b.Services.AddSingleton<IDesiredStateStore>(store));

        store.Publish(new VersionedDesiredState(1, State(Config(blue.Address)), DateTimeOffset.UtcNow));
        var outcome = await lb.Services.GetRequiredService<IRuntimeApplyStatus>().WaitForAppliedAsync(1, TestContext.Current.CancellationToken);

        Assert.True(outcome.Applied);
        Assert.True(store.Waits >= 1); // the first wait threw before the state was published, so only a new watch can have applied it
        Assert.Equal("blue", await lb.ProxyAsync("app.test"));
    }

    /// <summary>A store whose first wait for a change throws, as a store might while it switches backends.</summary>
    private sealed class FlakyStore : IDesiredStateStore
    {
        private readonly DesiredStateChangeSignal _signal = new(new VersionedDesiredState(0, DesiredState.Empty, DateTimeOffset.UnixEpoch));
        private int _waits;

        public int Waits => Volatile.Read(ref _waits);

        public VersionedDesiredState Current => _signal.Current;

        public void Publish(VersionedDesiredState state) => _signal.Publish(state);

        public ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public ValueTask<VersionedDesiredState> WaitForChangeAsync(long knownVersion, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _waits) == 1
                ? throw new InvalidOperationException("the store is switching")
                : _signal.WaitForChangeAsync(knownVersion, cancellationToken);
    }

    private sealed class ExplodingPolicy : ILoadBalancingPolicy
    {
        public string Name => "explode";

        public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool) => throw new InvalidOperationException("the explode policy always throws");
    }
}

public sealed class RuntimePipelineTestsOnYarpPath() : RuntimePipelineTests(ProxyPath.Yarp);

public sealed class RuntimePipelineTestsOnFastPath() : RuntimePipelineTests(ProxyPath.Fast);

public sealed class RuntimePipelineTestsOnLoopPath() : RuntimePipelineTests(ProxyPath.Loop);
