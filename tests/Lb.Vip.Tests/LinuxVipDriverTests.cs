using Lb.Core.Spec;
using Lb.Vip.Driver;

namespace Lb.Vip.Tests;

/// <summary>The real driver against real interfaces, inside throw-away network namespaces.</summary>
public sealed class LinuxVipDriverTests : IDisposable
{
    private static readonly VipCidr Vip = Parse($"{NetnsLab.Subnet}.100/24");
    private readonly NetnsLab _lab = new();
    private readonly LinuxVipDriver _driver = new();
    private string _node = "";
    private string _peer = "";

    private void Topology()
    {
        Assert.SkipWhen(NetnsLab.Unavailable is not null, NetnsLab.Unavailable ?? "");
        _node = _lab.Create("node");
        _peer = _lab.Create("peer");
        _lab.Link(_node, "vnode", 1, _peer, "vpeer", 2);
    }

    [Fact]
    public void Add_puts_the_vip_on_the_interface_and_adding_again_is_not_an_error()
    {
        Topology();

        NetnsLab.In(_node, () => _driver.AddAddress("vnode", Vip, Timeout.InfiniteTimeSpan));
        NetnsLab.In(_node, () => _driver.AddAddress("vnode", Vip, Timeout.InfiniteTimeSpan));

        Assert.Equal([$"{NetnsLab.Subnet}.1/24", $"{NetnsLab.Subnet}.100/24"], _lab.Addresses(_node, "vnode"));
    }

    [Fact]
    public void With_a_lifetime_the_kernel_deletes_the_vip_unless_it_is_renewed()
    {
        Topology();

        NetnsLab.In(_node, () => _driver.AddAddress("vnode", Vip, TimeSpan.FromSeconds(1)));

        Assert.InRange(_lab.ValidLifetime(_node, "vnode", Vip.ToString()), 0, 1);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_lab.Addresses(_node, "vnode").Contains(Vip.ToString()) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(100);
        }
        Assert.DoesNotContain(Vip.ToString(), _lab.Addresses(_node, "vnode"));
    }

    [Fact]
    public void Adding_with_a_lifetime_renews_it_and_adding_permanently_makes_it_permanent_again()
    {
        Topology();
        NetnsLab.In(_node, () => _driver.AddAddress("vnode", Vip, TimeSpan.FromSeconds(30)));
        Assert.InRange(_lab.ValidLifetime(_node, "vnode", Vip.ToString()), 25, 30);

        NetnsLab.In(_node, () => _driver.AddAddress("vnode", Vip, TimeSpan.FromSeconds(300)));
        Assert.InRange(_lab.ValidLifetime(_node, "vnode", Vip.ToString()), 295, 300);

        NetnsLab.In(_node, () => _driver.AddAddress("vnode", Vip, Timeout.InfiniteTimeSpan));
        Assert.Equal(uint.MaxValue, (uint)_lab.ValidLifetime(_node, "vnode", Vip.ToString()));
        Assert.Equal([$"{NetnsLab.Subnet}.1/24", Vip.ToString()], _lab.Addresses(_node, "vnode"));
    }

    [Fact]
    public void Remove_takes_the_vip_off_and_removing_an_absent_vip_is_not_an_error()
    {
        Topology();
        NetnsLab.In(_node, () => _driver.AddAddress("vnode", Vip, Timeout.InfiniteTimeSpan));

        NetnsLab.In(_node, () => _driver.RemoveAddress("vnode", Vip));
        NetnsLab.In(_node, () => _driver.RemoveAddress("vnode", Vip));

        Assert.Equal([$"{NetnsLab.Subnet}.1/24"], _lab.Addresses(_node, "vnode"));
    }

    [Fact]
    public void The_vip_answers_from_the_peer_once_added_and_stops_once_removed()
    {
        Topology();
        NetnsLab.In(_node, () => _driver.AddAddress("vnode", Vip, Timeout.InfiniteTimeSpan));
        Assert.True(Ping(_peer, Vip), "the peer reaches the VIP on the node");

        NetnsLab.In(_node, () => _driver.RemoveAddress("vnode", Vip));
        Assert.False(Ping(_peer, Vip), "the VIP is gone");
    }

    [Fact]
    public void Announce_broadcasts_a_gratuitous_request_and_reply_from_the_interface_mac()
    {
        Topology();
        var mac = _lab.Mac(_node, "vnode");
        NetnsLab.In(_node, () => _driver.AddAddress("vnode", Vip, Timeout.InfiniteTimeSpan));
        using var capture = ArpCapture.Open(_peer, _lab.Index(_peer, "vpeer"));

        NetnsLab.In(_node, () => _driver.AnnounceAddress("vnode", Vip));

        var frames = capture.Drain(TimeSpan.FromMilliseconds(300)).Where(f => f.SenderIp.Equals(Vip.Address)).ToList();
        Assert.Equal([1, 2], frames.Select(f => f.Operation));
        Assert.All(frames, f =>
        {
            Assert.Equal("ff:ff:ff:ff:ff:ff", f.DestinationMac);
            Assert.Equal(mac, f.SourceMac);
            Assert.Equal(mac, f.SenderMac);
            Assert.Equal(Vip.Address, f.TargetIp);
            Assert.Equal(60, f.Length);
        });
        Assert.Equal("00:00:00:00:00:00", frames[0].TargetMac);
        Assert.Equal("ff:ff:ff:ff:ff:ff", frames[1].TargetMac);
    }

    [Fact]
    public void Announce_moves_a_neighbour_cache_entry_that_pointed_at_another_host()
    {
        Topology();
        NetnsLab.Ip($"-n {_peer} neigh replace {Vip.Address} lladdr 02:00:00:00:00:01 dev vpeer nud stale");
        NetnsLab.In(_node, () => _driver.AddAddress("vnode", Vip, Timeout.InfiniteTimeSpan));

        NetnsLab.In(_node, () => _driver.AnnounceAddress("vnode", Vip));

        Assert.Contains($"lladdr {_lab.Mac(_node, "vnode")}", NetnsLab.Ip($"-n {_peer} neigh show {Vip.Address} dev vpeer"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_interface_is_a_driver_error_that_names_it_and_removing_from_it_is_not_an_error()
    {
        Topology();

        var add = Assert.Throws<VipDriverException>(() => NetnsLab.In(_node, () => _driver.AddAddress("nosuch0", Vip, Timeout.InfiniteTimeSpan)));
        var announce = Assert.Throws<VipDriverException>(() => NetnsLab.In(_node, () => _driver.AnnounceAddress("nosuch0", Vip)));
        NetnsLab.In(_node, () => _driver.RemoveAddress("nosuch0", Vip));

        Assert.Contains("no interface 'nosuch0'", add.Message, StringComparison.Ordinal);
        Assert.StartsWith("vip add failed", add.Message, StringComparison.Ordinal);
        Assert.StartsWith("vip garp announce failed", announce.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// True when a TCP connect from <paramref name="ns"/> to the VIP is refused at once (a host owns the address and
    /// has no listener on that port); false when it goes unanswered (nobody owns it).
    /// </summary>
    private static bool Ping(string ns, VipCidr vip) => NetnsLab.In(ns, () =>
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            socket.ConnectAsync(new System.Net.IPEndPoint(vip.Address, 9), new CancellationTokenSource(TimeSpan.FromSeconds(2)).Token).AsTask().GetAwaiter().GetResult();
            return true;
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused)
        {
            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    });

    private static VipCidr Parse(string s) => VipCidr.TryParse(s, out var v, out _) ? v : throw new ArgumentException(s);

    public void Dispose() => _lab.Dispose();
}
