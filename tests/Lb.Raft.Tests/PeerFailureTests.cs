using System.Net;
using System.Net.Sockets;
using Lb.Raft.Transport;
using Microsoft.Extensions.Time.Testing;

namespace Lb.Raft.Tests;

/// <summary>
/// A DotNext candidate waits for every pre-vote and vote; Lb's Raft connections do not make it wait a second time
/// for a peer that failed a moment ago (the vote after a pre-vote that found the old leader dead).
/// </summary>
public sealed class PeerFailureTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly EndPoint Peer = new IPEndPoint(IPAddress.Parse("192.0.2.7"), 7000);

    [Fact]
    public void A_failed_peer_is_down_for_the_hold_and_tried_again_after_it()
    {
        var time = new FakeTimeProvider();
        var failures = new PeerFailures(time, TimeSpan.FromMilliseconds(250));

        failures.Failed(Peer);
        Assert.True(failures.IsDown(Peer));
        Assert.True(failures.IsDown(new DnsEndPoint("192.0.2.7", 7000)));
        time.Advance(TimeSpan.FromMilliseconds(249));
        Assert.True(failures.IsDown(Peer));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(failures.IsDown(Peer));
    }

    [Fact]
    public void Reaching_a_peer_clears_its_failure_and_other_peers_are_not_affected()
    {
        var failures = new PeerFailures(new FakeTimeProvider(), TimeSpan.FromSeconds(1));

        failures.Failed(Peer);
        Assert.False(failures.IsDown(new IPEndPoint(IPAddress.Parse("192.0.2.8"), 7000)));
        failures.Reached(Peer);
        Assert.False(failures.IsDown(Peer));
    }

    [Fact]
    public async Task A_peer_that_closed_the_connection_is_not_connected_to_again_by_a_node_that_is_not_leading()
    {
        using var listener = Listen(out var address);
        var failures = new PeerFailures(TimeProvider.System, TimeSpan.FromMinutes(5));
        var factory = new RaftConnectionFactory(failures, "127.0.0.1:1", TimeSpan.FromSeconds(5), TimeProvider.System);

        await using (var connection = await factory.ConnectAsync(address, Ct))
        {
            using (await listener.AcceptAsync(Ct)) { } // the peer closes its end (a killed process)
            // End of stream, or a reset (the peer closed with our first bytes unread): either way the peer ended it.
            _ = await Record.ExceptionAsync(async () => await connection.Transport.Input.ReadAsync(Ct));
        }

        Assert.True(failures.IsDown(address));
        await Assert.ThrowsAsync<SocketException>(async () => await factory.ConnectAsync(address, Ct));
        Assert.False(listener.Poll(0, SelectMode.SelectRead)); // no connection attempt reached the peer
    }

    [Fact]
    public async Task A_leader_connects_to_a_peer_that_failed_and_the_success_clears_the_failure()
    {
        using var listener = Listen(out var address);
        var failures = new PeerFailures(TimeProvider.System, TimeSpan.FromMinutes(5));
        var factory = new RaftConnectionFactory(failures, "127.0.0.1:1", TimeSpan.FromSeconds(5), TimeProvider.System) { IsLeading = () => true };
        failures.Failed(address);

        await using var connection = await factory.ConnectAsync(address, Ct);
        using var accepted = await listener.AcceptAsync(Ct);

        Assert.False(failures.IsDown(address));
    }

    [Fact]
    public async Task A_connection_this_node_closes_does_not_count_against_the_peer()
    {
        using var listener = Listen(out var address);
        var failures = new PeerFailures(TimeProvider.System, TimeSpan.FromMinutes(5));
        var factory = new RaftConnectionFactory(failures, "127.0.0.1:1", TimeSpan.FromSeconds(5), TimeProvider.System);

        var connection = await factory.ConnectAsync(address, Ct);
        using var accepted = await listener.AcceptAsync(Ct);
        var pending = connection.Transport.Input.ReadAsync(Ct);
        connection.Abort();
        _ = await Record.ExceptionAsync(async () => await pending); // ends one way or another; only the peer's record matters

        Assert.False(failures.IsDown(address));
    }

    private static Socket Listen(out IPEndPoint address)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(8);
        address = (IPEndPoint)listener.LocalEndPoint!;
        return listener;
    }
}
