using System.Diagnostics;
using static Tmds.Linux.LibC;

namespace Lb.Vip.Tests;

/// <summary>
/// Issue 13's scenario end to end: three real Lb.Server processes in network namespaces on one bridge, one Raft cluster
/// formed through the CLI, the VIP on the leader, a client in its own namespace talking to http://VIP:8080/.
/// One class, so the two clusters never run at the same time on a small CI machine.
/// </summary>
public sealed class ClusterFailoverInNamespacesTests
{
    [Fact]
    public async Task When_the_leader_host_dies_the_client_gets_a_good_answer_through_the_vip_from_the_new_owner_within_5_s()
    {
        Assert.SkipWhen(NetnsLab.Unavailable is not null, NetnsLab.Unavailable ?? "");
        await using var cluster = await NamespaceCluster.StartAsync();
        var owner = await cluster.WaitForSingleOwnerAsync();
        var before = cluster.Get();
        Assert.Equal(200, before.Status);
        Assert.Equal($"backend via {owner.Ip}", before.Body);

        using var probe = cluster.StartProbe(TimeSpan.FromMilliseconds(20));
        var killedAt = Stopwatch.GetTimestamp();
        owner.Process!.Kill();
        cluster.LinkDown(owner);
        var first = await probe.FirstAsync(killedAt, a => a.Status == 200 && a.Body.StartsWith("backend via ", StringComparison.Ordinal)
            && a.Body != $"backend via {owner.Ip}");

        var took = Stopwatch.GetElapsedTime(killedAt, first.At);
        TestContext.Current.TestOutputHelper?.WriteLine($"{owner} killed; first good answer from another node after {took.TotalMilliseconds:F0} ms");
        Assert.True(took < TimeSpan.FromSeconds(5), $"first good answer after {took.TotalMilliseconds:F0} ms\n{cluster.Describe()}");
        var newOwner = await cluster.WaitForSingleOwnerAsync();
        Assert.NotEqual(owner, newOwner);
        Assert.Equal($"backend via {newOwner.Ip}", first.Body);
    }

    [Fact]
    public async Task A_paused_leader_loses_the_vip_to_the_new_leader_and_once_resumed_never_holds_it_again()
    {
        Assert.SkipWhen(NetnsLab.Unavailable is not null, NetnsLab.Unavailable ?? "");
        await using var cluster = await NamespaceCluster.StartAsync();
        var owner = await cluster.WaitForSingleOwnerAsync();

        Assert.Equal(0, kill(owner.Process!.Id, SIGSTOP));
        // While it is stopped, another node is elected and takes the VIP (the kernel lifetime takes it off the frozen one).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!cluster.Holders().Any(n => n != owner))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no other node took the VIP while {owner} was stopped\n{cluster.Describe()}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal(0, kill(owner.Process.Id, SIGCONT));
        var resumedAt = Stopwatch.GetTimestamp();
        // One lease period of the address (its 1 s kernel lifetime) after the resume, and from then on, one holder only,
        // and not the old leader: it gave the address up as soon as it ran again instead of renewing it.
        var samples = new List<(TimeSpan After, string Holders)>();
        while (Stopwatch.GetElapsedTime(resumedAt) < TimeSpan.FromSeconds(3))
        {
            var holders = cluster.Holders();
            samples.Add((Stopwatch.GetElapsedTime(resumedAt), string.Join(",", holders.Select(h => h.Id))));
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join("\n", samples.Select(s => $"{s.After.TotalMilliseconds:F0} ms after SIGCONT: [{s.Holders}]")));
        var late = samples.Where(s => s.After > TimeSpan.FromSeconds(1)).ToList();
        Assert.NotEmpty(late);
        Assert.All(late, s => Assert.True(s.Holders.Length > 0 && !s.Holders.Contains(',', StringComparison.Ordinal)
            && s.Holders != owner.Id, $"holders {s.Holders} {s.After.TotalMilliseconds:F0} ms after SIGCONT\n{cluster.Describe()}"));
        var newOwner = await cluster.WaitForSingleOwnerAsync();
        Assert.NotEqual(owner, newOwner);
        Assert.False(owner.Process.HasExited);
    }
}
