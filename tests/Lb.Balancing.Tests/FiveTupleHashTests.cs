using System.Net;
using Lb.Core.Spec;

namespace Lb.Balancing.Tests;

public sealed class FiveTupleHashTests
{
    private static readonly IPAddress Local = IPAddress.Parse("10.0.0.100");

    internal static PickContext Flow(int i) => new()
    {
        ClientAddress = new IPAddress(BitConverter.GetBytes(0x0A000000 + (i / 50_000))),
        ClientPort = 1024 + (i % 50_000),
        LocalAddress = Local,
        LocalPort = 80,
        Protocol = "HTTP/1.1",
    };

    [Fact]
    public async Task The_same_five_tuple_always_reaches_the_same_target()
    {
        await using var h = new Harness();
        var balancer = h.Balancer(h.ApplyPool(Configs.Specs(Configs.Addresses(8))), Algorithms.FiveTupleHash);

        for (var i = 0; i < 500; i++)
        {
            var flow = Flow(i * 7919);
            var first = balancer.PickOne(flow);
            Assert.Same(first, balancer.PickOne(flow));
        }
    }

    [Fact]
    public async Task Every_part_of_the_tuple_contributes()
    {
        await using var h = new Harness();
        var balancer = h.Balancer(h.ApplyPool(Configs.Specs(Configs.Addresses(64))), Algorithms.FiveTupleHash);
        var baseFlow = Flow(1);
        var variants = new[]
        {
            baseFlow with { ClientAddress = IPAddress.Parse("192.0.2.1") },
            baseFlow with { ClientPort = 40000 },
            baseFlow with { LocalAddress = IPAddress.Parse("10.0.0.101") },
            baseFlow with { LocalPort = 8080 },
            baseFlow with { Protocol = "HTTP/2" },
        };
        var hash = Policies_HashKey(baseFlow);

        Assert.All(variants, v => Assert.NotEqual(hash, Policies_HashKey(v)));
        Assert.NotNull(balancer.PickOne(new PickContext()));
    }

    private static ulong Policies_HashKey(in PickContext c) => FiveTupleHashPolicy.HashKey(c);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(10)]
    [InlineData(32)]
    public async Task Removing_one_of_n_targets_remaps_at_most_one_point_two_over_n_of_the_flows(int n)
    {
        await using var h = new Harness();
        var addresses = Configs.Addresses(n);
        var before = h.Balancer(h.ApplyPool(Configs.Specs(addresses)), Algorithms.FiveTupleHash);
        const int flows = 20_000;
        var assigned = Enumerable.Range(0, flows).Select(i => before.PickOne(Flow(i))!.Address).ToArray();

        for (var removed = 0; removed < n; removed += Math.Max(1, n / 3))
        {
            var gone = addresses[removed];
            var after = h.Balancer(h.ApplyPool(Configs.Specs(addresses.Where(a => a != gone))), Algorithms.FiveTupleHash);
            var moved = 0;
            for (var i = 0; i < flows; i++)
            {
                var now = after.PickOne(Flow(i))!.Address;
                if (now != assigned[i])
                {
                    moved++;
                    Assert.Equal(gone, assigned[i]);
                }
            }
            Assert.InRange((double)moved / flows, 0, 1.2 / n);
            h.ApplyPool(Configs.Specs(addresses));
        }
    }

    [Fact]
    public async Task An_unhealthy_target_moves_only_its_own_flows_and_they_come_back_when_it_recovers()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(Configs.Specs(Configs.Addresses(6)));
        var balancer = h.Balancer(pool, Algorithms.FiveTupleHash);
        var assigned = Enumerable.Range(0, 5000).Select(i => balancer.PickOne(Flow(i))!).ToArray();
        var down = pool.Targets[3];

        down.ForceHealth(false);
        var during = Enumerable.Range(0, 5000).Select(i => balancer.PickOne(Flow(i))!).ToArray();
        down.ForceHealth(true);

        for (var i = 0; i < assigned.Length; i++)
        {
            Assert.NotSame(down, during[i]);
            if (!ReferenceEquals(assigned[i], down))
            {
                Assert.Same(assigned[i], during[i]);
            }
            Assert.Same(assigned[i], balancer.PickOne(Flow(i)));
        }
        // Deterministic fallback: the same flow lands on the same substitute every time.
        down.ForceHealth(false);
        for (var i = 0; i < 200; i++)
        {
            Assert.Same(during[i], balancer.PickOne(Flow(i)));
        }
    }

    [Fact]
    public async Task Weights_shape_the_share_of_flows()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(new UpstreamSpec("a:1", 1), new UpstreamSpec("b:1", 3));
        var balancer = h.Balancer(pool, Algorithms.FiveTupleHash);

        var counts = Enumerable.Range(0, 40_000).Select(i => balancer.PickOne(Flow(i))!.Address).GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());

        Assert.InRange(counts["b:1"] / 40_000.0, 0.70, 0.80);
    }

    [Fact]
    public async Task Missing_addresses_still_hash_and_an_excluded_target_is_skipped()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1");
        var balancer = h.Balancer(pool, Algorithms.FiveTupleHash);

        var target = balancer.PickOne(default)!;
        var other = balancer.PickOne(new PickContext { Exclude = target });

        Assert.NotSame(target, other);
    }
}
