using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;

namespace Lb.Raft.Transport;

/// <summary>
/// The Raft port for DotNext's custom transport: a TCP listener bound as DotNext's own TCP transport binds. It reads
/// the opener's address from each connection (<see cref="RaftPreamble"/>): a peer that connects is reachable again
/// (<see cref="PeerFailures.Reached(string)"/>), and when it later closes the connection <see cref="InboundClosed"/>
/// is told which peer it was.
/// </summary>
/// <param name="failures">Peers that failed recently.</param>
/// <param name="preambleTimeout">How long a new connection may take to send its first bytes (it waits alone: other connections are accepted meanwhile).</param>
/// <param name="tieBreak">Crossing pre-votes (<see cref="PreVoteTieBreak"/>); null: none.</param>
/// <param name="tls">Mutual TLS (Raft TLS): the handshake comes first, within the preamble timeout; null: plain TCP.</param>
internal sealed class RaftListenerFactory(PeerFailures failures, TimeSpan preambleTimeout, PreVoteTieBreak? tieBreak = null,
    SslServerAuthenticationOptions? tls = null) : IConnectionListenerFactory
{
    private readonly SslServerAuthenticationOptions? _tls = tls;
    private readonly PeerFailures _failures = failures;
    private readonly TimeSpan _preambleTimeout = preambleTimeout;
    private readonly PreVoteTieBreak? _tieBreak = tieBreak;

    /// <summary>Called with the peer's Raft address when a peer closes a connection it opened to this node.</summary>
    public Action<string>? InboundClosed { get; set; }

    private const int Backlog = 64;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            socket.Listen(Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return ValueTask.FromResult<IConnectionListener>(new Listener(socket, this));
    }

    /// <summary>
    /// Accepts on a loop of its own and reads each connection's preamble in a task of its own, so a peer that is slow
    /// to send its first bytes (a starved process) never holds up the next connection; DotNext takes identified
    /// connections from a queue.
    /// </summary>
    private sealed class Listener : IConnectionListener
    {
        private readonly Socket _socket;
        private readonly RaftListenerFactory _owner;
        private readonly Channel<SocketConnection> _ready = Channel.CreateUnbounded<SocketConnection>(new UnboundedChannelOptions { SingleReader = true });
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;

        public Listener(Socket socket, RaftListenerFactory owner)
        {
            _socket = socket;
            _owner = owner;
            EndPoint = socket.LocalEndPoint!;
            _accepting = AcceptLoopAsync();
        }

        public EndPoint EndPoint { get; }

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return null; // unbound
            }
        }

        private async Task AcceptLoopAsync()
        {
            await Task.Yield(); // not on the binder's thread
            try
            {
                while (true)
                {
                    var accepted = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
                    accepted.NoDelay = true;
                    _ = IdentifyAsync(accepted);
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException or SocketException)
            {
                // Unbound.
            }
            finally
            {
                _ready.Writer.TryComplete();
            }
        }

        private async Task IdentifyAsync(Socket accepted)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(_owner._preambleTimeout);
            SslStream? secured = null;
            if (_owner._tls is { } tls)
            {
                secured = new SslStream(new NetworkStream(accepted, ownsSocket: true), leaveInnerStreamOpen: false);
                try
                {
                    await secured.AuthenticateAsServerAsync(tls, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // A refused certificate (logged by the validation callback), no TLS at all, or too slow.
                    await secured.DisposeAsync().ConfigureAwait(false);
                    return;
                }
            }
            var connection = new SocketConnection(accepted, secured);
            if (_owner._tieBreak is { } tieBreak)
            {
                connection.Watch = new PreVoteWatch.Inbound(tieBreak);
            }
            try
            {
                if (await RaftPreamble.ReadAsync(connection.Transport.Input, timeout.Token).ConfigureAwait(false) is { } peer)
                {
                    _owner._failures.Reached(peer);
                    connection.PeerClosed = () => _owner.InboundClosed?.Invoke(peer);
                    if (connection.Watch is PreVoteWatch.Inbound watch)
                    {
                        watch.Peer = peer;
                    }
                }
                if (!_ready.Writer.TryWrite(connection))
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // Sent nothing in time, or dropped at once: not a Raft peer's connection.
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            Stop();
            return ValueTask.CompletedTask;
        }

        public async ValueTask DisposeAsync()
        {
            Stop();
            await _accepting.ConfigureAwait(false);
            while (_ready.Reader.TryRead(out var pending))
            {
                await pending.DisposeAsync().ConfigureAwait(false);
            }
        }

        private void Stop()
        {
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Stopped already.
            }
            _socket.Dispose();
        }
    }
}
