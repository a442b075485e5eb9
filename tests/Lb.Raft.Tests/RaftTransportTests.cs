using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Lb.Raft.Transport;

namespace Lb.Raft.Tests;

/// <summary>
/// Lb's Raft connections start with the opener's Raft address, so a follower learns at once when its leader's
/// connection closes (the leader's process died) and does not wait for the dead leader in the election that follows.
/// </summary>
public sealed class RaftTransportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_listener_knows_which_peer_opened_a_connection_and_hears_when_that_peer_closes_it()
    {
        var failures = new PeerFailures(TimeProvider.System, TimeSpan.FromMinutes(5));
        var listenerFactory = new RaftListenerFactory(failures, TimeSpan.FromSeconds(30));
        var closedBy = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        listenerFactory.InboundClosed = peer => closedBy.TrySetResult(peer);
        await using var listener = await listenerFactory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), Ct);
        var connections = new RaftConnectionFactory(failures, "10.0.0.1:7000", TimeSpan.FromSeconds(5), TimeProvider.System);
        failures.Failed("10.0.0.1:7000");

        var client = await connections.ConnectAsync(listener.EndPoint, Ct);
        var inbound = await listener.AcceptAsync(Ct);
        Assert.NotNull(inbound);
        Assert.False(failures.IsDown(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 7000))); // it connected: reachable
        await client.DisposeAsync();
        var end = await inbound.Transport.Input.ReadAsync(Ct);

        Assert.True(end.IsCompleted);
        Assert.Equal("10.0.0.1:7000", await closedBy.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        await inbound.DisposeAsync();
    }

    [Fact]
    public async Task A_connection_without_the_preamble_reaches_DotNext_byte_for_byte()
    {
        var listenerFactory = new RaftListenerFactory(new PeerFailures(TimeProvider.System, TimeSpan.FromMinutes(5)), TimeSpan.FromSeconds(30));
        var closed = false;
        listenerFactory.InboundClosed = _ => closed = true;
        await using var listener = await listenerFactory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), Ct);
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(listener.EndPoint, Ct);
        await raw.SendAsync(new byte[] { 7, 1, 2, 3 }, Ct);

        await using var inbound = await listener.AcceptAsync(Ct);
        Assert.NotNull(inbound);
        var received = new List<byte>();
        while (received.Count < 4)
        {
            var read = await inbound.Transport.Input.ReadAsync(Ct);
            received.AddRange(read.Buffer.ToArray());
            inbound.Transport.Input.AdvanceTo(read.Buffer.End);
        }
        raw.Shutdown(SocketShutdown.Both);
        var end = await inbound.Transport.Input.ReadAsync(Ct);

        Assert.Equal(new byte[] { 7, 1, 2, 3 }, received);
        Assert.True(end.IsCompleted);
        Assert.False(closed); // an unnamed peer cannot be recorded
    }
}
