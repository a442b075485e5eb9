using Lb.Core.Cluster;
using Lb.Core.Options;
using Lb.Core.Spec;
using Lb.Vip.Controller;
using Lb.Vip.Driver;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Vip.Tests;

/// <summary>The controller with the real Linux driver on a real interface, in a network namespace.</summary>
public sealed class ControllerInNamespaceTests : IDisposable
{
    private readonly NetnsLab _lab = new();

    [Fact]
    public async Task With_a_lease_the_vip_is_added_and_announced_and_it_is_gone_when_the_revocation_returns()
    {
        Assert.SkipWhen(NetnsLab.Unavailable is not null, NetnsLab.Unavailable ?? "");
        var node = _lab.Create("cnode");
        var peer = _lab.Create("cpeer");
        _lab.Link(node, "vnode", 1, peer, "vpeer", 2);
        var vip = $"{NetnsLab.Subnet}.100/24";
        using var capture = ArpCapture.Open(peer, _lab.Index(peer, "vpeer"));
        using var leadership = new LeaderLeaseSource();
        using var controller = new VipController(
            new InNamespace(node, new LinuxVipDriver()), leadership, new FakeStore(DesiredState.Empty),
            Microsoft.Extensions.Options.Options.Create(new LbNodeOptions { VipInterface = "vnode", VipAddress = vip }),
            Microsoft.Extensions.Options.Options.Create(new VipOptions()), TimeProvider.System, NullLogger<VipController>.Instance);
        await controller.StartAsync(TestContext.Current.CancellationToken);

        leadership.Grant(1, DateTimeOffset.UtcNow);
        var frames = new List<CapturedArp>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (frames.Count < 6 && DateTime.UtcNow < deadline)
        {
            frames.AddRange(capture.Drain(TimeSpan.FromMilliseconds(300)));
        }

        Assert.Contains(vip, _lab.Addresses(node, "vnode"));
        Assert.True(controller.Current.Owned);
        var mac = _lab.Mac(node, "vnode");
        Assert.Equal([1, 2, 1, 2, 1, 2], frames.Where(f => f.SenderMac == mac).Select(f => f.Operation));

        leadership.Revoke();

        Assert.DoesNotContain(vip, _lab.Addresses(node, "vnode"));
        await controller.StopAsync(TestContext.Current.CancellationToken);
        Assert.False(controller.Current.Owned);
    }

    [Fact]
    public async Task A_missing_interface_shows_in_last_error_and_the_controller_keeps_running()
    {
        Assert.SkipWhen(NetnsLab.Unavailable is not null, NetnsLab.Unavailable ?? "");
        var node = _lab.Create("enode");
        using var leadership = new LeaderLeaseSource();
        leadership.Grant(1, DateTimeOffset.UtcNow);
        using var controller = new VipController(
            new InNamespace(node, new LinuxVipDriver()), leadership, new FakeStore(DesiredState.Empty),
            Microsoft.Extensions.Options.Options.Create(new LbNodeOptions { VipInterface = "nosuch0", VipAddress = $"{NetnsLab.Subnet}.100/24" }),
            Microsoft.Extensions.Options.Options.Create(new VipOptions()), TimeProvider.System, NullLogger<VipController>.Instance);
        var reported = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        controller.StatusChanged += s =>
        {
            if (s.LastError is { } e)
            {
                reported.TrySetResult(e);
            }
        };

        await controller.StartAsync(TestContext.Current.CancellationToken);
        var error = await reported.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.StartsWith("vip add failed: no interface 'nosuch0'", error, StringComparison.Ordinal);
        Assert.Equal(VipState.Acquiring, controller.State);
        await controller.StopAsync(TestContext.Current.CancellationToken);
        Assert.Equal(VipState.Stopped, controller.State);
    }

    public void Dispose() => _lab.Dispose();

    /// <summary>Runs every driver call on a thread inside the node's namespace, as a process started there would.</summary>
    private sealed class InNamespace(string ns, IVipDriver inner) : IVipDriver
    {
        public void AddAddress(string interfaceName, VipCidr address, TimeSpan lifetime) => NetnsLab.In(ns, () => inner.AddAddress(interfaceName, address, lifetime));

        public void RemoveAddress(string interfaceName, VipCidr address) => NetnsLab.In(ns, () => inner.RemoveAddress(interfaceName, address));

        public void AnnounceAddress(string interfaceName, VipCidr address) => NetnsLab.In(ns, () => inner.AnnounceAddress(interfaceName, address));
    }
}
