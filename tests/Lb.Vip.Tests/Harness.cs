using Lb.Core.Cluster;
using Lb.Core.Options;
using Lb.Core.Spec;
using Lb.Vip.Controller;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Lb.Vip.Tests;

/// <summary>A controller wired to a fake driver, fake leadership, a store in memory and fake time.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public const string Vip = "10.250.13.100/24";
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _progress = new(0);

    public Harness(VipOptions? options = null, string vipAddress = Vip, DesiredState? state = null)
    {
        Driver = new FakeVipDriver(Time);
        
        Store = new FakeStore(state ?? DesiredState.Empty);
        var node = new LbNodeOptions { VipInterface = "eth-test", VipAddress = vipAddress };
        Controller = new VipController(Driver, Leadership, Store, Microsoft.Extensions.Options.Options.Create(node),
            Microsoft.Extensions.Options.Options.Create(options ?? new VipOptions()), Time, NullLogger<VipController>.Instance);
        Driver.Changed += () => _progress.Release();
        Controller.StatusChanged += _ => _progress.Release();
        Controller.SettingsObserved += () => _progress.Release();
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero));
    public FakeVipDriver Driver { get; }
    /// <summary>The real lease source Lb.Raft uses: a lease per grant, revoked by cancelling its token.</summary>
    public LeaderLeaseSource Leadership { get; } = new();

    private long _term;

    public LeaderLease Grant() => Leadership.Grant(++_term, Time.GetUtcNow());
    public FakeStore Store { get; }
    public VipController Controller { get; }

    public Task StartAsync() => Controller.StartAsync(CancellationToken.None);

    /// <summary>Waits (without moving fake time) until <paramref name="condition"/> holds; fails after a real-time guard.</summary>
    public async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Guard;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"never happened: {what}; driver calls: {string.Join(", ", Driver.Calls.Select(c => c.Op))}; state {Controller.State}");
            await _progress.WaitAsync(TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>Moves fake time forward in <paramref name="step"/>s until <paramref name="condition"/> holds.</summary>
    public async Task AdvanceUntil(Func<bool> condition, TimeSpan step, string what)
    {
        var deadline = DateTime.UtcNow + Guard;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"never happened: {what}; driver calls: {string.Join(", ", Driver.Calls.Select(c => c.Op))}; state {Controller.State}");
            await _progress.WaitAsync(TimeSpan.FromMilliseconds(20));
            if (!condition())
            {
                Time.Advance(step);
            }
        }
    }

    /// <summary>Lets fake time run on for a while so anything that was going to happen does.</summary>
    public async Task Settle(TimeSpan span)
    {
        for (var t = TimeSpan.Zero; t < span; t += TimeSpan.FromMilliseconds(100))
        {
            await _progress.WaitAsync(TimeSpan.FromMilliseconds(5));
            Time.Advance(TimeSpan.FromMilliseconds(100));
        }
        await _progress.WaitAsync(TimeSpan.FromMilliseconds(20));
    }

    public async ValueTask DisposeAsync()
    {
        if (Controller.State != VipState.Stopped)
        {
            await Controller.StopAsync(CancellationToken.None);
        }
        Controller.Dispose();
        Leadership.Dispose();
    }
}
