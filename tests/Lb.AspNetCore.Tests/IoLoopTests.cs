using System.Collections.Concurrent;
using Lb.Balancing;
using Lb.Core.Spec;
using Lb.Core.Validation;
using Lb.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Lb.AspNetCore.Tests;

/// <summary>
/// With <c>ioLoop</c> the fast path really runs on Lb's epoll loops (issue #16): a balancing policy, called in the
/// middle of a proxied request, sees a loop thread; on the socket transport it does not.
/// </summary>
public sealed class IoLoopTests
{
    [Fact]
    public async Task With_ioLoop_the_fast_path_runs_its_requests_on_an_io_loop_thread()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "the I/O loop is Linux only");
        var threads = await ThreadsThatPickedAsync(ProxyPath.Loop);
        Assert.All(threads, name => Assert.StartsWith("Lb I/O loop ", name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_ioLoop_the_fast_path_runs_on_the_socket_transport()
    {
        var threads = await ThreadsThatPickedAsync(ProxyPath.Fast);
        Assert.All(threads, name => Assert.False(name?.StartsWith("Lb I/O loop ", StringComparison.Ordinal) == true, name));
    }

    private static async Task<string?[]> ThreadsThatPickedAsync(ProxyPath path)
    {
        await using var backend = await TestBackend.StartAsync("loop-backend");
        var policy = new ThreadRecordingPolicy();
        await using var lb = await InProcessLb.StartAsync(b => b.Services.AddSingleton<ILoadBalancingPolicy>(policy), path: path);
        using (var put = await lb.PutConfigAsync("""{"routes":[{"id":"r","enabled":true,"match":{"hosts":["loop.test"]},"algorithm":"threads","upstream_pool":"p"}],"upstream_pools":{"p":{"upstreams":["UP"]}}}""".Replace("UP", backend.Address, StringComparison.Ordinal)))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("loop-backend", await lb.ProxyAsync("loop.test"));
        }
        Assert.Equal(3, policy.Threads.Count);
        return [.. policy.Threads];
    }

    /// <summary>Picks the only target and records the name of the thread it was called on.</summary>
    private sealed class ThreadRecordingPolicy : ILoadBalancingPolicy
    {
        public ConcurrentQueue<string?> Threads { get; } = new();

        public string Name => "threads";

        public PickInputs GetInputs(RouteSpec route) => new();

        public void Validate(RouteSpec route, string path, ICollection<ValidationError> errors)
        {
        }

        public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool) => new Balancer(pool, Threads);

        private sealed class Balancer(UpstreamPool pool, ConcurrentQueue<string?> threads) : IRouteBalancer
        {
            public PickResult Pick(in PickContext context)
            {
                threads.Enqueue(Thread.CurrentThread.Name);
                var target = pool.Targets[0];
                target.Acquire();
                return new PickResult(target);
            }
        }
    }
}
